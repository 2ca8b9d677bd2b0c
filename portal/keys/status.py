"""A key's status as every page shows it: blocked, expired, renews (paid for by a live subscription), expiring
(within 14 days) or active."""

from datetime import datetime, timedelta

EXPIRING_WITHIN = timedelta(days=14)
LABELS = {"active": "Active", "expiring": "Expires within 14 days", "expired": "Expired", "blocked": "Blocked",
          "renews": "Renews on"}


def status_of(key, now: datetime) -> str:
    """The status of `key` (a LicenseKey or a row with `block`, `expires` and `renews_on`) at the instant `now`."""
    if key.block:
        return "blocked"
    if key.expires <= now:
        return "expired"
    if key.renews_on is not None:
        return "renews"
    if key.expires - now <= EXPIRING_WITHIN:
        return "expiring"
    return "active"
