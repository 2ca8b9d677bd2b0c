"""JSON files per account under `data_dir` (`<account id>.json`), written atomically and debounced.

A change marks its account dirty; the write happens `delay` seconds later, so a burst of requests costs one
dump. Only the newest `events_kept` events are written: enough for `delivery_success=false` after a restart
without letting a long benchmark make every write larger.
"""

import asyncio
import json
import os
import tempfile
from pathlib import Path

from .store import KINDS, Account, AccountData

FORMAT = 1


class Persistence:
    def __init__(self, data_dir: str | os.PathLike, delay: float = 0.5, events_kept: int = 1000):
        self.data_dir = Path(data_dir)
        self.delay = delay
        self.events_kept = events_kept
        self._dirty: dict[str, AccountData] = {}
        self._timer: asyncio.TimerHandle | None = None

    def load(self) -> list[AccountData]:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        return [self._read(path) for path in sorted(self.data_dir.glob("acct_*.json"))]

    def touch(self, account: AccountData) -> None:
        self._dirty[account.account.id] = account
        if self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(self.delay, self.flush)

    def flush(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        dirty, self._dirty = self._dirty, {}
        for account in dirty.values():
            self._write(account)

    def forget(self, account_ids) -> None:
        """Deletes the files of forgotten accounts (a reset), and any write still waiting for them."""
        for account_id in account_ids:
            self._dirty.pop(account_id, None)
            (self.data_dir / f"{account_id}.json").unlink(missing_ok=True)

    def _write(self, account: AccountData) -> None:
        events = list(account.events.values())[-self.events_kept :]
        document = {
            "format": FORMAT,
            "account": {**vars(account.account), "created": account.created},
            "objects": account.objects,
            "events": events,
            "outstanding": {
                event["id"]: sorted(account.outstanding[event["id"]])
                for event in events
                if event["id"] in account.outstanding
            },
        }
        target = self.data_dir / f"{account.account.id}.json"
        handle, temporary = tempfile.mkstemp(dir=self.data_dir, prefix=".tmp-", suffix=".json")
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as file:
                json.dump(document, file)
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise

    @staticmethod
    def _read(path: Path) -> AccountData:
        document = json.loads(path.read_text(encoding="utf-8"))
        fields = dict(document["account"])
        created = fields.pop("created", None)
        account = AccountData(Account(**fields), created)
        for kind in KINDS:
            account.objects[kind] = document["objects"].get(kind, {})
        account.events = {event["id"]: event for event in document["events"]}
        account.outstanding = {event_id: set(ids) for event_id, ids in document["outstanding"].items()}
        return account
