"""A call's parameters as the Cryptolens clients send them: names in any case, `True`/`False`, `None` for none."""

import re

from portal.models import ID_MAX

INT32 = (-(2**31), 2**31 - 1)
_WHOLE_NUMBER = re.compile(r"-?[0-9]{1,19}")  # ASCII digits: int() would also take "٣" and "1_000"
TEXT_MAX = 10_000


class ApiError(Exception):
    """A call the API refuses: the message names the parameter at fault."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.message = message
        self.status = status


class Params:
    def __init__(self, values):
        self._values: dict[str, str] = {}
        for name, value in values.items(multi=True) if hasattr(values, "getlist") else values.items():
            self._values.setdefault(name.lower(), value)

    def raw(self, name: str) -> str | None:
        """The value as sent, None when it is absent, empty or the client's `None`."""
        value = self._values.get(name.lower())
        return None if value is None or value.strip() in ("", "None", "null") else value

    def text(self, name: str, *, required: bool = False, default: str = "", max_length: int = TEXT_MAX) -> str:
        value = self.raw(name)
        if value is None:
            if required:
                raise ApiError(f"The parameter {name} is missing.")
            return default
        if len(value) > max_length:
            raise ApiError(f"The parameter {name} is longer than {max_length} characters.")
        if "\x00" in value or any("\ud800" <= c <= "\udfff" for c in value):
            raise ApiError(f"The parameter {name} holds characters that cannot be stored.")
        return value

    def integer(self, name: str, *, required: bool = False, default: int = 0, minimum: int = INT32[0],
                maximum: int = INT32[1]) -> int:
        value = self.raw(name)
        if value is None:
            if required:
                raise ApiError(f"The parameter {name} is missing.")
            return default
        value = value.strip()
        if not _WHOLE_NUMBER.fullmatch(value):
            raise ApiError(f"The parameter {name} must be a whole number.")
        number = int(value)
        if not minimum <= number <= maximum:
            raise ApiError(f"The parameter {name} must be between {minimum} and {maximum}.")
        return number

    def record_id(self, name: str, *, required: bool = True) -> int:
        """An id of a record: 1 to the largest id (0 means none where `required` is False)."""
        return self.integer(name, required=required, minimum=0 if not required else 1, maximum=ID_MAX)

    def flag(self, name: str, *, default: bool = False) -> bool:
        value = self.raw(name)
        if value is None:
            return default
        lowered = value.strip().lower()
        if lowered in ("true", "1", "on", "yes"):
            return True
        if lowered in ("false", "0", "off", "no"):
            return False
        raise ApiError(f"The parameter {name} must be True or False.")
