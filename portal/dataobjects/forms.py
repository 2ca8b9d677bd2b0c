"""The data object form: a name with a string and an integer value."""

from flask_wtf import FlaskForm
from wtforms import StringField, TextAreaField

from portal.dataobjects.services import INT32, INT32_WORDS
from portal.forms import IntegerField, at_most, between, no_control_characters, optional, required, single_line, strip
from portal.models import DATA_STRING_MAX, NAME_MAX


class DataObjectForm(FlaskForm):
    name = StringField("Name", filters=[strip],
                       validators=[required("Give the data object a name."), at_most(NAME_MAX), single_line])
    string_value = TextAreaField("String value", filters=[lambda v: v or ""],
                                 validators=[at_most(DATA_STRING_MAX), no_control_characters])
    int_value = IntegerField("Integer value", default=0, validators=[
        optional(),
        between(INT32[0], INT32[1], INT32_WORDS)])

    def validate_int_value(self, field):
        if field.data is None:
            field.data = 0
