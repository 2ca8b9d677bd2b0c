"""Accounts and their data: one `AccountData` per Stripe account, found by its API key in one dict lookup.

Objects are kept as the JSON dicts Stripe would answer (references as ids), per kind and per id, so every
lookup is a dict access and the whole account serialises to JSON as it is (see persistence.py).
"""

import time
from collections import OrderedDict
from dataclasses import dataclass, replace

from .errors import invalid, no_such
from .ids import new_id

# Id prefix -> kind; the kind is the objects' `object` value, names the collection and the "No such ..." message.
PREFIXES = {
    "cus_": "customer",
    "prod_": "product",
    "price_": "price",
    "sub_": "subscription",
    "in_": "invoice",
    "we_": "webhook_endpoint",
    "cs_": "checkout.session",
    "bps_": "billing_portal.session",
    "bpc_": "billing_portal.configuration",
}
KINDS = tuple(PREFIXES.values())
_LABELS = {"webhook_endpoint": "webhook endpoint", "billing_portal.configuration": "configuration"}
# How many idempotency keys an account remembers, and how long: Stripe keeps them 24 hours (a bound on their
# number keeps memory flat).
IDEMPOTENCY_KEYS_KEPT = 5000
IDEMPOTENCY_SECONDS = 24 * 3600
# An account's secret key: a test-mode or a live-mode one (each key is an account of its own here).
KEY_PREFIXES = ("sk_test_", "sk_live_")


@dataclass(frozen=True)
class Account:
    """What a test needs to know about an account: its id, its secret key, its display name."""

    id: str
    secret_key: str
    name: str
    email: str | None = None

    @property
    def livemode(self) -> bool:
        """A `sk_live_` key's account answers in live mode (`livemode: true` on its objects and events)."""
        return self.secret_key.startswith("sk_live_")

    @property
    def restricted_key(self) -> str:
        """A restricted key of the same account: the secret key with `rk_` for `sk_`."""
        return "rk_" + self.secret_key[3:]


class AccountData:
    """One account's objects, events and delivery bookkeeping; touched only on the server's event loop."""

    def __init__(self, account: Account, created: int | None = None):
        self.account = account
        self.created = created or int(time.time())
        self.objects: dict[str, dict[str, dict]] = {kind: {} for kind in KINDS}
        self.events: dict[str, dict] = {}
        # event id -> ids of the endpoints that have not yet answered 2xx for it (Stripe's pending_webhooks)
        self.outstanding: dict[str, set[str]] = {}
        self.idempotency: OrderedDict[str, tuple[str, int, dict, float]] = OrderedDict()

    def add(self, obj: dict) -> dict:
        if "livemode" in obj:
            obj["livemode"] = self.account.livemode
        self.objects[obj["object"]][obj["id"]] = obj
        return obj

    def get(self, kind: str, object_id, param: str | None = "id") -> dict:
        if not isinstance(object_id, str) or not object_id:
            raise invalid(f"Invalid {kind} id: {object_id!r}", param)
        obj = self.objects[kind].get(object_id)
        if obj is None or obj.get("deleted"):
            raise no_such(_LABELS.get(kind, kind), object_id, param)
        return obj

    def find(self, object_id: str) -> dict | None:
        """The object an id names, whatever its kind (for `expand`)."""
        for prefix, kind in PREFIXES.items():
            if object_id.startswith(prefix):
                return self.objects[kind].get(object_id)
        return None

    def endpoints_for(self, event_type: str) -> list[dict]:
        return [
            endpoint
            for endpoint in self.objects["webhook_endpoint"].values()
            if endpoint["status"] == "enabled"
            and ("*" in endpoint["enabled_events"] or event_type in endpoint["enabled_events"])
        ]

    def remember(self, key: str, fingerprint: str, status: int, body: dict) -> None:
        self.idempotency[key] = (fingerprint, status, body, time.time())
        if len(self.idempotency) > IDEMPOTENCY_KEYS_KEPT:
            self.idempotency.popitem(last=False)

    def remembered(self, key: str) -> tuple[str, int, dict] | None:
        """The first request and answer of an idempotency key used within the last 24 hours; an older one is
        forgotten (the key may be used again, as with Stripe)."""
        found = self.idempotency.get(key)
        if found is None:
            return None
        if time.time() - found[3] > IDEMPOTENCY_SECONDS:
            del self.idempotency[key]
            return None
        return found[:3]


class Accounts:
    """The registry: accounts by id and by API key (secret and restricted)."""

    def __init__(self):
        self.by_id: dict[str, AccountData] = {}
        self._by_key: dict[str, AccountData] = {}

    def for_key(self, key: str) -> AccountData | None:
        return self._by_key.get(key)

    def create(self, name: str, secret_key: str | None = None, email: str | None = None,
               livemode: bool = False) -> AccountData:
        secret_key = secret_key or new_id("sk_live_" if livemode else "sk_test_", 32)
        if not secret_key.startswith(KEY_PREFIXES) or len(secret_key) <= len("sk_test_"):
            raise ValueError("a stand-in account's secret key starts with sk_test_ or sk_live_")
        if secret_key in self._by_key:
            raise ValueError(f"an account already has the key {secret_key[:8]}...")
        return self.add(AccountData(Account(new_id("acct_", 16), secret_key, name, email)))

    def add(self, data: AccountData) -> AccountData:
        self.by_id[data.account.id] = data
        self._by_key[data.account.secret_key] = data
        self._by_key[data.account.restricted_key] = data
        return data

    def ensure(self, secret_key: str, name: str | None = None) -> AccountData:
        data = self._by_key.get(secret_key)
        if data is None:
            return self.create(name or "Stand-in account", secret_key)
        if name and name != data.account.name:
            data.account = replace(data.account, name=name)
        return data

    def clear(self) -> None:
        self.by_id.clear()
        self._by_key.clear()
