"""The vendor's Stripe forms: connect, policy, and a product's prices and their key settings. The services' rules
check each field as well, so that every field's error shows at once."""

from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired

from portal.billing import plans
from portal.billing.connection import GRACE_DAYS_MAX, ON_CANCEL, valid_secret_key, valid_webhook_secret
from portal.billing.skm import MACHINES_MAX, TRIAL_DAYS_MAX, Skm
from portal.forms import (
    IntegerField,
    RadioField,
    SelectField,
    at_most,
    between,
    by_rule,
    optional,
    required,
    single_line,
    strip,
)


def _plan_name_field() -> StringField:
    """The price's nickname in Stripe: what the portal's customers see beside the product's name."""
    return StringField("Plan name", filters=[strip], validators=[optional(), at_most(plans.PLAN_NAME_MAX), single_line],
                       description="What customers see beside the product's name, e.g. Pro or Team; empty: how "
                                   "often it is billed (Monthly).")


class ConnectStripeForm(FlaskForm):
    # Never filled in again: what is kept is shown by its last four characters only.
    secret_key = PasswordField("Secret or restricted key", filters=[strip], render_kw={"autocomplete": "off"},
                               validators=[required(), at_most(255), by_rule(valid_secret_key)])
    webhook_secret = PasswordField("Webhook signing secret", filters=[strip], render_kw={"autocomplete": "off"},
                                   validators=[required(), at_most(255), by_rule(valid_webhook_secret)])


class StripePolicyForm(FlaskForm):
    grace_days = IntegerField("Grace days after a period ends", validators=[
        InputRequired("Give a number of days."),
        between(0, GRACE_DAYS_MAX, f"Give between 0 and {GRACE_DAYS_MAX} days.")])
    on_cancel = RadioField("When a subscription ends", default="expire",
                           choices=[SelectChoice(value, label) for value, label in ON_CANCEL.items()])


class LinkPriceForm(FlaskForm):
    stripe_price_id = StringField("Stripe price id", filters=[strip], render_kw={"placeholder": "price_…"},
                                  validators=[required("Paste a price id from Stripe (price_…)."), at_most(255)])


class NewPriceForm(FlaskForm):
    name = _plan_name_field()
    amount = StringField("Amount", filters=[strip], render_kw={"inputmode": "decimal", "placeholder": "9.99"},
                         validators=[required(), at_most(20), by_rule(plans.valid_amount)])
    currency = StringField("Currency", filters=[strip], default="usd",
                           validators=[required(), at_most(3), by_rule(plans.valid_currency)])
    interval = SelectField("Billed every", default="month",
                           validators=[required("Choose how often the customer pays.")],
                           choices=[SelectChoice(value, label) for value, label in plans.INTERVALS.items()])


class PriceSettingsForm(FlaskForm):
    """The plan's name and the `skm` of its price: the features a subscriber's key gets, its machine limit, the
    trial days."""

    name = _plan_name_field()

    f1 = BooleanField()
    f2 = BooleanField()
    f3 = BooleanField()
    f4 = BooleanField()
    f5 = BooleanField()
    f6 = BooleanField()
    f7 = BooleanField()
    f8 = BooleanField()
    max_no_of_machines = IntegerField("Maximum number of machines", default=0, description="0 means no limit.",
                                      validators=[InputRequired("Give a number of machines."),
                                                  between(0, MACHINES_MAX, f"Give 0 to {MACHINES_MAX:,}.")])
    trial_days = IntegerField("Trial days at Checkout (0 = none)", default=0, validators=[
        InputRequired("Give a number of days."), between(0, TRIAL_DAYS_MAX, f"Give 0 to {TRIAL_DAYS_MAX} days.")])

    def name_features(self, product) -> None:
        for n in range(1, 9):
            self[f"f{n}"].label.text = product.feature_name(n)

    def feature_fields(self):
        return [self[f"f{n}"] for n in range(1, 9)]

    def fill(self, skm: Skm) -> None:
        for n in range(1, 9):
            self[f"f{n}"].data = bool(skm.features.get(f"f{n}"))
        self.max_no_of_machines.data, self.trial_days.data = skm.max_no_of_machines, skm.trial_days

    def fill_name(self, price) -> None:
        self.name.data = price.nickname

    def skm(self, kept: Skm) -> Skm:
        """The settings from the form; the entries it does not show (Notes, ProductId) are kept as they were."""
        return Skm(features={f"f{n}": True for n in range(1, 9) if self[f"f{n}"].data},
                   max_no_of_machines=self.max_no_of_machines.data, trial_days=self.trial_days.data,
                   notes=kept.notes, product_id=kept.product_id)
