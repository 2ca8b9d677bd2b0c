def test_vendor_login_page_renders(client):
    response = client.get("/vendor/login")
    assert response.status_code == 200
    assert b"Vendor login" in response.data


def test_portal_dashboard_for_logged_in_account(portal_client, vendor):
    response = portal_client.get(f"/Portal/@{vendor.slug}/")
    assert response.status_code == 200
    assert b"No licenses yet" in response.data
