"""The templates' CSRF token: the one a page shows is accepted, and only for its own session."""

from tests.conftest import csrf_from


def test_the_token_a_page_shows_is_accepted(vendor, portal_client):
    dashboard = f"/Portal/@{vendor.slug}/"
    token = csrf_from(portal_client.get(dashboard).get_data(as_text=True))
    response = portal_client.post(f"/Portal/@{vendor.slug}/Logout", data={"csrf_token": token})
    assert response.status_code == 303
    assert portal_client.get(dashboard).status_code == 303, "logged out"


def test_each_session_gets_its_own_token(app, make, vendor, account, portal_client):
    stranger = app.test_client()
    login = f"/Portal/@{vendor.slug}/Login"
    theirs = csrf_from(stranger.get(login).get_data(as_text=True))
    mine = csrf_from(portal_client.get(f"/Portal/@{vendor.slug}/").get_data(as_text=True))
    assert theirs != mine
    response = stranger.post(f"/Portal/@{vendor.slug}/Logout", data={"csrf_token": mine})
    assert response.status_code == 400, "a token of another session is refused"
