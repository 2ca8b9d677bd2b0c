"""Cryptolens' trial activation, "start countdown upon activation": a key made ahead of time (for a reseller, a
box on a shelf) whose period runs from its activation instead of from the day it was made.

A key counts down when it has TrialActivation and a machine limit. Each new node-locked machine activated on it,
up to that limit over the key's life (deactivated machines still count, so freeing a slot starts nothing), moves
its expiry to that moment plus the key's period (never earlier than it was), as Cryptolens does by default. So a
key with starts left may be activated on a new machine even past the expiry it was made with, and the expiry sweep
leaves it alone; the reminder leaves alone a key no machine has started yet. A key of key/CreateTrialKey is one
such key, started by its machine as it is made. A product whose data object `cryptolens_trialactivation` says
`first_activation` (Cryptolens' product setting) has its keys started by their first machine only: that start uses
up all of the key's starts, whatever its machine limit becomes.
"""

from datetime import datetime, timedelta

from sqlmodel import Session

from portal.keys import product_settings
from portal.models import LicenseKey

# A start that would move the expiry by less than this leaves it (a key activated as it is made, as
# key/CreateTrialKey's are, gains nothing worth a write and an entry in the audit trail).
LEAST_MOVE = timedelta(minutes=1)


def counts_down(key) -> bool:
    """Whether the key's period runs from its machines' activation (a LicenseKey or a row of its columns)."""
    return bool(key.trial_activation) and key.max_no_of_machines > 0


def can_start(key) -> bool:
    """Whether a new machine would start the key's period again."""
    return counts_down(key) and key.countdown_starts < key.max_no_of_machines


def unstarted(key) -> bool:
    """Whether no machine has started the key's countdown yet: its period runs from its first activation."""
    return counts_down(key) and key.countdown_starts == 0


def started_expiry(key, now: datetime) -> datetime | None:
    """The expiry a machine starting the key now gives it, if that moves it (else None)."""
    started = now + timedelta(days=key.period)
    return started if started - key.expires >= LEAST_MOVE else None


# The count of starts of a key its product lets only the first machine start: more than any machine limit, so that
# raising the limit later gives it no new start.
ALL_STARTS_USED = 2**31 - 1


def starts_after_one(session: Session, key: LicenseKey) -> int:
    """The key's count of starts once one more machine has started it: one more, or all of them where its product
    starts countdowns at the first activation only."""
    return ALL_STARTS_USED if product_settings.first_activation_only(session, key) else key.countdown_starts + 1


def _counting_down():
    return LicenseKey.trial_activation.is_(True) & (LicenseKey.max_no_of_machines > 0)


def with_starts_left():
    """The condition of keys a new machine would start again: their expiry is no reason to block them."""
    return _counting_down() & (LicenseKey.countdown_starts < LicenseKey.max_no_of_machines)


def not_started():
    """The condition of keys no machine has started yet: their expiry is no reason to remind anyone of it."""
    return _counting_down() & (LicenseKey.countdown_starts == 0)
