"""The activity page's filters: a GET form (no CSRF: it changes nothing), each field checked with a message."""

from flask_wtf import FlaskForm
from wtforms import StringField, ValidationError
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Optional

from portal.activity.services import Filters
from portal.activity.words import ACTIONS, SUBJECT_TYPES, action_words, object_words
from portal.forms import DateField, IntegerField, SelectField, at_most, between
from portal.models import ID_MAX

# The kind of record an action's words name in the What filter, where its prefix is not one ("Bulk keys made
# (License key)", "Keys' data objects set back (Data object)").
_KIND_OF = {"key_batch": "key", "data_objects": "data_object"}


class ActivityFilterForm(FlaskForm):
    class Meta:
        csrf = False

    actor = StringField("Who", validators=[Optional(), at_most(120)], filters=[lambda v: (v or "").strip()],
                        render_kw={"list": "activity-actors", "autocomplete": "off"})
    action = SelectField("What", choices=[SelectChoice("", "Any change")] + [
        SelectChoice(name, f"{action_words(name)} ({object_words(_KIND_OF.get(kind, kind))})")
        for name in ACTIONS for kind in [name.split(".")[0]]], default="")
    type = SelectField("Record", choices=[SelectChoice("", "Any record")] + [
        SelectChoice(t, object_words(t)) for t in SUBJECT_TYPES],
                       default="")
    id = IntegerField("Record id", render_kw={"inputmode": "numeric"}, validators=[
        Optional(), between(1, ID_MAX, f"A record id is a whole number from 1 to {ID_MAX:,}.")])
    since = DateField("From", validators=[Optional()], format="%Y-%m-%d")
    until = DateField("Until", validators=[Optional()], format="%Y-%m-%d")

    def validate_id(self, field):
        if field.data is not None and not self.type.data:
            raise ValidationError("Choose the kind of record this id belongs to.")

    def validate_until(self, field):
        if field.data and self.since.data and field.data < self.since.data:
            raise ValidationError("The last day comes before the first.")

    def filters(self) -> Filters:
        return Filters(actor=self.actor.data or "", action=self.action.data or "", subject_type=self.type.data or "",
                       subject_id=self.id.data, since=self.since.data, until=self.until.data)
