"""Signed license answers reused for a short while, so that the same bytes are not signed again on every call.

Signing costs more than the rest of an activation of a known machine. An entry is found only by the exact bytes
of what the answer shows (the license key's JSON and the metadata, all but their sign dates) and the vendor's
public key: a change of the key, its customer, machines or data objects, or another FieldsToReturn, metadata or
signing key is other bytes, so another entry, and is signed afresh at once. Nothing is decided here: the token and
the key are checked on every call before an answer is looked up. Each process keeps its own entries, which is
enough because none can be stale. An answer found here carries the sign date of its first signing, at most
WINDOW_SECONDS ago.
"""

import hashlib
import time
from collections.abc import Callable

WINDOW_SECONDS = 30
MAX_ENTRIES = 1000
_entries: dict[bytes, tuple[float, dict]] = {}


def signed_answer(*, modulus: str, unsigned: bytes, sign: Callable[[], dict]) -> dict:
    """The answer `sign()` makes for `unsigned` (every byte the answer shows but its sign dates) with the key of
    `modulus`: the one made within the last WINDOW_SECONDS for the same bytes, else a new one."""
    entry_key = hashlib.blake2b(modulus.encode() + b"\0" + unsigned, digest_size=32).digest()
    now = time.monotonic()
    found = _entries.get(entry_key)
    if found is not None and now - found[0] < WINDOW_SECONDS:
        return found[1]
    answer = sign()
    if len(_entries) >= MAX_ENTRIES:
        _drop_oldest(now)
    _entries[entry_key] = (now, answer)
    return answer


def _drop_oldest(now: float) -> None:
    """Entries past their window, or else the oldest tenth: the cache never holds more than MAX_ENTRIES."""
    stale = [key for key, (made, _answer) in list(_entries.items()) if now - made >= WINDOW_SECONDS]
    for key in stale or list(_entries)[: MAX_ENTRIES // 10]:
        _entries.pop(key, None)


def clear() -> None:
    _entries.clear()
