"""Licenses, portal side: the customer's keys on the dashboard, revealing a key, freeing a machine."""

from portal.licenses.routes import init_app

__all__ = ["init_app"]
