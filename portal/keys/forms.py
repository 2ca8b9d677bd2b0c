"""The key forms: a new key, bulk keys, and the key page's details, extend and change-customer forms."""

from datetime import UTC, datetime, time

from flask_wtf import FlaskForm
from wtforms import BooleanField, StringField, ValidationError

from portal.forms import (
    DateField,
    IntegerField,
    SelectField,
    at_most,
    between,
    given,
    optional,
    required,
    single_line,
    strip,
)
from portal.keys.batches import MAX_KEYS
from portal.keys.services import MAX_PERIOD_DAYS, KeySettings
from portal.models import FEATURES, ID_MAX, KEY_NOTES_MAX, utcnow


def _optional_customer(value):
    """The picker's choice: None for "no customer", else an id (a ValueError becomes the field's error)."""
    if value in (None, "", "none"):
        return None
    if isinstance(value, int):
        return value
    if not value.isdecimal() or len(value) > 10 or not 0 < int(value) <= ID_MAX:
        raise ValueError("Choose one of your customers.")
    return int(value)


def _searched(typed):
    return typed and typed[:200]


class CustomerPicker:
    """The customer picker's inputs: the search typed, the customer chosen, and the search the listed choices are
    of. Typed text with no customer chosen is refused, so a key is never given to nobody because a match was shown
    but not clicked; so is a choice made in a list of an earlier search (sent before the list caught up with the
    typing), so a key never goes to the customer the search has moved away from."""

    customer_id = StringField("Customer", filters=[_optional_customer])
    customer_search = StringField("Find a customer", filters=[strip, _searched])
    choices_of = StringField(filters=[strip, _searched])
    without_customer = "the key without a customer"

    def validate_customer_id(self, field):
        typed = self.customer_search.data or ""
        shown = typed if len(typed) <= 40 else typed[:40] + "…"
        if field.data is None and typed:
            raise ValidationError(f"You typed “{shown}” but chose no customer. Choose one below, or clear the "
                                  f"search to leave {self.without_customer}.")
        if field.data is not None and typed != (self.choices_of.data or ""):
            raise ValidationError(f"The list had not yet caught up with “{shown}”. Check the customer chosen below, "
                                  "then submit again.")


class KeyDetailsForm(FlaskForm):
    """Notes, features, machine limit and countdown flag: what the key page changes, and new keys start with."""

    notes = StringField("Notes", validators=[optional(), at_most(KEY_NOTES_MAX), single_line])
    max_no_of_machines = IntegerField(
        "Maximum number of machines", default=0, description="0 means no limit.",
        validators=[optional(), between(0, ID_MAX, f"Give a whole number from 0 to {ID_MAX:,}.")])
    trial_activation = BooleanField(
        "Start countdown upon activation",
        description="With a machine limit, the period runs from each new machine's activation (Cryptolens' trial "
                    "activation; from the first machine's only where the product's cryptolens_trialactivation is "
                    "first_activation): a key made ahead of time loses no days.")
    f1 = BooleanField("F1")
    f2 = BooleanField("F2")
    f3 = BooleanField("F3")
    f4 = BooleanField("F4")
    f5 = BooleanField("F5")
    f6 = BooleanField("F6")
    f7 = BooleanField("F7")
    f8 = BooleanField("F8")

    def validate_trial_activation(self, field):
        if field.data and not self.max_no_of_machines.data:
            raise ValidationError("Give a maximum number of machines too: the countdown starts with each new machine, "
                                  "up to that number.")

    def name_features(self, product) -> None:
        for n in range(1, 9):
            getattr(self, f"f{n}").label.text = product.feature_name(n)

    def feature_fields(self):
        return [getattr(self, name) for name in FEATURES]

    def features(self) -> dict[str, bool]:
        return {name: bool(getattr(self, name).data) for name in FEATURES}


class NewKeyForm(CustomerPicker, KeyDetailsForm):
    product_id = SelectField("Product", coerce=int, validators=[required("Choose a product.")])
    period = IntegerField("Period in days", default=30, validators=[
        optional(), between(0, MAX_PERIOD_DAYS, f"Give 1 to {MAX_PERIOD_DAYS:,} days.")])
    expires = DateField("Or an explicit expiry date", validators=[optional()])

    def validate_expires(self, field):
        if field.data is not None and field.data < utcnow().date():
            raise ValidationError("Choose today or a later date.")

    def validate(self, extra_validators=None):
        valid = super().validate(extra_validators)
        if valid and self.period.data is None and self.expires.data is None:
            self.period.errors = [*self.period.errors, "Give a period or an expiry date."]
            return False
        if valid and self.period.data == 0 and self.expires.data is None:  # expired as it is made
            self.period.errors = [*self.period.errors, f"Give 1 to {MAX_PERIOD_DAYS:,} days, or an expiry date."]
            return False
        return valid

    def settings(self) -> KeySettings:
        expires = datetime.combine(self.expires.data, time(23, 59, 59), tzinfo=UTC) if self.expires.data else None
        return KeySettings(period=self.period.data or 0, expires=expires, features=self.features(),
                           notes=self.notes.data or "", max_no_of_machines=self.max_no_of_machines.data or 0,
                           trial_activation=self.trial_activation.data, customer_id=self.customer_id.data)


class BulkKeysForm(NewKeyForm):
    without_customer = "the keys without a customer"
    count = IntegerField("How many keys", default=100, validators=[
        given("Say how many keys to make."),
        between(1, MAX_KEYS, f"Make between 1 and {MAX_KEYS:,} keys at a time.")])


class ExtendForm(FlaskForm):
    days = IntegerField("Extend by days", default=30, validators=[
        given("Give a number of days."),
        between(-MAX_PERIOD_DAYS, MAX_PERIOD_DAYS,
                f"Give a number of days from -{MAX_PERIOD_DAYS:,} to {MAX_PERIOD_DAYS:,} (less than 0 shortens it).")])

    def validate_days(self, field):
        if field.data == 0:
            raise ValidationError("Extending by 0 days changes nothing: give the days to add, or less than 0 to "
                                  "shorten it.")


class ChangeCustomerForm(CustomerPicker, FlaskForm):
    """The key page's change of customer (the picker's fields only)."""
