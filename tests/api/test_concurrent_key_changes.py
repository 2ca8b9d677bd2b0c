"""Key methods called at once, over two app processes on PostgreSQL: those that change a key relative to what it is
(ExtendLicense adds days, AddFeature and RemoveFeature change one feature of eight) all count, and keys made for one
new e-mail (AddOrUseExistingCustomer) share one new customer."""

from datetime import timedelta

import pytest
from sqlmodel import select

from portal.models import Customer, LicenseKey
from tests.conftest import TEST_DATABASE
from tests.support.processes import child_config, post_at_once

pytestmark = [pytest.mark.processes,
              pytest.mark.skipif(TEST_DATABASE == "sqlite", reason="SQLite lets one writer in at a time")]


def _at_once(app, posts: list[dict]) -> list:
    answers = post_at_once(child_config(app, RATELIMIT_ENABLED=False), [posts[0::2], posts[1::2]])
    return [(status, body["result"]) for status, body in answers]


def test_extensions_and_feature_changes_made_at_once_all_count(app, api, make, vendor, product, db):
    key = make.key(product, period=30)
    expires, period = key.expires, key.period
    form = {"token": api.token(vendor, "keys"), "ProductId": product.id, "Key": key.key}

    extended = _at_once(app, [{"path": "/api/key/ExtendLicense", "data": form | {"NoOfDays": 1}}] * 12)
    assert extended == [(200, 0)] * 12
    db.expire_all()
    changed = db.get(LicenseKey, key.id)
    assert (changed.expires, changed.period) == (expires + timedelta(days=12), period + 12)

    features = _at_once(app, [{"path": "/api/key/AddFeature", "data": form | {"Feature": n}} for n in range(1, 9)])
    assert features == [(200, 0)] * 8
    db.expire_all()
    assert all(getattr(db.get(LicenseKey, key.id), f"f{n}") for n in range(1, 9))


def test_keys_made_at_once_for_one_new_email_share_one_new_customer(app, api, vendor, product, db):
    form = {"token": api.token(vendor, "keys", "customers"), "ProductId": product.id,
            "AddOrUseExistingCustomer": "True", "Email": "same@example.test", "Name": "Same"}
    made = _at_once(app, [{"path": "/api/key/CreateKey", "data": form}] * 10)
    assert made == [(200, 0)] * 10
    db.expire_all()
    customers = db.exec(select(Customer).where(Customer.vendor_id == vendor.id)).all()
    assert len(customers) == 1
    assert len(db.exec(select(LicenseKey).where(LicenseKey.customer_id == customers[0].id)).all()) == 10
