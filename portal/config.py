"""Configuration read from the environment, with safe development defaults."""

import os
from pathlib import Path
from urllib.parse import urlsplit

from dotenv import load_dotenv

PROJECT_ROOT = Path(__file__).resolve().parent.parent

DEVELOPMENT_SECRET_KEY = "dev-secret-key-change-me"  # noqa: S105 - refused in production below

_TRUE = {"1", "true", "yes", "on"}


def env_flag(name: str, default: bool) -> bool:
    value = os.environ.get(name, "").strip().lower()
    return default if not value else value in _TRUE


def env_str(name: str, default: str) -> str:
    """An unset or empty variable means the default, so `.env` can list every name with no value."""
    return os.environ.get(name) or default


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return default if not value else int(value)


def from_environment(instance_path: str) -> dict:
    """Settings for `create_app`; every name is documented in README.md and `.env.example`.

    The project's `.env` (written by `make run`) fills in what the environment does not set."""
    if os.environ.get("PORTAL_NO_DOTENV") != "1":
        load_dotenv(PROJECT_ROOT / ".env", override=False)
    instance = Path(instance_path)
    return {
        "ENV_NAME": env_str("PORTAL_ENV", "development"),
        "SECRET_KEY": env_str("SECRET_KEY", DEVELOPMENT_SECRET_KEY),
        "ENCRYPTION_KEY": env_str("ENCRYPTION_KEY", ""),
        "DATABASE_URL": env_str("DATABASE_URL", f"sqlite:///{instance / 'portal.db'}"),
        "REDIS_URL": env_str("REDIS_URL", ""),
        # Several portals (or test runs) on one Redis keep their rate-limit counts and job queues apart.
        "RATELIMIT_KEY_PREFIX": env_str("RATELIMIT_KEY_PREFIX", ""),
        "JOBS_QUEUE_NAME": env_str("JOBS_QUEUE_NAME", "portal"),
        "PORTAL_BASE_URL": env_str("PORTAL_BASE_URL", "").rstrip("/"),
        "TRUSTED_PROXIES": env_int("TRUSTED_PROXIES", 0),
        "VENDOR_REGISTRATION": env_flag("VENDOR_REGISTRATION", True),
        "MAIL_BACKEND": env_str("MAIL_BACKEND", "console"),
        "MAIL_FROM": env_str("MAIL_FROM", "Licensing portal <no-reply@localhost>"),
        "SMTP_HOST": env_str("SMTP_HOST", "127.0.0.1"),
        "SMTP_PORT": env_int("SMTP_PORT", 25),
        "SMTP_USERNAME": env_str("SMTP_USERNAME", ""),
        "SMTP_PASSWORD": env_str("SMTP_PASSWORD", ""),
        "SMTP_STARTTLS": env_flag("SMTP_STARTTLS", False),
        "MAIL_OUTBOX_DIR": env_str("MAIL_OUTBOX_DIR", str(instance / "outbox")),
        "JOBS_SQLITE_PATH": env_str("JOBS_SQLITE_PATH", str(instance / "jobs.db")),
        "JOBS_IMMEDIATE": env_flag("JOBS_IMMEDIATE", False),
        "RATELIMIT_ENABLED": env_flag("RATELIMIT_ENABLED", True),
        "SESSION_COOKIE_SECURE": env_flag("SESSION_COOKIE_SECURE", False),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        # The cookie is signed again only when the session changes, not on every request: a login lasts
        # PERMANENT_SESSION_LIFETIME (31 days) from its last change (logging in, a flash message, a new CSRF token).
        "SESSION_REFRESH_EACH_REQUEST": False,
        "REMEMBER_COOKIE_HTTPONLY": True,
        "WTF_CSRF_TIME_LIMIT": None,
        "PAGE_SIZE": env_int("PAGE_SIZE", 25),
        # Where Stripe's API is: empty for Stripe itself, the local stand-in's address for the demo and the tests.
        "STRIPE_API_BASE": env_str("STRIPE_API_BASE", "").rstrip("/"),
        # The demo vendor's connection to the stand-in (`flask seed-demo`); a real vendor's keys live encrypted in
        # the database, pasted in Settings.
        "STRIPE_SECRET_KEY": env_str("STRIPE_SECRET_KEY", ""),
        "STRIPE_WEBHOOK_SECRET": env_str("STRIPE_WEBHOOK_SECRET", ""),
    }


def _safe_stripe_base(address: str) -> bool:
    parts = urlsplit(address)
    return not address or parts.scheme == "https" or (parts.scheme == "http" and parts.hostname in _LOOPBACK)


_LOOPBACK = ("127.0.0.1", "localhost", "::1")


def refuse_unsafe_production(config: dict) -> None:
    """Stop a production start that would run on development secrets."""
    if config["ENV_NAME"] != "production":
        return
    problems = []
    if config["SECRET_KEY"] in ("", DEVELOPMENT_SECRET_KEY) or len(config["SECRET_KEY"]) < 32:
        problems.append("SECRET_KEY must be set to a random value of at least 32 characters")
    if not config["ENCRYPTION_KEY"]:
        problems.append("ENCRYPTION_KEY must be set (a Fernet key)")
    if config["DATABASE_URL"].startswith("sqlite"):
        problems.append("DATABASE_URL must point at PostgreSQL")
    if config["MAIL_BACKEND"] != "smtp":
        problems.append("MAIL_BACKEND must be smtp")
    if not config["REDIS_URL"]:
        problems.append("REDIS_URL must be set (rate limits and jobs shared by every process)")
    if not config["SESSION_COOKIE_SECURE"]:
        problems.append("SESSION_COOKIE_SECURE must be true (the portal is served over HTTPS)")
    if not config["PORTAL_BASE_URL"].startswith("https://"):
        # Links in mail (password reset, e-mail confirmation) would otherwise be built from the request's Host
        # header, which the client chooses: a forged Host would mail a victim a link to the forger's site.
        problems.append("PORTAL_BASE_URL must be the portal's public https:// address (links in mail use it)")
    if not _safe_stripe_base(config["STRIPE_API_BASE"]):
        # Each vendor's Stripe secret key is sent there: never in clear text over a network.
        problems.append("STRIPE_API_BASE must be empty (Stripe itself), an https:// address, or a stand-in on loopback")
    if config["JOBS_IMMEDIATE"]:
        problems.append("JOBS_IMMEDIATE is for the test suite only (jobs would run inside requests)")
    if os.environ.get("PORTAL_FAST_HASHING") == "1":
        problems.append("PORTAL_FAST_HASHING is for the test suite only")
    if problems:
        raise RuntimeError("Refusing to start in production: " + "; ".join(problems))
