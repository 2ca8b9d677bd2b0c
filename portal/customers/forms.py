"""The customer form a vendor fills in to create or edit a customer."""

from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, StringField, TextAreaField

from portal.forms import (
    IntegerField,
    at_most,
    between,
    email_address,
    no_control_characters,
    optional,
    single_line,
    strip,
)
from portal.models import ID_MAX, NAME_MAX, NOTES_MAX


class CustomerForm(FlaskForm):
    name = StringField("Name", filters=[strip], validators=[optional(), at_most(NAME_MAX), single_line])
    email = EmailField("E-mail", filters=[strip], validators=[optional(), *email_address(NAME_MAX)])
    company_name = StringField("Company", filters=[strip],
                               validators=[optional(), at_most(NAME_MAX), single_line])
    notes = TextAreaField("Notes", validators=[optional(), at_most(NOTES_MAX), no_control_characters])
    allow_activation_management = BooleanField("Customer may deactivate machines in the portal")
    allow_multiple_user_association = BooleanField("More than one portal login may join this customer")
    max_no_of_devices = IntegerField("Maximum number of devices", default=0, validators=[
        optional(), between(0, ID_MAX, f"Give a whole number from 0 to {ID_MAX:,}.")],
        description="0 means no limit.")

    def validate(self, extra_validators=None):
        if not super().validate(extra_validators):
            return False
        if not (self.name.data or self.email.data or self.company_name.data):
            self.name.errors = [*self.name.errors, "Give at least a name, an e-mail or a company."]
            return False
        return True

    def values(self) -> dict:
        return {
            "name": self.name.data or "",
            "email": self.email.data or "",
            "company_name": self.company_name.data or "",
            "notes": self.notes.data or "",
            "allow_activation_management": self.allow_activation_management.data,
            "allow_multiple_user_association": self.allow_multiple_user_association.data,
            "max_no_of_devices": self.max_no_of_devices.data or 0,
        }


class NewCustomerForm(CustomerForm):
    enable_customer_association = BooleanField("Enable customer association (make a sign-up link for them)")
