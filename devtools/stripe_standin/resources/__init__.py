"""The API resources; each module's `routes` table is served by app.py. A new resource is a module listed here."""

from . import account, customers, events, invoices, prices, products, subscriptions, webhook_endpoints

MODULES = (account, webhook_endpoints, customers, products, prices, subscriptions, invoices, events)


def routes():
    for module in MODULES:
        yield from module.routes
