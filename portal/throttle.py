"""Wrong passwords slow the one who types them, and never lock the owner out.

Only failures count, per login (a portal's or the dashboard's, and the e-mail) and per login and address. Once a
login has had too many recent failures, an address that has failed on it recently is refused at once, and any
other address gets one try: its correct password still lets the owner in, a wrong one is refused like the rest
(so a spread-out attack learns nothing and has one guess per fresh address). Counts live in the rate limiter's
storage (Redis in production), so every process shares them.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import NoReturn, TypeVar

from limits import RateLimitItem, parse
from sqlmodel import Session
from werkzeug.exceptions import TooManyRequests

from portal.db import get_session
from portal.extensions import count_key, limiter
from portal.rules import normalize_email
from portal.web import requester

Login = TypeVar("Login")

WINDOW = "15 minutes"
FAILURES_PER_LOGIN = parse(f"10 per {WINDOW}")
FAILURES_PER_ADDRESS = parse(f"10 per {WINDOW}")
WRONG_CURRENT_PASSWORDS = parse(f"10 per {WINDOW}")


@dataclass(frozen=True)
class LoginThrottle:
    """The failures of one login (`scope`, e.g. `portal:42` or `vendor`, and the e-mail) and of one address on it."""

    scope: str
    email: str
    address: str

    def _login(self) -> tuple[str, ...]:
        return count_key("login-failures", self.scope, normalize_email(self.email)[:254])

    def _mine(self) -> tuple[str, ...]:
        return (*self._login(), self.address)

    def locked(self) -> bool:
        """The login has had too many recent failures."""
        return limiter.enabled and not limiter.limiter.test(FAILURES_PER_LOGIN, *self._login())

    def refused_outright(self) -> bool:
        """Refuse without checking the password: this address failed here recently and the login is locked, or
        this address alone has used up its tries."""
        if not limiter.enabled:
            return False
        if not limiter.limiter.test(FAILURES_PER_ADDRESS, *self._mine()):
            return True
        return self.locked() and self._address_failed_recently()

    def _address_failed_recently(self) -> bool:
        stats = limiter.limiter.get_window_stats(FAILURES_PER_ADDRESS, *self._mine())
        return stats.remaining < FAILURES_PER_ADDRESS.amount

    def failed(self) -> None:
        if limiter.enabled:
            limiter.limiter.hit(FAILURES_PER_LOGIN, *self._login())
            limiter.limiter.hit(FAILURES_PER_ADDRESS, *self._mine())


def throttled(scope: str, email: str, authenticate: Callable[[], Login | None]) -> Login | None:
    """Check a password under the throttle: `authenticate`'s login, or None for a wrong password; a refused try
    answers 429 (Too Many Requests)."""
    throttle = LoginThrottle(scope=scope, email=email, address=requester())
    if throttle.refused_outright():
        too_many(FAILURES_PER_LOGIN)
    found = authenticate()
    if found is None:
        locked = throttle.locked()
        throttle.failed()
        if locked:
            too_many(FAILURES_PER_LOGIN)
    return found


def too_many(limit: RateLimitItem) -> NoReturn:
    """Answer 429 (Too Many Requests), saying when to come back: within the window of the count that refused."""
    raise TooManyRequests(retry_after=limit.get_expiry())


def check_current_password_tries(scope: str, account_id: int) -> None:
    """Answer 429 once the logged-in user has typed a wrong current password (to change it) too often."""
    if limiter.enabled and not limiter.limiter.test(WRONG_CURRENT_PASSWORDS,
                                                    *count_key("current-password", scope, str(account_id))):
        too_many(WRONG_CURRENT_PASSWORDS)


def wrong_current_password(scope: str, account_id: int) -> None:
    if limiter.enabled:
        limiter.limiter.hit(WRONG_CURRENT_PASSWORDS, *count_key("current-password", scope, str(account_id)))


def spend(limits, *identifiers: str) -> bool:
    """Count one use against each of `limits` for these identifiers; False once one of them is used up (all are
    counted either way). True while the limits are off."""
    if not limiter.enabled:
        return True
    counted = count_key(*identifiers)
    return all([limiter.limiter.hit(limit, *counted) for limit in limits])


MAILS_FROM_ONE_REQUESTER = (parse("5 per hour"),)
MAILS_TO_ONE_ADDRESS = (parse("20 per day"),)


def may_mail(purpose: str, vendor_id: int, email: str) -> bool:
    """Whether a request may mail an address someone typed (a reset link, a sign-up's confirmation), per purpose,
    portal and address: five an hour for each asker (an IPv4 address, an IPv6 /64), and twenty a day in all.
    So nobody floods an inbox, and nobody from one place uses up its owner's share: a stranger's sign-ups naming
    someone's e-mail (mails whose links want the stranger's password) leave its owner's own sign-up its mail.
    Strangers asking from four places could still use up a day's twenty: the price of any cap that keeps an inbox
    from being flooded. A request its asker's count refuses is not counted against the address. Over either, the
    request gets its usual answer and sends nothing: the answer still says nothing about the address."""
    address = normalize_email(email)[:254]
    return (spend(MAILS_FROM_ONE_REQUESTER, "mails-asked", purpose, str(vendor_id), address, requester())
            and spend(MAILS_TO_ONE_ADDRESS, "mails-to", purpose, str(vendor_id), address))


def mail_if_allowed(purpose: str, vendor_id: int, email: str, queue: Callable[[Session], None]) -> None:
    """Queue (and commit) a mail someone asked for, such as a reset link, unless `may_mail` says the address has had
    its share; the caller answers alike either way."""
    if may_mail(purpose, vendor_id, email):
        session = get_session()
        queue(session)
        session.commit()
