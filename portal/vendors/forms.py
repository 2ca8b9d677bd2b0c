"""The vendor's forms: registration and the portal settings."""

from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, StringField

from portal.forms import (
    IntegerField,
    at_most,
    between,
    email_address,
    new_password,
    optional,
    required,
    single_line,
    strip,
    valid_slug,
)
from portal.keys.reminders import MAX_DAYS
from portal.models import NAME_MAX


class CompanyNameForm(FlaskForm):
    """The company's name, given at registration and changed in Settings: customers see it everywhere."""

    name = StringField("Company name", filters=[strip],
                       validators=[required(), at_most(NAME_MAX), single_line])


class _CompanyForm(CompanyNameForm):
    slug = StringField("Portal address", filters=[strip], validators=[required(), valid_slug])


class RegisterForm(_CompanyForm):
    """A registration's first step: the mailed link proves the e-mail before anything is made."""

    email = EmailField("Your e-mail", filters=[strip], render_kw={"autocomplete": "email"},
                       validators=[required(), *email_address()])


class FinishRegistrationForm(_CompanyForm):
    """A registration's last step, from the mailed link: the company and the address again, and the password."""

    password = PasswordField("Password", render_kw={"autocomplete": "new-password"}, validators=new_password())


class SettingsForm(FlaskForm):
    portal_enabled = BooleanField("Customer portal is on")
    signup_enabled = BooleanField("Anyone with the sign-up link may create an account")
    block_expired_keys = BooleanField("Block keys when they expire (keys managed by Stripe follow their subscription)")
    mail_new_licenses = BooleanField("Mail customers about new licenses (a link to the portal, never the key)")


class ReminderSettingsForm(FlaskForm):
    """The expiry reminder: how many days before a key expires its customer is mailed (0: never)."""

    remind_days_before_expiry = IntegerField(
        "Days before expiry", default=0, description="0 turns the reminder off.",
        validators=[optional(), between(0, MAX_DAYS, f"Give a whole number of days from 0 to {MAX_DAYS}.")])
