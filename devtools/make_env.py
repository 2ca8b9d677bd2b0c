"""Write a development `.env` once, with a random SECRET_KEY and ENCRYPTION_KEY that later runs keep.

A `.env` written before a setting existed gains that setting (with a fresh value where it needs one), so an
older checkout's `make run` keeps working; what is already there is never changed.
"""

import secrets
import sys
from pathlib import Path

from cryptography.fernet import Fernet

FRESH = {
    "SECRET_KEY": lambda: secrets.token_urlsafe(48),
    "ENCRYPTION_KEY": lambda: Fernet.generate_key().decode(),
    # The stand-in's demo account and the demo vendor's signing secret (the stand-in accepts any sk_test_ key).
    "STRIPE_SECRET_KEY": lambda: "sk_test_demo" + secrets.token_hex(12),
    "STRIPE_WEBHOOK_SECRET": lambda: "whsec_demo" + secrets.token_hex(16),
    # The demo vendor's Web API token: tokens are kept only as hashes, so the seed makes it from this one.
    "DEMO_API_TOKEN": lambda: secrets.token_urlsafe(32),
}


def _name(line: str) -> str | None:
    return line.split("=", 1)[0].strip() if "=" in line and not line.lstrip().startswith("#") else None


def main(target: Path) -> None:
    example = Path(__file__).resolve().parent.parent / ".env.example"
    present = {_name(line) for line in target.read_text().splitlines()} if target.exists() else set()
    lines, comments = [], []
    for line in example.read_text().splitlines():
        name = _name(line)
        if name is None:
            comments.append(line)
            continue
        if name not in present:
            lines += comments + [f"{name}={FRESH[name]()}" if name in FRESH else line]
        comments = []
    if not lines:
        return
    if target.exists():
        with target.open("a") as env:
            env.write("\n".join(lines) + "\n")
        print(f"Added {', '.join(_name(line) for line in lines if _name(line))} to {target}.")
    else:
        target.write_text("\n".join(lines) + "\n")
        print(f"Wrote {target} with fresh development keys (kept for later runs).")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else ".env"))
