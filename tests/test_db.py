"""The request's database session: GET and HEAD requests read only."""

import pytest
from sqlalchemy import text, update
from sqlalchemy.exc import DBAPIError

from portal.db import get_session, make_engine
from portal.models import Vendor


@pytest.mark.parametrize("write", [
    lambda vendor: update(Vendor).where(Vendor.id == vendor.id).values(name="Changed"),
    lambda vendor: text("DELETE FROM vendor"),
    lambda vendor: text("CREATE TABLE sneaky (id INTEGER)"),
], ids=["orm-update", "text-delete", "create-table"])
def test_a_get_request_may_not_write(app, vendor, db, write):
    @app.get("/_test/write")
    def write_on_get():
        get_session().execute(write(vendor))
        get_session().commit()
        return "written"

    @app.post("/_test/write")
    def write_on_post():
        get_session().execute(update(Vendor).where(Vendor.id == vendor.id).values(name="Posted"))
        get_session().commit()
        return "written"

    with pytest.raises(DBAPIError, match="read-?only"):
        app.test_client().get("/_test/write")
    db.expire_all()
    assert db.get(Vendor, vendor.id).name == vendor.name
    app.config["WTF_CSRF_ENABLED"] = False
    assert app.test_client().post("/_test/write").status_code == 200, "the connection writes again for a POST"
    db.expire_all()
    assert db.get(Vendor, vendor.id).name == "Posted"


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


def test_a_pooled_connection_the_server_dropped_is_replaced(database_url):
    engine = make_engine(database_url)
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite has no server to drop a connection")
    with engine.connect() as connection:
        first = connection.execute(text("SELECT pg_backend_pid()")).scalar_one()
    admin = make_engine(database_url)  # the server drops the pooled connection while it sits idle
    with admin.connect() as other:
        other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": first})
    admin.dispose()
    with engine.connect() as connection:
        assert connection.execute(text("SELECT pg_backend_pid()")).scalar_one() != first
    engine.dispose()
