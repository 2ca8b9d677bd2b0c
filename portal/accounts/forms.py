"""The portal account's own forms: forgotten password (the others are shared in portal/forms.py)."""

from flask_wtf import FlaskForm
from wtforms import EmailField

from portal.forms import ChangePasswordForm, ResetPasswordForm, email_address, required, strip

__all__ = ["ChangePasswordForm", "ForgotPasswordForm", "ResetPasswordForm"]


class ForgotPasswordForm(FlaskForm):
    email = EmailField("E-mail", filters=[strip], render_kw={"autocomplete": "username"},
                       validators=[required(), *email_address()])
