"""Errors the services raise; routes turn them into a message at a field, a flash or a status code."""


class DomainError(Exception):
    """A rule of the domain said no. `field` names the form field the message belongs to, if any."""

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


class NotFound(DomainError):
    """The thing does not exist, or belongs to someone else: the caller answers 404 either way."""

    def __init__(self, message: str = "Not found."):
        super().__init__(message)


def show_on_form(form, error: DomainError) -> None:
    """Put a service's refusal next to the field it concerns, or above the form."""
    target = getattr(form, error.field, None) if error.field else None
    if target is not None:
        target.errors = [*target.errors, error.message]
    else:
        form.form_errors.append(error.message)
