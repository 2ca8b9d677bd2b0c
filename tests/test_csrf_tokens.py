"""The templates' CSRF token: signed once a minute per session, and every token handed out is accepted."""

from flask_wtf.csrf import generate_csrf

from portal import extensions
from tests.support.pages import csrf_token, redirect_path


def test_a_sessions_token_is_signed_again_after_a_minute_and_every_one_handed_out_is_accepted(
        app, vendor, portal_client, monkeypatch):
    dashboard = f"/Portal/@{vendor.slug}/"
    portal_client.get(dashboard)  # a login starts a new raw token: the session's first page makes it
    clock, signed = [1000.0], []
    monkeypatch.setattr(extensions.time, "monotonic", lambda: clock[0])
    monkeypatch.setattr(extensions, "generate_csrf", lambda: signed.append(1) or generate_csrf())
    monkeypatch.setattr(extensions.csrf_token, "_signed", {})

    first = csrf_token(portal_client, dashboard)
    clock[0] += 59
    assert csrf_token(portal_client, dashboard) == first
    assert len(signed) == 1
    clock[0] += 2
    csrf_token(portal_client, dashboard)
    assert len(signed) == 2, "a token older than a minute is signed afresh"

    # The token first handed out still logs the customer out (it is checked against the same raw token).
    response = portal_client.post(f"/Portal/@{vendor.slug}/Logout", data={"csrf_token": first})
    login = f"/Portal/@{vendor.slug}/Login"
    assert (response.status_code, response.headers["Location"]) == (303, login)
    after = portal_client.get(dashboard)
    assert (after.status_code, redirect_path(after)) == (303, login), "logged out"


def test_each_session_gets_its_own_token(app, make, vendor, account, portal_client):
    stranger = app.test_client()
    login = f"/Portal/@{vendor.slug}/Login"
    theirs = csrf_token(stranger, login)
    mine = csrf_token(portal_client, f"/Portal/@{vendor.slug}/")
    assert theirs != mine
    response = stranger.post(f"/Portal/@{vendor.slug}/Logout", data={"csrf_token": mine})
    assert response.status_code == 400, "a token of another session is refused"
