"""The one door to Stripe: the only module of the portal that imports `stripe`.

Each vendor talks to Stripe with a `StripeClient` of its own, built from that vendor's key (never the SDK's
module-global `stripe.api_key`), with a short timeout and the SDK's own network retries. Its base address is
configuration (`STRIPE_API_BASE`), so the same code talks to Stripe or to the local stand-in. What comes back
is plain dicts: nothing outside this module sees a Stripe object, and Stripe's errors become two of ours.
"""

import json
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import ModuleType
from urllib.parse import quote

TIMEOUT_SECONDS = 10
NETWORK_RETRIES = 2
SIGNATURE_TOLERANCE_SECONDS = 300
_THREAD = threading.local()
_IMPORT_LOCK = threading.Lock()
_STRIPE: ModuleType | None = None


def _sdk() -> ModuleType:
    """Stripe's SDK, loaded by the first call to Stripe in this process (with `requests`, 4 MB of each worker's
    memory), not by every process at start: a portal without Stripe, and a worker that only serves pages and the
    Web API, never load it.

    At its import the SDK also picks its asynchronous HTTP client and imports aiohttp for it wherever aiohttp is
    installed (a development environment has it for the stand-in; so do many servers): 10 MB of each worker's memory
    and a set of TLS contexts, for a client the portal never uses (its calls are synchronous, through `requests`). The
    SDK is therefore imported with aiohttp hidden (from every thread of the process, for the moment of that one
    import: nothing of the portal's imports aiohttp), unless this process has loaded aiohttp already (the tests'
    stand-in in-process): the SDK then falls back to its placeholder, which would raise only if an asynchronous call
    were made."""
    global _STRIPE  # noqa: PLW0603 - set once, when the import has finished
    if _STRIPE is None:
        with _IMPORT_LOCK:  # not sys.modules: it holds a module from the moment its import starts
            if _STRIPE is None:
                hidden = "aiohttp" not in sys.modules
                if hidden:
                    sys.modules["aiohttp"] = None  # `import aiohttp` raises ImportError meanwhile
                try:
                    import stripe
                finally:
                    if hidden and sys.modules.get("aiohttp", False) is None:
                        del sys.modules["aiohttp"]
                _STRIPE = stripe
    return _STRIPE


def _http_client():
    """This thread's HTTP client, shared by every vendor's StripeClient made in the thread: its session keeps a
    connection pool, so a burst of webhooks reuses connections instead of opening one per call. It holds no key
    and decides nothing.

    The portal talks to Stripe directly, through no proxy: the session does not read proxy (or .netrc) settings
    from the environment, which `requests` would otherwise do on every call (about 400 lookups of `os.environ` per
    webhook event). The certificates are the SDK's own bundle either way."""
    client = getattr(_THREAD, "client", None)
    if client is None:
        import requests

        session = requests.Session()
        session.trust_env = False
        client = _THREAD.client = _sdk().RequestsClient(timeout=TIMEOUT_SECONDS, session=session)
    return client


class StripeUnavailable(Exception):
    """Stripe did not answer, or answered with its own failure: the same call may succeed later."""


class StripeRefused(Exception):
    """Stripe answered and refused (a wrong key, a missing object, bad parameters): saying so is the answer.

    The message is Stripe's own, which masks keys (`sk_test_****abcd`); it is safe to show the vendor."""


class StripeMissing(StripeRefused):
    """Stripe has no such object in this account (404 `resource_missing`)."""


class BadSignature(Exception):
    """A webhook whose `Stripe-Signature` does not prove it was sent by Stripe with the vendor's secret."""


def is_test_key(secret_key: str) -> bool:
    return secret_key.startswith(("sk_test_", "rk_test_"))


def looks_like_key(secret_key: str) -> bool:
    return secret_key.startswith(("sk_test_", "sk_live_", "rk_test_", "rk_live_")) and len(secret_key) <= 255


def verify_event(payload: bytes, signature_header: str | None, secret: str) -> dict:
    """The event in a webhook's raw body, once its signature is proven over that body (300 s tolerance)."""
    if not signature_header:
        raise BadSignature("no Stripe-Signature header")
    try:
        text = payload.decode("utf-8")
        _sdk().WebhookSignature.verify_header(text, signature_header, secret, SIGNATURE_TOLERANCE_SECONDS)
        event = json.loads(text)
    except (_sdk().SignatureVerificationError, UnicodeDecodeError, ValueError) as error:
        raise BadSignature(str(error).split("\n")[0]) from None
    if not isinstance(event, dict) or not isinstance(event.get("id"), str) or not isinstance(event.get("type"), str):
        raise BadSignature("the body is not a Stripe event")
    return event


@contextmanager
def _stripe_errors() -> Iterator[None]:
    stripe = _sdk()
    try:
        yield
    except (stripe.APIConnectionError, stripe.RateLimitError) as error:
        raise StripeUnavailable(error.user_message or "Stripe could not be reached.") from None
    except stripe.APIError as error:
        raise StripeUnavailable(error.user_message or "Stripe failed to answer.") from None
    except stripe.InvalidRequestError as error:
        refusal = StripeMissing if error.code == "resource_missing" else StripeRefused
        raise refusal(error.user_message or "Stripe refused the request.") from None
    except stripe.StripeError as error:
        raise StripeRefused(error.user_message or "Stripe refused the request.") from None


def _calling(call, *args, **kwargs) -> dict:
    with _stripe_errors():
        return call(*args, **kwargs).to_dict()


def _path(template: str, *ids: str) -> str:
    return template.format(*(quote(str(i), safe="") for i in ids))


def _one_page(call, params: dict) -> list[dict]:
    """The first page of a list (at most its `limit`), as plain dicts."""
    with _stripe_errors():
        return [item.to_dict() for item in call(params=params).data]


def _listing(call, **kwargs) -> list[dict]:
    """Every object of a list, page after page (the SDK's auto-pagination), as plain dicts."""
    with _stripe_errors():
        return [item.to_dict() for item in call(**kwargs).auto_paging_iter()]


class Gateway:
    """One vendor's Stripe account, through the SDK's StripeClient."""

    def __init__(self, secret_key: str, *, api_base: str | None = None):
        self.test_mode = is_test_key(secret_key)
        self._client = _sdk().StripeClient(
            secret_key, base_addresses={"api": api_base} if api_base else None,
            max_network_retries=NETWORK_RETRIES, http_client=_http_client())
        self._v1 = self._client.v1

    def _json(self, method: str, path: str, params: dict, *, idempotency_key: str | None = None) -> dict:
        """A call of the webhook's path through the same client, retries and errors, whose answer is read as the
        JSON it is: building the SDK's StripeObjects from an expanded subscription and turning them back into
        dicts cost more CPU than the rest of the call."""
        options = {"idempotency_key": idempotency_key} if idempotency_key else {}
        with _stripe_errors():
            return self._client.raw_request(method, path, **params, **options).data

    # The account

    def account(self) -> dict:
        return _calling(self._v1.accounts.retrieve_current)

    # Products and prices

    def price(self, price_id: str) -> dict:
        return _calling(self._v1.prices.retrieve, price_id, params={"expand": ["product"]})

    def recurring_prices(self) -> list[dict]:
        """The newest hundred active recurring prices, with their products (one page: a list to pick from)."""
        return _calling(self._v1.prices.list, params={"active": True, "type": "recurring", "limit": 100,
                                                       "expand": ["data.product"]})["data"]

    def create_product(self, *, name: str, metadata: dict, idempotency_key: str) -> dict:
        return _calling(self._v1.products.create, params={"name": name, "metadata": metadata},
                        options={"idempotency_key": idempotency_key})

    def update_product_metadata(self, product_id: str, metadata: dict) -> dict:
        return _calling(self._v1.products.update, product_id, params={"metadata": metadata})

    def create_price(self, *, stripe_product_id: str, unit_amount: int, currency: str, interval: str,
                     metadata: dict, nickname: str = "") -> dict:
        """A new price (the SDK gives its retries of this one call an idempotency key of its own)."""
        params = {"product": stripe_product_id, "unit_amount": unit_amount, "currency": currency,
                  "recurring": {"interval": interval}, "metadata": metadata, "expand": ["product"]}
        if nickname:
            params["nickname"] = nickname
        return _calling(self._v1.prices.create, params=params)

    def update_price(self, price_id: str, *, metadata: dict, nickname: str) -> dict:
        """The price's metadata and nickname ("" removes it)."""
        return _calling(self._v1.prices.update, price_id,
                        params={"metadata": metadata, "nickname": nickname, "expand": ["product"]})

    # Customers and subscriptions

    def customer(self, customer_id: str) -> dict:
        return _calling(self._v1.customers.retrieve, customer_id)

    def update_customer_metadata(self, customer_id: str, metadata: dict, *, idempotency_key: str) -> dict:
        return self._json("post", _path("/v1/customers/{}", customer_id), {"metadata": metadata},
                          idempotency_key=idempotency_key)

    def subscription(self, subscription_id: str) -> dict:
        """The subscription as it is now, with its customer and each item's price and product."""
        return self._json("get", _path("/v1/subscriptions/{}", subscription_id),
                          {"expand": ["customer", "items.data.price.product"]})

    def update_subscription_metadata(self, subscription_id: str, metadata: dict, *, idempotency_key: str) -> dict:
        """Set metadata keys (an empty string removes one) with an idempotency key: a retry repeats nothing."""
        return self._json("post", _path("/v1/subscriptions/{}", subscription_id), {"metadata": metadata},
                          idempotency_key=idempotency_key)

    def create_customer(self, *, email: str, name: str, metadata: dict, idempotency_key: str) -> dict:
        return _calling(self._v1.customers.create, params={"email": email, "name": name, "metadata": metadata},
                        options={"idempotency_key": idempotency_key})

    def subscriptions(self, *, customer: str | None = None) -> list[dict]:
        """Every subscription of the account (or of one customer), whatever its status, expanded as above."""
        params = {"status": "all", "limit": 100, "expand": ["data.customer", "data.items.data.price.product"]}
        if customer:
            params["customer"] = customer
        return _listing(self._v1.subscriptions.list, params=params)

    def customers(self) -> list[dict]:
        return _listing(self._v1.customers.list, params={"limit": 100})

    def undelivered_events(self, *, since: int | None = None) -> list[dict]:
        """Events whose delivery to the webhook failed (the last 30 days, or since a Unix time): Stripe's own path to
        what was missed."""
        params = {"delivery_success": False, "limit": 100}
        if since is not None:
            params["created"] = {"gte": since}
        return _listing(self._v1.events.list, params=params)

    # Checkout and the Billing Portal

    def create_checkout_session(self, *, customer: str, price: str, metadata: dict, trial_days: int,
                                success_url: str, cancel_url: str, client_reference_id: str,
                                session_metadata: dict | None = None) -> dict:
        """`metadata` goes to the subscription Checkout makes, `session_metadata` to the session itself."""
        subscription_data: dict = {"metadata": metadata}
        if trial_days:
            subscription_data["trial_period_days"] = trial_days
        return _calling(self._v1.checkout.sessions.create, params={
            "mode": "subscription", "customer": customer, "line_items": [{"price": price, "quantity": 1}],
            "subscription_data": subscription_data, "success_url": success_url, "cancel_url": cancel_url,
            "client_reference_id": client_reference_id, "metadata": session_metadata or {}})

    def checkout_session(self, session_id: str) -> dict:
        return _calling(self._v1.checkout.sessions.retrieve, session_id)

    def checkout_sessions(self, *, customer: str, since: int) -> list[dict]:
        """The customer's newest Checkout Sessions made since `since` (a Unix time), open, complete and expired: one
        page of at most 100, so that a click costs one call however many sessions the customer has made."""
        return _one_page(self._v1.checkout.sessions.list,
                         {"customer": customer, "limit": 100, "created": {"gte": since}})

    def expire_checkout_session(self, session_id: str) -> bool:
        """End an open session, so that it can no longer be paid; False if it was paid (or ended) meanwhile."""
        try:
            _calling(self._v1.checkout.sessions.expire, session_id)
        except StripeRefused:
            return False
        return True

    def create_billing_portal_session(self, *, customer: str, return_url: str, configuration: str = "") -> dict:
        """A Billing Portal session, on the account's default configuration unless one is named."""
        params = {"customer": customer, "return_url": return_url}
        if configuration:
            params["configuration"] = configuration
        return _calling(self._v1.billing_portal.sessions.create, params=params)

    def billing_portal_configurations(self) -> list[dict]:
        """The account's Billing Portal configurations, active or not (one page: an account keeps a handful)."""
        return _one_page(self._v1.billing_portal.configurations.list, {"limit": 100})

    def create_billing_portal_configuration(self, *, features: dict, metadata: dict, business_profile: dict,
                                            idempotency_key: str) -> dict:
        params = {"features": features, "metadata": metadata}
        if business_profile:
            params["business_profile"] = business_profile
        return _calling(self._v1.billing_portal.configurations.create, params=params,
                        options={"idempotency_key": idempotency_key})

    def deactivate_billing_portal_configuration(self, configuration_id: str) -> dict:
        return _calling(self._v1.billing_portal.configurations.update, configuration_id, params={"active": False})
