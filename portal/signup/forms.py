"""The forms of the portal's ways in: the generic sign-up and the two halves of the association page."""

from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, StringField

from portal.forms import (
    at_most,
    email_address,
    new_password,
    optional,
    required,
    single_line,
    strip,
)
from portal.models import NAME_MAX


class SignUpForm(FlaskForm):
    name = StringField("Your name", filters=[strip], render_kw={"autocomplete": "name"},
                       validators=[required(), at_most(NAME_MAX), single_line])
    email = EmailField("E-mail", filters=[strip], render_kw={"autocomplete": "email"},
                       validators=[required(), *email_address(NAME_MAX)])
    company_name = StringField("Company", filters=[strip], render_kw={"autocomplete": "organization"},
                               validators=[optional(), at_most(NAME_MAX), single_line])
    password = PasswordField("Password", render_kw={"autocomplete": "new-password"}, validators=new_password())


class AssociateNewForm(FlaskForm):
    name = StringField("Your name", filters=[strip], render_kw={"autocomplete": "name"},
                       validators=[required(), at_most(NAME_MAX), single_line])
    email = EmailField("E-mail", filters=[strip], render_kw={"autocomplete": "email"},
                       validators=[required(), *email_address(NAME_MAX)])
    password = PasswordField("Password", render_kw={"autocomplete": "new-password"}, validators=new_password())


class AssociateExistingForm(FlaskForm):
    email = EmailField("E-mail", filters=[strip], render_kw={"autocomplete": "username"},
                       validators=[required(), *email_address()])
    password = PasswordField("Password", render_kw={"autocomplete": "current-password"}, validators=[required()])


class ConfirmLoginForm(FlaskForm):
    """The mailed link's page: the password chosen when asking, which ties the confirmation to the person who chose
    it (someone else asking with the same e-mail gets a link of its own, which this password does not open)."""

    password = PasswordField("The password you chose", render_kw={"autocomplete": "current-password"},
                             validators=[required()])
