"""A key's status as every page shows it: blocked, expired, waiting (no machine has started its countdown from
activation yet, or past its expiry while a new machine would start it again: portal/keys/countdown.py), renews (paid
for by a live subscription), expiring (within 14 days) or active."""

from datetime import datetime, timedelta

from portal.keys.countdown import can_start, unstarted

EXPIRING_WITHIN = timedelta(days=14)
LABELS = {"active": "Active", "expiring": "Expires within 14 days", "expired": "Expired", "blocked": "Blocked",
          "renews": "Renews on", "waiting": "Starts at activation"}


def status_of(key, now: datetime) -> str:
    """The status of `key` (a LicenseKey or a row with `block`, `expires`, `renews_on` and the columns of
    `countdown.can_start`) at the instant `now`."""
    if key.block:
        return "blocked"
    if key.expires <= now:
        return "waiting" if can_start(key) else "expired"
    if key.renews_on is not None:
        return "renews"
    if unstarted(key):  # its expiry moves to a period after its first activation (what the home's counts say too)
        return "waiting"
    if key.expires - now <= EXPIRING_WITHIN:
        return "expiring"
    return "active"
