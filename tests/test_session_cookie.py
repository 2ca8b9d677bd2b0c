"""The session cookie: checked once per process, but its age every time, and a changed cookie is checked again."""

import time

from flask import request

from portal import extensions
from tests.support.pages import redirect_path


def _cookie(client, app) -> str:
    return client.get_cookie(app.config["SESSION_COOKIE_NAME"]).value


def test_a_remembered_cookie_still_expires(app, vendor, portal_client, monkeypatch):
    dashboard, login = f"/Portal/@{vendor.slug}/", f"/Portal/@{vendor.slug}/Login"
    assert portal_client.get(dashboard).status_code == 200
    assert portal_client.get(dashboard).status_code == 200  # served from the remembered check
    lifetime = app.permanent_session_lifetime.total_seconds()
    later = time.time() + lifetime + 5
    monkeypatch.setattr(extensions.time, "time", lambda: later)
    response = portal_client.get(dashboard)
    assert (response.status_code, redirect_path(response)) == (303, login), "an expired cookie logs nobody in"


def test_a_changed_cookie_is_checked_again(app, vendor, portal_client):
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


def test_the_session_read_from_a_remembered_cookie_is_a_fresh_copy(app, vendor, portal_client):
    dashboard = f"/Portal/@{vendor.slug}/"
    portal_client.get(dashboard)
    cookie = f"{app.config['SESSION_COOKIE_NAME']}={_cookie(portal_client, app)}"
    with app.test_request_context(dashboard, headers={"Cookie": cookie}):
        first = app.session_interface.open_session(app, request)
        first["mutated"] = [1]
        second = app.session_interface.open_session(app, request)
    assert "mutated" not in second and second.keys() == first.keys() - {"mutated"}
    assert extensions.SessionInterface._verified
