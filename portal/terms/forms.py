"""The vendor's terms-of-use form: the address customers must accept (the services check it)."""

from flask_wtf import FlaskForm
from wtforms import BooleanField, StringField

from portal.forms import at_most, single_line, strip
from portal.models import URL_MAX


class TermsForm(FlaskForm):
    url = StringField("Terms of use", filters=[strip], validators=[at_most(URL_MAX), single_line],
                      render_kw={"placeholder": "https://example.com/terms", "type": "url"})
    # Set by the confirmation step: the vendor has read that every customer will be asked again.
    confirmed = BooleanField()
