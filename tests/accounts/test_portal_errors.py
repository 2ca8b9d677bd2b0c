"""Errors inside a customer portal keep the portal's layout: its vendor's name, its links, a way back."""

from markupsafe import escape


def test_an_address_no_page_answers_is_shown_in_the_portals_layout(client, vendor):
    page = client.get(f"/Portal/@{vendor.slug}/Nope/Further")
    html = page.get_data(as_text=True)
    assert page.status_code == 404 and "<h1>Not found</h1>" in html
    assert f'href="/Portal/@{vendor.slug}/Login"' in html
    assert f"<a href=\"/Portal/@{vendor.slug}/\">Go to {escape(vendor.name)}'s portal</a>" in html


def test_a_logged_in_customer_keeps_the_portals_navigation(portal_client, vendor):
    for address in (f"/Portal/@{vendor.slug}/Nope", f"/Portal/@{vendor.slug}/Licenses/999/Key"):
        page = portal_client.get(address)
        html = page.get_data(as_text=True)
        assert page.status_code == 404 and f'href="/Portal/@{vendor.slug}/Subscriptions"' in html, address


def test_an_expired_form_in_a_portal_is_shown_in_its_layout(portal_client, vendor):
    answer = portal_client.post(f"/Portal/@{vendor.slug}/Details", data={"name": "Ada", "csrf_token": "stale"})
    html = answer.get_data(as_text=True)
    assert answer.status_code == 400 and "Form expired" in html and escape(vendor.name) in html


def test_an_unknown_portal_keeps_the_neutral_page(client):
    page = client.get("/Portal/@no-such-vendor/Nope")
    assert page.status_code == 404 and "Licensing portal" in page.get_data(as_text=True)
