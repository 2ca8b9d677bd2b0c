"""The state of one stand-in (accounts, deliveries, persistence, the outage switch), owned by its event loop."""

from .deliveries import Deliveries
from .persistence import Persistence
from .store import AccountData, Accounts


class Core:
    def __init__(self, data_dir=None, retries: int = 3, retry_delay: float = 0.2, open_accounts: bool = False):
        self.accounts = Accounts()
        # `make run`'s stand-in: a test key it does not know opens an account of its own, as signing up to Stripe
        # would (for a vendor registered in the demo). Tests leave it off: an unknown key is refused, as Stripe does.
        self.open_accounts = open_accounts
        self.deliveries = Deliveries(self, retries, retry_delay)
        self.persistence = Persistence(data_dir) if data_dir is not None else None
        self.unavailable = False
        self.base_url = ""  # set once the server listens: the address its own pages (Checkout, portal) live at

    def load(self) -> None:
        if self.persistence is not None:
            for account in self.persistence.load():
                self.accounts.add(account)

    def touch(self, account: AccountData) -> None:
        """Marks an account changed; with a data_dir, its file is rewritten shortly (debounced)."""
        if self.persistence is not None:
            self.persistence.touch(account)

    async def reset(self) -> None:
        await self.deliveries.reset()
        if self.persistence is not None:
            self.persistence.forget(list(self.accounts.by_id))
        self.accounts.clear()
        self.unavailable = False

    async def close(self) -> None:
        await self.deliveries.close()
        if self.persistence is not None:
            self.persistence.flush()
