"""Errors shaped as Stripe's (`{"error": {type, code, message, param}}`) so the SDK raises its own exceptions."""


class StripeError(Exception):
    """An error answer; the HTTP status decides which SDK exception the client raises."""

    def __init__(self, status: int, message: str, *, type: str = "invalid_request_error", code=None, param=None):
        super().__init__(message)
        self.status = status
        self.type = type
        self.code = code
        self.param = param
        self.message = message

    def body(self) -> dict:
        error = {"type": self.type, "message": self.message}
        if self.code is not None:
            error["code"] = self.code
        if self.param is not None:
            error["param"] = self.param
        if self.type == "card_error":
            error["decline_code"] = "generic_decline"
        return {"error": error}


def invalid(message: str, param: str | None = None, code: str = "parameter_invalid") -> StripeError:
    return StripeError(400, message, code=code, param=param)


def missing_param(param: str) -> StripeError:
    return StripeError(400, f"Missing required param: {param}.", code="parameter_missing", param=param)


def unknown_param(param: str) -> StripeError:
    return StripeError(400, f"Received unknown parameter: {param}", code="parameter_unknown", param=param)


def no_such(label: str, object_id: str, param: str | None = "id") -> StripeError:
    return StripeError(404, f"No such {label}: '{object_id}'", code="resource_missing", param=param)


def card_declined(param: str | None = None) -> StripeError:
    return StripeError(402, "Your card was declined.", type="card_error", code="card_declined", param=param)


def idempotency_mismatch(key: str) -> StripeError:
    return StripeError(
        400,
        "Keys for idempotent requests can only be used with the same parameters they were first used with. "
        f"Try using a key other than '{key}' if you meant to execute a different request.",
        type="idempotency_error",
    )


class Refused(ValueError):
    """A local page's refusal (Checkout, Billing Portal): its HTTP status, the message the page shows, and the
    form field it belongs to; the control API raises it as it is."""

    def __init__(self, status: int, message: str, field: str | None = None):
        super().__init__(message)
        self.status, self.message, self.field = status, message, field
