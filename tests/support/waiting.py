"""A transaction that must wait for another's lock: run it in a thread and check that it is still waiting."""

import threading
from collections.abc import Callable


def waiting_on_a_lock(work: Callable[[], None], why: str) -> threading.Thread:
    """`work` started in a thread, which one second later must still be waiting (on a lock the caller holds)."""
    worker = threading.Thread(target=work)
    worker.start()
    worker.join(timeout=1)
    assert worker.is_alive(), why
    return worker
