"""The API resources; each module's `routes` table is served by app.py. A new resource is a module listed here."""

from . import (
    account,
    billing_portal,
    checkout_sessions,
    customers,
    events,
    invoices,
    prices,
    products,
    subscriptions,
    webhook_endpoints,
)

MODULES = (account, webhook_endpoints, customers, products, prices, subscriptions, invoices, events,
           checkout_sessions, billing_portal)


def routes():
    for module in MODULES:
        yield from module.routes
