"""The customer dashboard: who you are, your licenses and your subscriptions."""

from portal.dashboard.routes import init_app

__all__ = ["init_app"]
