"""Errors the services raise (routes turn them into a message at a field, a flash or a status code), and the
plain helpers every service shares."""

import hashlib
from collections.abc import Callable

from sqlalchemy import text


class DomainError(Exception):
    """A rule of the domain said no. `field` names the form field the message belongs to, if any."""

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


class DomainErrors(DomainError):
    """Several rules said no at once, each at its own field: a form shows them all, not the first alone."""

    def __init__(self, errors: list[DomainError]):
        super().__init__(" ".join(error.message for error in errors))
        self.errors = errors


def each_checked(checks: dict[str, Callable[[], object]]) -> dict:
    """Every check run (name -> a function returning the checked value), every refusal gathered: the checked values,
    or DomainErrors (DomainError for a single one)."""
    values, errors = {}, []
    for name, check in checks.items():
        try:
            values[name] = check()
        except DomainError as error:
            errors.append(error)
    if len(errors) == 1:
        raise errors[0]
    if errors:
        raise DomainErrors(errors)
    return values


class NotFound(Exception):  # noqa: N818 - named for what the caller answers
    """The thing does not exist, or belongs to someone else: every caller answers 404 either way (the web pages
    through one error handler), so it is no refusal to show on a form and no `DomainError`."""

    def __init__(self, message: str = "Not found."):
        super().__init__(message)
        self.message = message


# A key or a product that is not there (or not the caller's), in Cryptolens' words: its C++ client tells the reason
# by them.
NO_SUCH_KEY, NO_SUCH_PRODUCT = "Could not find the key.", "Could not find the product."


def find_owned(session, model, record_id: int, *, vendor_id: int):
    """The record of `model` with this id if it is the vendor's, else None: the tenant check of every load by id."""
    record = session.get(model, record_id)
    return record if record is not None and record.vendor_id == vendor_id else None


def get_owned(session, model, record_id: int, *, vendor_id: int):
    """The vendor's record of `model` with this id; NotFound for no such record and for another vendor's."""
    record = find_owned(session, model, record_id, vendor_id=vendor_id)
    if record is None:
        raise NotFound()
    return record


def one_at_a_time(session, name: str) -> None:
    """Wait until no other transaction holds `name`, then hold it until this one ends (PostgreSQL's advisory
    transaction lock; SQLite lets one writer in at a time already): for a find-or-make that no unique index can
    guard, where two at once would each make one."""
    if session.get_bind().dialect.name == "postgresql":
        digest = hashlib.sha256(name.encode()).digest()
        session.execute(text("SELECT pg_advisory_xact_lock(:lock)"),
                        {"lock": int.from_bytes(digest[:8], "big", signed=True)})


def assign(record, fields: dict, *, editable: tuple[str, ...]) -> None:
    """Set these fields of a record; a name outside `editable` is a programming error, never a user's."""
    unknown = set(fields) - set(editable)
    if unknown:
        raise TypeError(f"not editable fields of {type(record).__name__}: {sorted(unknown)}")
    for name, value in fields.items():
        setattr(record, name, value)


def show_on_form(form, error: DomainError) -> None:
    """Put a service's refusal next to the field it concerns, or above the form (each of several refusals)."""
    if isinstance(error, DomainErrors):
        for each in error.errors:
            show_on_form(form, each)
        return
    target = getattr(form, error.field, None) if error.field else None
    if target is not None:
        target.errors = [*target.errors, error.message]
    else:
        form.form_errors.append(error.message)
