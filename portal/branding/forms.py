"""The brand form: logo, accent colour, support contact, site link (the services check each value's rules)."""

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, StringField

from portal.forms import at_most, single_line, strip
from portal.models import URL_MAX


class BrandForm(FlaskForm):
    logo = FileField("Image file", render_kw={"accept": "image/png,image/jpeg,image/webp"})
    remove_logo = BooleanField("Remove the logo")
    accent_color = StringField("Accent colour", filters=[strip], validators=[at_most(7)],
                               render_kw={"placeholder": "#1a73e8", "autocomplete": "off", "spellcheck": "false"})
    support_contact = StringField("Support e-mail or web address", filters=[strip],
                                  validators=[at_most(URL_MAX), single_line],
                                  render_kw={"placeholder": "support@example.com"})
    site_url = StringField("Your website", filters=[strip], validators=[at_most(URL_MAX), single_line],
                           render_kw={"placeholder": "https://example.com", "type": "url"})
