"""The templates' CSRF token: the one a page shows is accepted, and only for its own session."""

from tests.support.pages import csrf_token, redirect_path


def test_the_token_a_page_shows_is_accepted(vendor, portal_client):
    dashboard, login = f"/Portal/@{vendor.slug}/", f"/Portal/@{vendor.slug}/Login"
    token = csrf_token(portal_client, dashboard)
    response = portal_client.post(f"/Portal/@{vendor.slug}/Logout", data={"csrf_token": token})
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
