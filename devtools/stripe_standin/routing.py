"""How a resource module declares its endpoints, and the `Call` each handler receives.

A resource is a module with a `routes = RouteTable()` whose handlers take a `Call` and return the answer's
dict; adding a resource (Checkout Sessions, Billing Portal) is a new module listed in `resources/__init__.py`.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

from .store import AccountData


@dataclass
class Call:
    """One API call (or one control-API action) on one account; events it emits carry its request id and key."""

    core: object
    account: AccountData
    params: dict = field(default_factory=dict)
    match: dict = field(default_factory=dict)
    request_id: str | None = None
    idempotency_key: str | None = None


Handler = Callable[[Call], dict]


class RouteTable(list):
    """A list of (method, path, handler), filled by decorators: `@routes.post("/v1/customers")`."""

    def route(self, method: str, path: str):
        def register(handler: Handler) -> Handler:
            self.append((method, path, handler))
            return handler

        return register

    def get(self, path: str):
        return self.route("GET", path)

    def post(self, path: str):
        return self.route("POST", path)

    def delete(self, path: str):
        return self.route("DELETE", path)
