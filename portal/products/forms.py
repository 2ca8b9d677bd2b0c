"""The product form: its name, description and the names of features F1-F8."""

from flask_wtf import FlaskForm
from wtforms import StringField, TextAreaField

from portal.forms import at_most, no_control_characters, optional, required, single_line, strip
from portal.models import FEATURE_NAME_MAX, NAME_MAX, NOTES_MAX


def _feature_field(n: int) -> StringField:
    return StringField(f"F{n} name", filters=[strip],
                       validators=[optional(), at_most(FEATURE_NAME_MAX), single_line])


class ProductForm(FlaskForm):
    name = StringField("Name", filters=[strip], validators=[required(), at_most(NAME_MAX), single_line])
    description = TextAreaField("Description", validators=[optional(), at_most(NOTES_MAX), no_control_characters])
    f1_name = _feature_field(1)
    f2_name = _feature_field(2)
    f3_name = _feature_field(3)
    f4_name = _feature_field(4)
    f5_name = _feature_field(5)
    f6_name = _feature_field(6)
    f7_name = _feature_field(7)
    f8_name = _feature_field(8)

    def values(self) -> dict:
        names = {f"f{n}_name": getattr(self, f"f{n}_name").data or "" for n in range(1, 9)}
        return {"name": self.name.data, "description": self.description.data or "", **names}

    def feature_fields(self):
        return [getattr(self, f"f{n}_name") for n in range(1, 9)]
