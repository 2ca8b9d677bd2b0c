"""The customer edits their own name and company in the portal: the vendor's customer record, audited."""

import json

import pytest
from sqlmodel import select

from portal.models import AuditEvent, Customer
from tests.support.pages import post_form


def test_a_customer_edits_their_name_and_company(portal_client, vendor, customer, account, db):
    page = f"/Portal/@{vendor.slug}/Details"
    assert 'value="Ada Lovelace"' in portal_client.get(page).get_data(as_text=True)
    response = post_form(portal_client, page, {"name": "Ada King", "company_name": "Analytical <Engines>"})
    assert response.status_code == 303
    stored = db.get(Customer, customer.id)
    assert (stored.name, stored.company_name, stored.email) == ("Ada King", "Analytical <Engines>", "ada@example.test")
    event = db.exec(select(AuditEvent).where(AuditEvent.action == "customer.updated")).all()[-1]
    assert event.actor == f"account:{account.id} {account.email}" and event.subject_id == customer.id
    assert json.loads(event.after)["company_name"] == "Analytical <Engines>"
    assert "Analytical &lt;Engines&gt;" in portal_client.get(f"/Portal/@{vendor.slug}/").get_data(as_text=True)


def test_details_saved_as_they_were_are_no_change_in_the_trail(portal_client, vendor, customer, db):
    response = post_form(portal_client, f"/Portal/@{vendor.slug}/Details",
                         {"name": customer.name, "company_name": customer.company_name})
    assert response.status_code == 303
    assert db.exec(select(AuditEvent).where(AuditEvent.action == "customer.updated")).all() == []


@pytest.mark.parametrize(("data", "field"), [
    ({"name": "x" * 101, "company_name": ""}, "name"),
    ({"name": "Ada", "company_name": "two\nlines"}, "company_name"),
    ({"name": "", "company_name": ""}, "name"),
])
def test_bad_details_are_refused_at_the_field(portal_client, vendor, customer, db, data, field):
    response = post_form(portal_client, f"/Portal/@{vendor.slug}/Details", data)
    assert response.status_code == 422 and f'id="{field}-error"' in response.get_data(as_text=True)
    assert db.get(Customer, customer.id).name == "Ada Lovelace"


def test_the_portals_account_menu_holds_the_customers_own_pages(portal_client, vendor, account):
    """Like the vendor's: who is logged in, their details, their password and logging out, in one menu."""
    html = portal_client.get(f"/Portal/@{vendor.slug}/").get_data(as_text=True)
    menu = html.split('<details class="dropdown account-menu">', 1)[1].split("</details>", 1)[0]
    assert account.email in menu
    for link in (f"/Portal/@{vendor.slug}/Details", f"/Portal/@{vendor.slug}/ChangePassword",
                 f"/Portal/@{vendor.slug}/Logout"):
        assert link in menu, link
