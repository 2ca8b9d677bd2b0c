"""`StandIn`: the server on its own event loop in a daemon thread, and the control API tests drive it with.

Every public method hands its work to the server's loop and waits for it, so tests may call from any thread
while all state stays single-threaded.
"""

import asyncio
import contextlib
import socket
import threading
from urllib.parse import urlsplit

from aiohttp import web

from . import billing, checkout, portal_actions
from .app import build_app
from .core import Core
from .resources.webhook_endpoints import add_endpoint
from .routing import Call
from .store import Account, AccountData


class _Outage:
    """`standin.unavailable` reads as a bool, can be assigned, and `with standin.unavailable():` scopes it."""

    def __init__(self, core: Core):
        self._core = core

    def __bool__(self) -> bool:
        return self._core.unavailable

    @contextlib.contextmanager
    def __call__(self):
        self._core.unavailable = True
        try:
            yield
        finally:
            self._core.unavailable = False


class StandIn:
    def __init__(self, port: int = 0, data_dir=None, *, retries: int = 3, retry_delay: float = 0.2,
                 host: str = "127.0.0.1", open_accounts: bool = False):
        self.host, self.port = host, port
        self._core = Core(data_dir, retries, retry_delay, open_accounts)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None

    # -- lifecycle ------------------------------------------------------------------------------------------
    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> "StandIn":
        started = threading.Event()
        failure: list[BaseException] = []

        def serve() -> None:
            self._loop = asyncio.new_event_loop()
            try:
                self._loop.run_until_complete(self._open())
            except BaseException as error:  # reported to start()'s caller, not lost in the thread
                failure.append(error)
                started.set()
                return
            started.set()
            self._loop.run_forever()
            self._loop.run_until_complete(self._close())
            self._loop.close()

        self._thread = threading.Thread(target=serve, name="stripe-standin", daemon=True)
        self._thread.start()
        started.wait()
        if failure:
            raise failure[0]
        return self

    def stop(self) -> None:
        if self._loop is not None and self._thread is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=10)
            self._thread = self._loop = None

    def __enter__(self) -> "StandIn":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    async def _open(self) -> None:
        self._core.load()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self.port))
        self.port = sock.getsockname()[1]
        self._core.base_url = self.url
        self._runner = web.AppRunner(build_app(self._core), access_log=None)
        await self._runner.setup()
        await web.SockSite(self._runner, sock).start()

    async def _close(self) -> None:
        await self._core.close()
        await self._runner.cleanup()

    def _run(self, function, *args, timeout: float = 30):
        """Runs `function(*args)` on the server's loop (awaiting it if it is a coroutine) and returns its result."""
        if self._loop is None:
            raise RuntimeError("the stand-in is not started")

        async def job():
            result = function(*args)
            return await result if asyncio.iscoroutine(result) else result

        return asyncio.run_coroutine_threadsafe(job(), self._loop).result(timeout)

    def _account(self, secret_key: str) -> AccountData:
        account = self._core.accounts.for_key(secret_key)
        if account is None:
            raise KeyError("no stand-in account has this key")
        return account

    # -- accounts and webhooks ------------------------------------------------------------------------------
    def create_account(
        self, name: str = "Acme Ltd", secret_key: str | None = None, email: str | None = None,
        livemode: bool = False,
    ) -> Account:
        """An account with this key (else a new `sk_test_…`, or `sk_live_…` with `livemode`)."""

        def create() -> Account:
            data = self._core.accounts.create(name, secret_key, email, livemode)
            self._core.touch(data)
            return data.account

        return self._run(create)

    def ensure_account(self, secret_key: str, name: str | None = None) -> Account:
        def ensure() -> Account:
            data = self._core.accounts.ensure(secret_key, name)
            self._core.touch(data)
            return data.account

        return self._run(ensure)

    def accounts(self) -> list[Account]:
        return self._run(lambda: [data.account for data in self._core.accounts.by_id.values()])

    def register_webhook(self, secret_key: str, url: str, signing_secret: str, events=None) -> str:
        def register() -> str:
            call = Call(self._core, self._account(secret_key))
            return add_endpoint(call, url, list(events) if events else ["*"], signing_secret)["id"]

        return self._run(register)

    def ensure_webhook(self, secret_key: str, url: str, signing_secret: str) -> str:
        """The account's one endpoint for `url`'s path (every event, signing with `signing_secret`): an endpoint
        of the account for that path at another address (`make run` on another PORT before) is moved to `url`,
        keeping its id, and any further ones are deleted, so no event waits on retries against a dead port; made
        if missing. A second start of `make run` finds the one it registered before rather than adding another."""
        def ensure() -> str:
            account = self._account(secret_key)
            endpoints = account.objects["webhook_endpoint"]
            same_path = [e for e in endpoints.values() if urlsplit(e["url"]).path == urlsplit(url).path]
            if not same_path:
                return add_endpoint(Call(self._core, account), url, ["*"], signing_secret)["id"]
            kept = next((e for e in same_path if e["url"] == url), same_path[0])
            for endpoint in same_path:
                if endpoint is not kept:
                    del endpoints[endpoint["id"]]
            kept.update(url=url, secret=signing_secret, enabled_events=["*"], status="enabled")
            self._core.touch(account)
            return kept["id"]

        return self._run(ensure)

    def reset(self) -> None:
        """Forgets every account, object, event and waiting delivery; switches the outage off."""
        self._run(self._core.reset)

    # -- deliveries -----------------------------------------------------------------------------------------
    def wait_idle(self, timeout: float = 10) -> None:
        async def idle() -> None:
            while not self._core.deliveries.idle:
                await asyncio.sleep(0.005)

        try:
            self._run(lambda: asyncio.wait_for(idle(), timeout), timeout=timeout + 1)
        except TimeoutError as error:
            raise TimeoutError(f"webhook deliveries still pending after {timeout} s") from error

    def hold_deliveries(self) -> None:
        self._run(self._core.deliveries.hold)

    def release_deliveries(self, order: list[str] | None = None) -> None:
        """Sends the held events; event ids in `order` first, in that order (to test out-of-order handling)."""
        self._run(self._core.deliveries.release, order)

    def pending_events(self, secret_key: str) -> list[dict]:
        return self._run(lambda: [dict(e) for e in self._core.deliveries.pending(self._account(secret_key))])

    @property
    def deliveries(self) -> list[dict]:
        """Every delivery attempt: event_id, type, url, endpoint_id, attempt, status (or None), error (or None)."""
        return self._run(lambda: [dict(entry) for entry in self._core.deliveries.log])

    def redeliver(self, secret_key: str, event_id: str) -> None:
        def again() -> None:
            account = self._account(secret_key)
            event = account.events[event_id]
            endpoints = [endpoint["id"] for endpoint in account.endpoints_for(event["type"])]
            self._core.deliveries.enqueue(account, event_id, endpoints)

        self._run(again)

    @property
    def retries(self) -> int:
        return self._core.deliveries.retries

    @retries.setter
    def retries(self, value: int) -> None:
        self._core.deliveries.retries = value

    @property
    def retry_delay(self) -> float:
        return self._core.deliveries.retry_delay

    @retry_delay.setter
    def retry_delay(self, value: float) -> None:
        self._core.deliveries.retry_delay = value

    # -- time and outages -----------------------------------------------------------------------------------
    def advance_subscription(self, secret_key: str, subscription_id: str, outcome: str | None = None) -> dict:
        """Renews a subscription now: the next period and its invoice, paid or failed (the card decides on None)."""

        def advance() -> dict:
            account = self._account(secret_key)
            subscription = account.get("subscription", subscription_id)
            return billing.export(account, billing.advance(Call(self._core, account), subscription, outcome))

        return self._run(advance)

    # -- the local pages' actions, without a browser ----------------------------------------------------------
    def pay_checkout(self, secret_key: str, session_id: str, card: str = "4242424242424242",
                     email: str | None = None) -> str:
        """What the Checkout page's Pay button does: pays the session with a test card number and returns the
        redirect (the success_url, session id filled in). Raises `errors.Refused` (a ValueError with `.status`
        and `.message`) where the page would show an error: 402 declined, 400 bad number, 410 expired."""

        def pay() -> str:
            account = self._account(secret_key)
            session = account.get("checkout.session", session_id)
            return checkout.pay(Call(self._core, account), session, card, email)

        return self._run(pay)

    def billing_action(self, secret_key: str, session_id: str, subscription_id: str, action: str,
                       price: str | None = None) -> str:
        """What a Billing Portal button does (`cancel_at_period_end`, `cancel_now`, `resume`, `switch` with
        `price`): acts at once and returns the session's return_url; raises `errors.Refused` if not offered."""

        def act() -> str:
            account = self._account(secret_key)
            session = account.get("billing_portal.session", session_id)
            return portal_actions.act(Call(self._core, account), session, subscription_id, action, price)

        return self._run(act)

    @property
    def unavailable(self) -> _Outage:
        return _Outage(self._core)

    @unavailable.setter
    def unavailable(self, value: bool) -> None:
        self._core.unavailable = bool(value)
