"""A local stand-in for the Stripe API, for tests and the demo (dev tooling: `portal/` never imports it).

Built on localstripe (GPL-3, a dev dependency): its form decoding is reused; resources, accounts, persistence
and delivery are this package's own, because localstripe keeps one global store pickled to a fixed file and
serves pre-2025 shapes. See README.md.
"""

from .standin import StandIn
from .store import Account

__all__ = ["Account", "StandIn"]
