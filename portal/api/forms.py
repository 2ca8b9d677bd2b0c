"""The vendor's form for a new Web API access token."""

from flask_wtf import FlaskForm
from wtforms import StringField, widgets
from wtforms.fields.choices import SelectChoice

from portal.api.tokens import GROUP_LABELS, GROUPS
from portal.forms import SelectField, SelectMultipleField, at_most, required, single_line, strip
from portal.models import NAME_MAX


class TokenForm(FlaskForm):
    name = StringField("Name", filters=[strip],
                       validators=[required("Give the token a name."), at_most(NAME_MAX), single_line])
    scopes = SelectMultipleField("Methods it may call", choices=[SelectChoice(g, GROUP_LABELS[g]) for g in GROUPS],
                                 default=["activation"], option_widget=widgets.CheckboxInput(),
                                 widget=widgets.ListWidget(prefix_label=False))
    product_id = SelectField("Product", coerce=int, default=0)

    def validate_scopes(self, field):
        if not field.data:
            field.errors.append("Choose at least one group of methods.")
