"""The session cookie: a forged one logs nobody in, and neither does one older than the session's lifetime."""

import time

from itsdangerous import TimestampSigner

from tests.support.pages import redirect_path


def _cookie(client, app) -> str:
    return client.get_cookie(app.config["SESSION_COOKIE_NAME"]).value


def test_an_expired_cookie_logs_nobody_in(app, vendor, portal_client, monkeypatch):
    dashboard, login = f"/Portal/@{vendor.slug}/", f"/Portal/@{vendor.slug}/Login"
    assert portal_client.get(dashboard).status_code == 200
    later = int(time.time() + app.permanent_session_lifetime.total_seconds()) + 5
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda _signer: later)
    response = portal_client.get(dashboard)
    assert (response.status_code, redirect_path(response)) == (303, login), "an expired cookie logs nobody in"


def test_a_forged_cookie_logs_nobody_in(app, vendor, portal_client):
    dashboard, login = f"/Portal/@{vendor.slug}/", f"/Portal/@{vendor.slug}/Login"
    assert portal_client.get(dashboard).status_code == 200
    cookie = _cookie(portal_client, app)
    payload, _, signature = cookie.rpartition(".")
    forged = payload + "." + ("A" if signature[0] != "A" else "B") + signature[1:]
    portal_client.set_cookie(app.config["SESSION_COOKIE_NAME"], forged)
    response = portal_client.get(dashboard)
    assert (response.status_code, redirect_path(response)) == (303, login), "a forged cookie logs nobody in"
    portal_client.set_cookie(app.config["SESSION_COOKIE_NAME"], cookie)
    assert portal_client.get(dashboard).status_code == 200
