import pytest

from portal import create_app
from portal.config import DEVELOPMENT_SECRET_KEY

PRODUCTION = {"ENV_NAME": "production", "SECRET_KEY": "s" * 48, "ENCRYPTION_KEY": "k",
              "DATABASE_URL": "postgresql://db/portal", "MAIL_BACKEND": "smtp"}


@pytest.mark.parametrize(("override", "complaint"), [
    ({"SECRET_KEY": DEVELOPMENT_SECRET_KEY}, "SECRET_KEY"),
    ({"SECRET_KEY": "short"}, "SECRET_KEY"),
    ({"ENCRYPTION_KEY": ""}, "ENCRYPTION_KEY"),
    ({"DATABASE_URL": "sqlite:///x.db"}, "PostgreSQL"),
    ({"MAIL_BACKEND": "console"}, "MAIL_BACKEND"),
])
def test_production_refuses_development_defaults(override, complaint, monkeypatch):
    monkeypatch.delenv("PORTAL_FAST_HASHING", raising=False)
    with pytest.raises(RuntimeError, match=complaint):
        create_app(PRODUCTION | override)


def test_production_refuses_the_test_suites_fast_hashing():
    with pytest.raises(RuntimeError, match="PORTAL_FAST_HASHING"):
        create_app(PRODUCTION)


def test_times_come_back_timezone_aware(make, vendor, db):
    from portal.models import Vendor

    assert db.get(Vendor, vendor.id).created.tzinfo is not None
