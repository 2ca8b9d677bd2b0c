from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, ValidationError

from portal.forms import email_address, new_password, required, strip


class ForgotPasswordForm(FlaskForm):
    email = EmailField("E-mail", filters=[strip], render_kw={"autocomplete": "username"},
                       validators=[required(), *email_address()])


class ResetPasswordForm(FlaskForm):
    password = PasswordField("New password", render_kw={"autocomplete": "new-password"}, validators=new_password())
    confirm = PasswordField("Repeat the new password", render_kw={"autocomplete": "new-password"},
                            validators=[required()])

    def validate_confirm(self, field):
        if field.data != self.password.data:
            raise ValidationError("The two passwords differ.")


class ChangePasswordForm(ResetPasswordForm):
    current_password = PasswordField("Current password", render_kw={"autocomplete": "current-password"},
                                     validators=[required()])
