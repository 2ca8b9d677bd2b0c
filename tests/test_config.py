import os

import pytest

from portal import create_app
from portal.config import DEVELOPMENT_SECRET_KEY

PRODUCTION = {"ENV_NAME": "production", "SECRET_KEY": "s" * 48, "ENCRYPTION_KEY": "k",
              "DATABASE_URL": "postgresql://db/portal", "MAIL_BACKEND": "smtp", "REDIS_URL": "redis://cache:6379/0",
              "SESSION_COOKIE_SECURE": True, "PORTAL_BASE_URL": "https://licenses.example.com",
              "JOBS_IMMEDIATE": False}


@pytest.mark.parametrize(("override", "complaint"), [
    ({"SECRET_KEY": DEVELOPMENT_SECRET_KEY}, "SECRET_KEY"),
    ({"SECRET_KEY": "short"}, "SECRET_KEY"),
    ({"ENCRYPTION_KEY": ""}, "ENCRYPTION_KEY"),
    ({"DATABASE_URL": "sqlite:///x.db"}, "PostgreSQL"),
    ({"MAIL_BACKEND": "console"}, "MAIL_BACKEND"),
    ({"REDIS_URL": ""}, "REDIS_URL"),
    ({"SESSION_COOKIE_SECURE": False}, "SESSION_COOKIE_SECURE"),
    ({"PORTAL_BASE_URL": ""}, "PORTAL_BASE_URL"),
    ({"PORTAL_BASE_URL": "http://licenses.example.com"}, "PORTAL_BASE_URL"),
    ({"JOBS_IMMEDIATE": True}, "JOBS_IMMEDIATE"),
    ({"STRIPE_API_BASE": "http://stripe-proxy.internal"}, "STRIPE_API_BASE"),
])
def test_production_refuses_development_defaults(override, complaint, monkeypatch):
    monkeypatch.delenv("PORTAL_FAST_HASHING", raising=False)
    with pytest.raises(RuntimeError, match=complaint):
        create_app(PRODUCTION | override)


def test_production_refuses_the_test_suites_fast_hashing():
    with pytest.raises(RuntimeError, match="PORTAL_FAST_HASHING"):
        create_app(PRODUCTION)


@pytest.mark.parametrize("address", ["", "https://api.stripe.com", "http://127.0.0.1:12111", "http://localhost:9"])
def test_production_takes_stripe_itself_https_or_a_stand_in_on_loopback(address):
    with pytest.raises(RuntimeError) as refused:  # the test suite's fast hashing, and nothing else
        create_app(PRODUCTION | {"STRIPE_API_BASE": address})
    assert "STRIPE_API_BASE" not in str(refused.value)


def test_times_come_back_timezone_aware(make, vendor, db):
    from datetime import UTC, datetime, timedelta, timezone

    from sqlalchemy import select, text

    from portal.models import Vendor

    assert db.get(Vendor, vendor.id).created.tzinfo is not None
    moment = datetime(2026, 3, 1, 12, 30, 15, 123456, tzinfo=timezone(timedelta(hours=2)))
    vendor = db.get(Vendor, vendor.id)
    vendor.created = moment
    db.commit()
    read = db.execute(select(Vendor.__table__.c.created).where(Vendor.__table__.c.id == vendor.id)).scalar_one()
    assert read == moment and read.tzinfo == UTC and read.hour == 10
    # A value written by other means with an offset (SQLite keeps text as it is given) is turned into UTC too.
    if db.get_bind().dialect.name == "sqlite":
        db.execute(text("UPDATE vendor SET created = '2026-03-01 12:30:15.5+02:00' WHERE id = :id"), {"id": vendor.id})
        read = db.execute(select(Vendor.__table__.c.created).where(Vendor.__table__.c.id == vendor.id)).scalar_one()
        assert read == datetime(2026, 3, 1, 10, 30, 15, 500000, tzinfo=UTC) and read.tzinfo == UTC


def _redis_url() -> str:
    """Redis on this machine (CI has it; elsewhere a test without it is skipped)."""
    import redis

    url = "redis://127.0.0.1:6379/14"
    try:
        redis.Redis.from_url(url).ping()
    except redis.exceptions.ConnectionError:
        pytest.skip("no Redis on 127.0.0.1:6379") if os.environ.get("CI") != "true" else pytest.fail("no Redis")
    return url


def test_rate_limits_are_shared_between_processes_through_redis(app, make, vendor):
    """With REDIS_URL, every app process counts against the same limits (production runs several)."""
    import uuid

    url = _redis_url()
    config = {key: app.config[key] for key in ("TESTING", "DATABASE_URL", "SECRET_KEY", "MAIL_BACKEND")}
    run = uuid.uuid4().hex  # counts of other runs on the same Redis stay apart
    first, second = (create_app(config | {"REDIS_URL": url, "RATELIMIT_KEY_PREFIX": run}).test_client()
                     for _ in range(2))
    email = f"{run}@example.test"
    from tests.support.pages import post_form

    statuses = [post_form(client, "/vendor/login", {"email": email, "password": "wrong-password"}).status_code
                for client in [first] * 5 + [second] * 5]
    assert statuses == [422] * 10
    assert post_form(second, "/vendor/login", {"email": email, "password": "wrong-password"}).status_code == 429


def test_portals_sharing_one_redis_keep_their_counts_apart(app):
    """RATELIMIT_KEY_PREFIX keeps apart the counts the portal keeps itself with the limiter (login failures, wrong
    current passwords, Web API calls) as it does Flask-Limiter's: ten wrong passwords for an e-mail on one portal lock
    nothing on the other."""
    import uuid

    from portal.throttle import LoginThrottle

    url = _redis_url()
    config = {key: app.config[key] for key in ("TESTING", "DATABASE_URL", "SECRET_KEY", "MAIL_BACKEND")}
    run = uuid.uuid4().hex
    first, second = (create_app(config | {"REDIS_URL": url, "RATELIMIT_KEY_PREFIX": f"{run}-{n}"}) for n in range(2))
    throttle = LoginThrottle(scope="vendor", email="owner@example.test", address="192.0.2.7")
    with first.test_request_context():
        for _ in range(10):
            throttle.failed()
        assert throttle.locked()
    with second.test_request_context():
        assert not throttle.locked() and not throttle.refused_outright()
