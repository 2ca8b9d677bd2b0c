"""The stand-in's own tests: an account with its SDK client, and a tiny HTTP server that receives webhooks."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.support import standin as standin_fixtures
from tests.support.standin import stripe_client

standin_server = standin_fixtures.standin_server
stripe_standin = standin_fixtures.stripe_standin


@pytest.fixture
def acme(stripe_standin):
    return stripe_standin.create_account("Acme Ltd")


@pytest.fixture
def sdk(stripe_standin, acme):
    """The SDK client as the portal builds it, with Acme's key."""
    return stripe_client(stripe_standin, acme.secret_key)


@pytest.fixture
def catalog(sdk):
    """A product with a monthly price of 10.00 USD, and a customer paying with the 4242 card."""
    product = sdk.v1.products.create(params={"name": "Pro", "metadata": {"skm_product_id": "5"}})
    price = sdk.v1.prices.create(
        params={"product": product.id, "unit_amount": 1000, "currency": "usd", "recurring": {"interval": "month"}}
    )
    customer = sdk.v1.customers.create(
        params={
            "email": "ann@example.com",
            "metadata": {"skm_customer_id": "12"},
            "payment_method": "pm_card_visa",
            "invoice_settings": {"default_payment_method": "pm_card_visa"},
        }
    )
    return product, price, customer


class Receiver:
    """Records each webhook (raw body and Stripe-Signature) and answers with the next queued status (else 200)."""

    def __init__(self):
        self.received: list[tuple[bytes, str]] = []
        self.statuses: list[int] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.received.append((body, self.headers.get("Stripe-Signature", "")))
                self.send_response(receiver.statuses.pop(0) if receiver.statuses else 200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()

    @property
    def types(self) -> list[str]:
        return [json.loads(body)["type"] for body, _ in self.received]


@pytest.fixture
def receiver():
    server = Receiver()
    yield server
    server.server.shutdown()
    server.server.server_close()
