"""Cryptolens' trial activation, "start countdown upon activation": a key made ahead of time (for a reseller, a
box on a shelf) whose period runs from its activation instead of from the day it was made.

A key counts down when it has TrialActivation and a machine limit. Each new machine activated on it, up to that
limit, moves its expiry to that moment plus the key's period (never earlier than it was), as Cryptolens does by
default; so a key still short of its machines may be activated even past the expiry it was made with, and neither
the expiry sweep nor the expiry reminder treats it as expiring until its machines are all in. A key of
key/CreateTrialKey is one such key, activated on its machine as it is made.
"""

from datetime import datetime, timedelta

from sqlalchemy import func, select

from portal.models import ActivatedMachine, LicenseKey


def counts_down(key) -> bool:
    """Whether the key's period runs from each new machine's activation (a LicenseKey or a row of its columns)."""
    return bool(key.trial_activation) and key.max_no_of_machines > 0


# A start that would move the expiry by less than this leaves it (a key activated as it is made, as
# key/CreateTrialKey's are, gains nothing worth a write and an entry in the audit trail).
LEAST_MOVE = timedelta(minutes=1)


def started_expiry(key, now: datetime) -> datetime | None:
    """The expiry a new machine activated now gives the key, if it moves it (else None)."""
    if not counts_down(key):
        return None
    started = now + timedelta(days=key.period)
    return started if started - key.expires >= LEAST_MOVE else None


def waiting_for_machines():
    """The condition of keys that count down and are still short of their machines: one more activation restarts
    their period, so their expiry is no reason to block them or to remind anyone of it."""
    machines = (select(func.count()).select_from(ActivatedMachine)
                .where(ActivatedMachine.key_id == LicenseKey.id).scalar_subquery())
    return LicenseKey.trial_activation.is_(True) & (LicenseKey.max_no_of_machines > 0) \
        & (machines < LicenseKey.max_no_of_machines)
