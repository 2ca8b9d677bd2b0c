"""The 404 page keeps the dashboard's navigation for a logged-in vendor user, and names nothing for anyone else."""


def test_a_logged_in_vendor_keeps_the_navigation_on_a_404(vendor_client, client, vendor):
    page = vendor_client.get("/vendor/no-such-page")
    assert page.status_code == 404
    html = page.get_data(as_text=True)
    assert 'href="/vendor/customers/"' in html and "Account" in html and 'href="/vendor/"' in html
    # A portal's address, and a stranger, get the neutral page.
    for response in (vendor_client.get(f"/Portal/@{vendor.slug}/NoSuchPage"), client.get("/vendor/no-such-page")):
        assert response.status_code == 404
        assert 'href="/vendor/customers/"' not in response.get_data(as_text=True)
