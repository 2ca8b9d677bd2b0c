"""Fixtures for the Stripe stand-in: one server per pytest process, emptied before each test that asks for it.

`tests/conftest.py` may import `standin_server` and `stripe_standin`; `stripe_client` builds the SDK client the
way the portal does, pointed at the stand-in.
"""

import pytest
import stripe

from devtools.stripe_standin import StandIn


def stripe_client(standin: StandIn, secret_key: str) -> stripe.StripeClient:
    return stripe.StripeClient(secret_key, base_addresses={"api": standin.url}, max_network_retries=2)


@pytest.fixture(scope="session")
def standin_server():
    server = StandIn(port=0, data_dir=None, retry_delay=0.02).start()
    yield server
    server.stop()


@pytest.fixture
def stripe_standin(standin_server):
    standin_server.reset()
    return standin_server
