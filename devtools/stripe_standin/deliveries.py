"""Webhook delivery: a queue per account, sent one event at a time in creation order, signed as Stripe signs.

Stripe's own delivery is concurrent and may reorder; the stand-in keeps order per account so that a test is
deterministic, and offers `hold`/`release(order=...)` and `redeliver` when a test wants disorder or repeats.
A non-2xx answer or a connection error is retried `retries` times, `retry_delay` seconds apart.
"""

import asyncio
import hashlib
import hmac
import json
import time
from collections import deque

import aiohttp

from .store import AccountData


def signature_header(body: bytes, secret: str, timestamp: int) -> str:
    """`t=<unix>,v1=<hex HMAC-SHA256 of "<t>.<body>">`, what `stripe.Webhook.construct_event` verifies."""
    mac = hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


class Deliveries:
    """Queues, workers and the attempt log; lives on the server's event loop."""

    def __init__(self, core, retries: int, retry_delay: float, timeout: float = 10.0):
        self.core = core
        self.retries = retries
        self.retry_delay = retry_delay
        self.timeout = timeout
        self.held = False
        self.log: list[dict] = []
        # account id -> (event id, endpoint ids) waiting; a worker task per account while any are sendable
        self._queues: dict[str, deque[tuple[str, list[str]]]] = {}
        self._workers: dict[str, asyncio.Task] = {}
        self._session: aiohttp.ClientSession | None = None

    @property
    def idle(self) -> bool:
        """Nothing in flight and nothing sendable waiting (held events wait for `release`, so they do not count)."""
        return not self._workers

    def enqueue(self, account: AccountData, event_id: str, endpoint_ids: list[str] | None = None) -> None:
        if endpoint_ids is None:
            endpoint_ids = sorted(account.outstanding.get(event_id, ()))
        self._queues.setdefault(account.account.id, deque()).append((event_id, endpoint_ids))
        self._wake(account.account.id)

    def pending(self, account: AccountData) -> list[dict]:
        queue = self._queues.get(account.account.id, ())
        return [account.events[event_id] for event_id, _ in queue if event_id in account.events]

    def hold(self) -> None:
        self.held = True

    def release(self, order: list[str] | None = None) -> None:
        """Sends what was held; events named in `order` go first, in that order, then the rest as created."""
        if order:
            rank = {event_id: position for position, event_id in enumerate(order)}
            for account_id, queue in self._queues.items():
                ordered = sorted(queue, key=lambda item: rank.get(item[0], len(rank)))
                self._queues[account_id] = deque(ordered)
        self.held = False
        for account_id in list(self._queues):
            self._wake(account_id)

    async def reset(self) -> None:
        workers = list(self._workers.values())
        for task in workers:
            task.cancel()
        await asyncio.gather(*workers, return_exceptions=True)
        self._workers.clear()
        self._queues.clear()
        self.log.clear()
        self.held = False

    async def close(self) -> None:
        await self.reset()
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _wake(self, account_id: str) -> None:
        if self.held or account_id in self._workers or not self._queues.get(account_id):
            return
        self._workers[account_id] = asyncio.get_running_loop().create_task(self._work(account_id))

    async def _work(self, account_id: str) -> None:
        try:
            queue = self._queues[account_id]
            while queue and not self.held:
                event_id, endpoint_ids = queue[0]
                account = self.core.accounts.by_id.get(account_id)
                event = account.events.get(event_id) if account else None
                for endpoint_id in endpoint_ids if event else ():
                    endpoint = account.objects["webhook_endpoint"].get(endpoint_id)
                    if endpoint and not endpoint.get("deleted"):
                        await self._deliver(account, event, endpoint)
                queue.popleft()
        finally:
            self._workers.pop(account_id, None)

    async def _deliver(self, account: AccountData, event: dict, endpoint: dict) -> None:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.timeout))
        for attempt in range(1, self.retries + 2):
            body = json.dumps(event, indent=2).encode()
            headers = {
                "Content-Type": "application/json; charset=utf-8",
                "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
                "Stripe-Signature": signature_header(body, endpoint["secret"], int(time.time())),
            }
            status, error = None, None
            try:
                async with self._session.post(endpoint["url"], data=body, headers=headers) as response:
                    await response.read()
                    status = response.status
            except (TimeoutError, aiohttp.ClientError) as failure:
                error = str(failure) or type(failure).__name__
            self.log.append(
                {
                    "account_id": account.account.id,
                    "event_id": event["id"],
                    "type": event["type"],
                    "endpoint_id": endpoint["id"],
                    "url": endpoint["url"],
                    "attempt": attempt,
                    "status": status,
                    "error": error,
                    "at": time.time(),
                }
            )
            if status is not None and 200 <= status < 300:
                self._succeeded(account, event, endpoint["id"])
                return
            if attempt <= self.retries:
                await asyncio.sleep(self.retry_delay)

    def _succeeded(self, account: AccountData, event: dict, endpoint_id: str) -> None:
        outstanding = account.outstanding.get(event["id"])
        if outstanding and endpoint_id in outstanding:
            outstanding.discard(endpoint_id)
            event["pending_webhooks"] = len(outstanding)
            if not outstanding:
                del account.outstanding[event["id"]]
            self.core.touch(account)
