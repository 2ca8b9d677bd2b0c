"""Form pieces every module uses: field validators for the domain's formats and limits."""

import re

from email_validator import EmailNotValidError, validate_email
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, ValidationError
from wtforms.validators import DataRequired, Length, Optional

from portal.tenancy import SLUG_PATTERN

PASSWORD_MIN = 10
PASSWORD_MAX = 200


def required(message: str = "This field is required."):
    return DataRequired(message=message)


def _valid_email(_form, field):
    if not field.data:
        return
    try:
        # test_environment admits reserved names such as owner@demo.test, which the demo and tests use.
        validate_email(field.data, check_deliverability=False, test_environment=True)
    except EmailNotValidError as error:
        raise ValidationError("Enter a valid e-mail address.") from error


def email_address(max_length: int = 254):
    return [Length(max=max_length, message=f"At most {max_length} characters."), _valid_email]


def at_most(n: int):
    return Length(max=n, message=f"At most {n} characters.")


def new_password():
    return [required(), Length(min=PASSWORD_MIN, max=PASSWORD_MAX,
                               message=f"Use {PASSWORD_MIN} to {PASSWORD_MAX} characters.")]


def optional():
    return Optional()


def valid_slug(_form, field):
    slug = (field.data or "").strip().lower()
    if not SLUG_PATTERN.match(slug) or ".." in slug:
        raise ValidationError("Use 3 to 63 lowercase letters, digits, dots and hyphens, e.g. acme.io.")
    field.data = slug


def no_control_characters(_form, field):
    if field.data and re.search(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", field.data):
        raise ValidationError("Remove the control characters.")


def strip(value):
    return value.strip() if isinstance(value, str) else value


def single_line(_form, field):
    """A name or a title: one line, no control characters (it may end up in a mail header)."""
    if field.data and re.search(r"[\x00-\x1f\x7f]", field.data):
        raise ValidationError("Use one line without control characters.")


class ConfirmForm(FlaskForm):
    """A form with only the CSRF token: a button that changes something."""


class LoginForm(FlaskForm):
    """E-mail and password, for the vendor login and a portal's login alike."""

    email = EmailField("E-mail", filters=[strip], render_kw={"autocomplete": "username"},
                       validators=[required(), *email_address()])
    password = PasswordField("Password", render_kw={"autocomplete": "current-password"}, validators=[required()])


class ResetPasswordForm(FlaskForm):
    """A new password, typed twice."""

    password = PasswordField("New password", render_kw={"autocomplete": "new-password"}, validators=new_password())
    confirm = PasswordField("Repeat the new password", render_kw={"autocomplete": "new-password"},
                            validators=[required()])

    def validate_confirm(self, field):
        if field.data != self.password.data:
            raise ValidationError("The two passwords differ.")


class ChangePasswordForm(ResetPasswordForm):
    """A new password, and the current one to prove it is the owner asking."""

    current_password = PasswordField("Current password", render_kw={"autocomplete": "current-password"},
                                     validators=[required()])
