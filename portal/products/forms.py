"""The product form: its name, description, the names of features F1-F8, and what its license cards show."""

from flask_wtf import FlaskForm
from wtforms import StringField, TextAreaField, URLField, ValidationError

from portal.forms import at_most, no_control_characters, optional, required, single_line, strip
from portal.models import FEATURE_NAME_MAX, NAME_MAX, NOTES_MAX, URL_MAX
from portal.products.services import download_url_problem


def _download_url(_form, field):
    problem = download_url_problem(field.data or "")
    if problem:
        raise ValidationError(problem)


def _feature_field(n: int) -> StringField:
    return StringField(f"F{n} name", filters=[strip],
                       validators=[optional(), at_most(FEATURE_NAME_MAX), single_line])


class ProductForm(FlaskForm):
    name = StringField("Name", filters=[strip],
                       validators=[required("Give the product a name."), at_most(NAME_MAX), single_line])
    description = TextAreaField("Description", validators=[optional(), at_most(NOTES_MAX), no_control_characters])
    getting_started = TextAreaField(
        "How to get started", description="Shown on your customers' license cards: a few lines on installing and "
        "activating.", validators=[optional(), at_most(NOTES_MAX), no_control_characters])
    download_url = URLField("Download address", filters=[strip], description="A link on the license cards, e.g. "
                            "https://example.com/download.", validators=[optional(), at_most(URL_MAX), _download_url])
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
        return {"name": self.name.data, "description": self.description.data or "",
                "getting_started": self.getting_started.data or "", "download_url": self.download_url.data or "",
                **names}

    def feature_fields(self):
        return [getattr(self, f"f{n}_name") for n in range(1, 9)]
