"""Wait (up to 15 s) until a local service answers a GET with 2xx: `wait_for.py URL [BEARER_TOKEN]`."""

import sys
import time
import urllib.error
import urllib.request

url, token = sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else ""
if not url.startswith(("http://127.0.0.1:", "http://localhost:")):
    sys.exit(f"wait_for.py waits for loopback services only, not {url}")
deadline = time.monotonic() + 15
while True:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"} if token else {})  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=2):  # noqa: S310 - loopback only, checked above
            sys.exit(0)
    except (urllib.error.URLError, OSError):
        if time.monotonic() > deadline:
            sys.exit(1)
        time.sleep(0.2)
