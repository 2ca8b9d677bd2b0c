"""The customer's calls to Stripe: none made with a transaction open, and what Stripe says put in words a
customer can act on."""

import logging

from sqlmodel import Session

from portal.billing.gateway import StripeMissing, StripeRefused, StripeUnavailable
from portal.domain import DomainError

log = logging.getLogger(__name__)


class MissingInStripe(DomainError):
    """Stripe has no such object (any more), e.g. a customer the vendor deleted in Stripe's dashboard."""


NOT_DONE = "Stripe could not do this just now. Try again later; if it keeps happening, tell us."


def stripe_call(session: Session, call, *args, **kwargs) -> dict:
    """A call to Stripe, with no transaction open (on SQLite, no write lock held) while it waits. What Stripe says
    when it refuses goes to the log, for the vendor: it speaks of the vendor's key and objects, not to customers."""
    session.commit()
    try:
        return call(*args, **kwargs)
    except StripeUnavailable as error:
        raise DomainError("Stripe cannot be reached just now; try again in a minute.") from error
    except StripeRefused as error:
        log.warning("Stripe refused a customer's %s: %s", getattr(call, "__name__", "call"), error)
        raise (MissingInStripe if isinstance(error, StripeMissing) else DomainError)(NOT_DONE) from error
