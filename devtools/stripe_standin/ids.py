"""Identifiers in Stripe's style, and the masked form of an API key that an error message may show."""

import secrets
import string

_ALPHABET = string.ascii_letters + string.digits


def new_id(prefix: str, length: int = 24) -> str:
    """A random id with Stripe's prefix (`cus_`, `sub_`...); secrets, because keys and signing secrets use it too."""
    return prefix + "".join(secrets.choice(_ALPHABET) for _ in range(length))


def mask_key(key: str) -> str:
    """`sk_test_****abcd`: Stripe never echoes a whole key, only its kind and last four characters."""
    parts = key.split("_")
    prefix = "_".join(parts[:2]) + "_" if len(parts) >= 3 else ""
    tail = key[-4:] if len(key) > 8 else ""
    return f"{prefix}****{tail}"
