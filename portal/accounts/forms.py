"""The portal account's own forms: forgotten password, the customer's details (the others are shared in
portal/forms.py)."""

from flask_wtf import FlaskForm
from wtforms import StringField

from portal.forms import (
    ChangePasswordForm,
    ForgotPasswordForm,
    ResetPasswordForm,
    at_most,
    optional,
    single_line,
    strip,
)
from portal.models import NAME_MAX

__all__ = ["ChangePasswordForm", "DetailsForm", "ForgotPasswordForm", "ResetPasswordForm"]


class DetailsForm(FlaskForm):
    """The customer's own name and company."""

    name = StringField("Your name", filters=[strip], render_kw={"autocomplete": "name"},
                       validators=[optional(), at_most(NAME_MAX), single_line])
    company_name = StringField("Company", filters=[strip], render_kw={"autocomplete": "organization"},
                               validators=[optional(), at_most(NAME_MAX), single_line])
