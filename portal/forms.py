"""Form pieces every module uses: field validators for the domain's formats and limits."""

import re
from collections.abc import Callable
from typing import Any

import wtforms
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, ValidationError
from wtforms.validators import DataRequired, InputRequired, Length, Optional, StopValidation

from portal import rules
from portal.domain import DomainError, show_on_form


class _SaysWhatItWants:
    """A WTForms field that says what it wants in words (WANTED) where WTForms says "Not a valid … value."."""

    WANTED = ""

    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError:
            raise ValueError(self.WANTED) from None


class IntegerField(_SaysWhatItWants, wtforms.IntegerField):
    WANTED = "Give a whole number, like 3."


class DateField(_SaysWhatItWants, wtforms.DateField):
    WANTED = "Give a date that exists, as YYYY-MM-DD (like 2027-01-31)."


class _ChoosesFromOptions(_SaysWhatItWants):
    """A choice WTForms answers "Not a valid choice." or "Invalid Choice: could not coerce." for a value not on
    offer: in words, as every other field here."""

    WANTED = "Choose one of the options."

    def pre_validate(self, form):
        try:
            super().pre_validate(form)
        except ValidationError:
            raise ValidationError(self.WANTED) from None


class SelectField(_ChoosesFromOptions, wtforms.SelectField):
    pass


class SelectMultipleField(_ChoosesFromOptions, wtforms.SelectMultipleField):
    pass


class RadioField(_ChoosesFromOptions, wtforms.RadioField):
    pass


class _Required(DataRequired):
    """DataRequired that says what to give: its message, else one made of the field's label ("Give a company name.",
    "Give your name."), where WTForms says "This field is required." of every field."""

    def __call__(self, form, field):
        if field.data and (not isinstance(field.data, str) or field.data.strip()):
            return
        field.errors[:] = []
        raise StopValidation(self.message or what_to_give(field.label.text))


def what_to_give(label: str) -> str:
    """A field's label as what to give: "Give a company name.", "Give an e-mail.", "Give your name.", "Give an API
    token." (a first word in capitals kept)."""
    words = label if label.split(" ", 1)[0].isupper() else label[0].lower() + label[1:]
    if not label.startswith(("Your ", "The ")):
        words = ("an " if words[0].lower() in "aeiou" else "a ") + words
    return f"Give {words}."


def required(message: str | None = None):
    """Something given, or `message` (by default one made of the field's label: what_to_give)."""
    return _Required(message=message)


def given(message: str):
    """Something typed: for a number, where 0 is a value (which DataRequired takes for nothing) for a range to judge."""
    return InputRequired(message=message)


def form_status(form) -> int:
    """The status of a page that shows `form`: 422 once it has errors (a refused submission), else 200."""
    return 422 if form.errors or form.form_errors else 200


def commit_or_show(session, form, change: Callable[[], Any]) -> tuple[bool, Any]:
    """Run a service's change for a submitted form: commit it and return (True, its result), or roll it back, put
    the service's refusal on the form and return (False, None)."""
    try:
        result = change()
    except DomainError as error:
        session.rollback()
        show_on_form(form, error)
        return False, None
    session.commit()
    return True, result


def reset_from_link(session, form, *, reset: Callable[[str], Any], used: type[DomainError]) -> Any:
    """A reset form submitted from its mailed link: the new password set and committed, and what `reset` gave (the
    login it is for); None while the form is not (validly) submitted or the service refused the password (shown at
    its field). `used` (the link used by another request a moment ago) is rolled back and raised."""
    if not form.validate_on_submit():
        return None
    try:
        found = reset(form.password.data)
    except used:
        session.rollback()
        raise
    except DomainError as error:  # the password, weighed against the login's own e-mail and name
        session.rollback()
        show_on_form(form, error)
        return None
    session.commit()
    return found


def by_rule(rule):
    """A validator that checks a given value with one of the rules every entry point shares (portal/rules.py):
    the rule's message becomes the field's error, its normalised value the field's data."""

    def validate(_form, field):
        if not field.data:
            return
        try:
            field.data = rule(field.data)
        except DomainError as error:
            raise ValidationError(error.message) from error

    return validate


def email_address(max_length: int = 254):
    return [Length(max=max_length, message=f"At most {max_length:,} characters."), by_rule(rules.valid_email)]


def at_most(n: int):
    return Length(max=n, message=f"At most {n:,} characters.")


def new_password():
    """A new password's validators: the length and strength rule, weighed against what the same form says of
    whoever chooses it (their e-mail, names and portal address make a password easy to guess for those who know
    them)."""

    def validate(form, field):
        if not field.data:
            return
        known = [form[name].data or "" for name in ("email", "name", "company_name", "slug") if name in form]
        try:
            rules.valid_new_password(field.data, user_inputs=known)
        except DomainError as error:
            raise ValidationError(error.message) from error

    return [required(), validate]


def between(low: int, high: int, message: str):
    """A whole number from `low` to `high`. (WTForms' NumberRange compares through floats, which a number of
    hundreds of digits overflows into an error page.)"""

    def validate(_form, field):
        if field.data is not None and not low <= field.data <= high:
            raise ValidationError(message)

    return validate


def optional():
    return Optional()


valid_slug = by_rule(rules.valid_slug)


def no_control_characters(_form, field):
    if field.data and re.search(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", field.data):
        raise ValidationError("Remove the control characters.")


def strip(value):
    return value.strip() if isinstance(value, str) else value


def single_line(_form, field):
    """A name or a title: one line, no control characters (it may end up in a mail header)."""
    if field.data and not rules.is_single_line(field.data):
        raise ValidationError("Use one line without control characters.")


class ConfirmForm(FlaskForm):
    """A form with only the CSRF token: a button that changes something."""


class LoginForm(FlaskForm):
    """E-mail and password, for the vendor login and a portal's login alike."""

    email = EmailField("E-mail", filters=[strip], render_kw={"autocomplete": "username"},
                       validators=[required(), *email_address()])
    password = PasswordField("Password", render_kw={"autocomplete": "current-password"}, validators=[required()])


class ForgotPasswordForm(FlaskForm):
    email = EmailField("E-mail", filters=[strip], render_kw={"autocomplete": "username"},
                       validators=[required(), *email_address()])


class ResetPasswordForm(FlaskForm):
    """A new password, typed twice."""

    password = PasswordField("New password", render_kw={"autocomplete": "new-password"}, validators=new_password())
    confirm = PasswordField("Repeat the new password", render_kw={"autocomplete": "new-password"},
                            validators=[required("Repeat the new password.")])

    def validate_confirm(self, field):
        if field.data != self.password.data:
            raise ValidationError("The two passwords differ.")


class ChangePasswordForm(ResetPasswordForm):
    """A new password, and the current one to prove it is the owner asking."""

    current_password = PasswordField("Current password", render_kw={"autocomplete": "current-password"},
                                     validators=[required("Give your current password.")])
