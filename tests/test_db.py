"""The request's database session: GET and HEAD requests read only (on PostgreSQL without a transaction)."""

import pytest
from sqlalchemy import update

from portal.db import get_session
from portal.models import Vendor


def test_a_get_request_may_not_write(app, vendor, db):
    @app.get("/_test/write")
    def write():
        get_session().execute(update(Vendor).where(Vendor.id == vendor.id).values(name="Changed"))
        get_session().commit()
        return "written"

    with pytest.raises(RuntimeError, match="GET request may not write"):
        app.test_client().get("/_test/write")
    db.expire_all()
    assert db.get(Vendor, vendor.id).name == vendor.name


def test_a_post_request_writes_in_one_transaction(app, vendor, db):
    @app.post("/_test/write")
    def write():
        get_session().execute(update(Vendor).where(Vendor.id == vendor.id).values(name="Changed"))
        get_session().commit()
        return "written"

    app.config["WTF_CSRF_ENABLED"] = False
    assert app.test_client().post("/_test/write").status_code == 200
    db.expire_all()
    assert db.get(Vendor, vendor.id).name == "Changed"
