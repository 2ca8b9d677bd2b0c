"""Write a development `.env` once, with a random SECRET_KEY and ENCRYPTION_KEY that later runs keep:
`make_env.py .env [NAME=VALUE ...]`.

A `.env` written before a setting existed gains that setting (with a fresh value where it needs one), so an
older checkout's `make run` keeps working; what is already there is kept, but for the NAME=VALUE settings given
after the path: `make run` passes the stand-in's port and address it chose for this run (from the environment or
`.env`), so that commands run later outside `make run` (`.venv/bin/flask --app wsgi stripe reconcile`, …) reach
the same stand-in.
"""

import secrets
import sys
from pathlib import Path

from cryptography.fernet import Fernet

FRESH = {
    "SECRET_KEY": lambda: secrets.token_urlsafe(48),
    "ENCRYPTION_KEY": lambda: Fernet.generate_key().decode(),
    # The stand-in's demo account and the demo vendor's signing secret. The stand-in refuses (401) a key that none
    # of its accounts has: `make run` starts it with `--account` and this key, which makes the demo account.
    "STRIPE_SECRET_KEY": lambda: "sk_test_demo" + secrets.token_hex(12),
    "STRIPE_WEBHOOK_SECRET": lambda: "whsec_demo" + secrets.token_hex(16),
    # The development stand-in's address (.env.example leaves it empty, Stripe itself, as production needs it).
    "STRIPE_API_BASE": lambda: "http://127.0.0.1:12111",
    # The demo vendor's Web API token: tokens are kept only as hashes, so the seed makes it from this one.
    "DEMO_API_TOKEN": lambda: secrets.token_urlsafe(32),
}


def _name(line: str) -> str | None:
    return line.split("=", 1)[0].strip() if "=" in line and not line.lstrip().startswith("#") else None


def _value(line: str) -> str:
    value = line.split("=", 1)[1].strip()
    return value[1:-1] if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"" else value


def main(target: Path, chosen: dict[str, str] | None = None) -> None:
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
    if lines:
        if target.exists():
            with target.open("a") as env:
                env.write("\n".join(lines) + "\n")
            print(f"Added {', '.join(_name(line) for line in lines if _name(line))} to {target}.")
        else:
            target.write_text("\n".join(lines) + "\n")
            print(f"Wrote {target} with fresh development keys (kept for later runs).")
    if chosen:
        _record(target, chosen)


def _record(target: Path, chosen: dict[str, str]) -> None:
    """Gives each setting in `chosen` its value in `target` (every line of that name), changing nothing else."""
    lines = target.read_text().splitlines()
    changed = []
    for name, value in chosen.items():
        where = [n for n, line in enumerate(lines) if _name(line) == name]
        if where and all(_value(lines[n]) == value for n in where):
            continue
        for n in where:
            lines[n] = f"{name}={value}"
        if not where:
            lines.append(f"{name}={value}")
        changed.append(f"{name}={value}")
    if changed:
        target.write_text("\n".join(lines) + "\n")
        print(f"Set {', '.join(changed)} in {target}.")


def _setting(argument: str) -> tuple[str, str]:
    name, equals, value = argument.partition("=")
    if not equals or not name or name != name.strip():
        sys.exit(f"make_env.py: {argument!r} is not NAME=VALUE")
    return name, value


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else ".env"), dict(_setting(arg) for arg in sys.argv[2:]))
