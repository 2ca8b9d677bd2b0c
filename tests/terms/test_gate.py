from sqlmodel import select

from portal.billing_models import Subscription
from portal.models import TermsAcceptance
from tests.support.pages import post_form, redirect_path


def test_without_terms_the_dashboard_opens(portal_client, vendor):
    assert portal_client.get(f"/Portal/@{vendor.slug}/").status_code == 200


def test_terms_gate_sends_to_acceptance_and_back(portal_client, make, vendor, db, account):
    make.terms(vendor, "https://acme.example/terms-v1")
    response = portal_client.get(f"/Portal/@{vendor.slug}/ChangePassword")
    terms_page = response.headers["Location"]
    assert response.status_code == 303 and redirect_path(response) == f"/Portal/@{vendor.slug}/Terms"
    page = portal_client.get(terms_page).get_data(as_text=True)
    assert 'href="https://acme.example/terms-v1"' in page

    response = post_form(portal_client, terms_page, {}, headers={"User-Agent": "TermsTest/1.0"})
    assert response.status_code == 303
    assert response.headers["Location"] == f"/Portal/@{vendor.slug}/ChangePassword"
    acceptance = db.exec(select(TermsAcceptance)).one()
    assert (acceptance.account_id, acceptance.url, acceptance.user_agent) == (
        account.id, "https://acme.example/terms-v1", "TermsTest/1.0")
    assert acceptance.accepted_at.tzinfo is not None
    assert portal_client.get(f"/Portal/@{vendor.slug}/").status_code == 200


def test_htmx_requests_get_hx_redirect(portal_client, make, vendor):
    make.terms(vendor)
    response = portal_client.get(f"/Portal/@{vendor.slug}/", headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert response.headers["HX-Redirect"].startswith(f"/Portal/@{vendor.slug}/Terms")


def test_a_changed_address_asks_again(portal_client, make, vendor, db, customer):
    make.terms(vendor, "https://acme.example/terms-v1")
    first = portal_client.get(f"/Portal/@{vendor.slug}/Terms").get_data(as_text=True)
    assert "<h1>Terms of use</h1>" in first and "have changed" not in first
    post_form(portal_client, f"/Portal/@{vendor.slug}/Terms", {})
    assert portal_client.get(f"/Portal/@{vendor.slug}/").status_code == 200
    make.terms(vendor, "https://acme.example/terms-v2")
    assert redirect_path(portal_client.get(f"/Portal/@{vendor.slug}/")) == f"/Portal/@{vendor.slug}/Terms"
    again = portal_client.get(f"/Portal/@{vendor.slug}/Terms").get_data(as_text=True)
    assert "<h1>Our terms of use have changed</h1>" in again and "manage your billing" not in again

    # A subscriber who has not accepted the new terms can still see and manage (cancel) what they pay for.
    db.add(Subscription(vendor_id=vendor.id, stripe_subscription_id="sub_1", customer_id=customer.id,
                        status="active"))
    db.commit()
    again = portal_client.get(f"/Portal/@{vendor.slug}/Terms").get_data(as_text=True)
    link = f'<a href="/Portal/@{vendor.slug}/Subscriptions">see your\n    subscriptions and manage your billing</a>'
    assert link in again
    assert portal_client.get(f"/Portal/@{vendor.slug}/Subscriptions").status_code == 200
    assert redirect_path(portal_client.get(f"/Portal/@{vendor.slug}/Details")) == f"/Portal/@{vendor.slug}/Terms"


def test_declining_logs_out(portal_client, make, vendor, db):
    make.terms(vendor)
    response = post_form(portal_client, f"/Portal/@{vendor.slug}/Terms/Decline", {},
                         page=f"/Portal/@{vendor.slug}/Terms")
    assert response.headers["Location"] == f"/Portal/@{vendor.slug}/Login"
    assert portal_client.get(f"/Portal/@{vendor.slug}/").headers["Location"].startswith(
        f"/Portal/@{vendor.slug}/Login")
    assert db.exec(select(TermsAcceptance)).all() == []


def test_acceptance_shows_on_the_customer_page(portal_client, vendor_client, make, vendor, customer, account):
    make.terms(vendor, "https://acme.example/terms-v1")
    post_form(portal_client, f"/Portal/@{vendor.slug}/Terms", {})
    page = vendor_client.get(f"/vendor/customers/{customer.id}").get_data(as_text=True)
    assert "https://acme.example/terms-v1" in page and account.email in page


def test_off_site_next_after_acceptance_is_ignored(portal_client, make, vendor):
    make.terms(vendor)
    response = post_form(portal_client, f"/Portal/@{vendor.slug}/Terms?next=//evil.example/x", {},
                         page=f"/Portal/@{vendor.slug}/Terms")
    assert response.headers["Location"] == f"/Portal/@{vendor.slug}/"


def test_acceptance_outlives_the_login_in_the_audit_trail(portal_client, vendor_client, make, vendor, customer,
                                                          account, db):
    from portal.models import AuditEvent

    make.terms(vendor, "https://acme.example/terms-v1")
    post_form(portal_client, f"/Portal/@{vendor.slug}/Terms", {})
    post_form(vendor_client, f"/vendor/customers/{customer.id}/accounts/{account.id}/detach", {},
              page=f"/vendor/customers/{customer.id}")
    event = db.exec(select(AuditEvent).where(AuditEvent.action == "account.terms_accepted")).one()
    assert "https://acme.example/terms-v1" in event.after and event.subject_id == customer.id
