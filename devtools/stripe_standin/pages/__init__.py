"""The stand-in's own HTML pages (where a Checkout or Billing Portal session's `url` leads); no `/v1` prefix,
no API key: the session id in the address is the credential, as Stripe's page addresses are."""

from . import billing, checkout


def routes(core) -> list:
    return [*checkout.routes(core), *billing.routes(core)]
