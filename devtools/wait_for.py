"""Wait (up to 15 s) until a local service answers a GET with 2xx: `wait_for.py URL [BEARER_TOKEN [PID]]`.

With PID (the service's process), stop waiting as soon as that process has exited: it will not answer."""

import os
import sys
import time
import urllib.error
import urllib.request

url, token = sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else ""
pid = int(sys.argv[3]) if len(sys.argv) > 3 else None
if not url.startswith(("http://127.0.0.1:", "http://localhost:")):
    sys.exit(f"wait_for.py waits for loopback services only, not {url}")


def running(pid: int) -> bool:
    """Whether the process is there and not a zombie (exited, not yet reaped by its parent)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rpartition(")")[2].split()[0] != "Z"
    except FileNotFoundError:
        return False
    except OSError:  # no /proc: ask the kernel whether the process id is in use
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True


deadline = time.monotonic() + 15
while True:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"} if token else {})  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=2):  # noqa: S310 - loopback only, checked above
            sys.exit(0)
    except (urllib.error.URLError, OSError):
        if time.monotonic() > deadline or (pid is not None and not running(pid)):
            sys.exit(1)
        time.sleep(0.2)
