"""Mail on the vendor's behalf: the association link, "a new license is waiting" when a key is given to a customer,
the reminder before a key expires, and the settings that rule them."""

from datetime import timedelta

import pytest
from sqlmodel import select

from portal.billing_models import Subscription
from portal.dataobjects.services import KEY
from portal.keys import managed
from portal.keys import services as keys
from portal.keys.reminders import remind_expiring_keys
from portal.models import AuditEvent, DataObject, LicenseKey, Vendor, utcnow
from tests.support.mail import html_of, text_of
from tests.support.pages import post_form


@pytest.fixture
def product(make, vendor):
    return make.product(vendor, name="Photo Editor")


def subjects(mailbox, address):
    return [m["Subject"] for m in mailbox.to(address)]


# A new license is waiting


def test_a_key_made_for_a_customer_mails_a_link_never_the_key(vendor_client, product, customer, account, mailbox, db):
    response = post_form(vendor_client, "/vendor/keys/new", {"product_id": product.id, "customer_id": customer.id,
                                                            "period": "30"})
    assert response.status_code == 303
    key = db.exec(select(LicenseKey)).one()
    [mail] = mailbox.to(account.email)
    assert mail["Subject"] == "Your new Photo Editor license from Acme <Software> & Co"
    assert "/Portal/@acme.io/" in text_of(mail) and key.key not in text_of(mail) and key.key not in html_of(mail)


def test_bulk_keys_for_one_customer_make_one_mail_and_keys_for_nobody_none(vendor_client, product, customer,
                                                                          mailbox):
    post_form(vendor_client, "/vendor/keys/bulk", {"product_id": product.id, "customer_id": customer.id,
                                                   "period": "30", "count": "3"})
    post_form(vendor_client, "/vendor/keys/bulk", {"product_id": product.id, "period": "30", "count": "2"})
    assert subjects(mailbox, customer.email) == ["3 new Photo Editor licenses from Acme <Software> & Co"]
    assert len(mailbox.messages) == 1


def test_a_key_moved_to_a_customer_mails_them_and_the_setting_turns_it_off(vendor_client, make, vendor, product,
                                                                          customer, mailbox, db):
    other = make.customer(vendor, name="Grace", email="grace@example.test")
    key = make.key(product, customer=customer)
    page = f"/vendor/keys/{key.id}"
    assert post_form(vendor_client, f"{page}/customer", {"customer_id": other.id}, page=page).status_code == 303
    assert subjects(mailbox, "grace@example.test") == ["Your new Photo Editor license from Acme <Software> & Co"]
    post_form(vendor_client, f"{page}/customer", {"customer_id": ""}, page=page)  # to nobody: no mail
    db.get(Vendor, vendor.id).mail_new_licenses = False
    db.commit()
    post_form(vendor_client, f"{page}/customer", {"customer_id": customer.id}, page=page)
    assert len(mailbox.messages) == 1


@pytest.mark.parametrize("signup_open", [True, False])
def test_a_customer_without_a_login_is_told_how_to_get_one(vendor_client, make, vendor, product, mailbox, db,
                                                           signup_open):
    db.get(Vendor, vendor.id).signup_enabled = signup_open
    db.commit()
    grace = make.customer(vendor, name="Grace", email="grace@example.test")
    post_form(vendor_client, "/vendor/keys/new", {"product_id": product.id, "customer_id": grace.id, "period": "30"})
    text = " ".join(text_of(mailbox.to("grace@example.test")[0]).split())
    if signup_open:  # a sign-up with this address joins the customer (accounts.customer_awaiting_login)
        assert "Create a login with this e-mail address to see it, with its key" in text
    else:
        assert "To see it, with its key and the machines it runs on, ask Acme <Software> & Co for a login" in text


def test_the_mail_offers_a_sign_up_only_where_it_would_join_the_customer(vendor_client, make, vendor, product,
                                                                        mailbox):
    twin = make.customer(vendor, name="Linus", email="linus@example.test")
    make.customer(vendor, name="Linus at work", email="linus@example.test")  # two records: a sign-up joins neither
    invited = make.customer(vendor, name="Ada", email="ada@example.test", association=True)
    for customer in (twin, invited):
        post_form(vendor_client, "/vendor/keys/new", {"product_id": product.id, "customer_id": customer.id,
                                                      "period": "30"})
    assert "ask Acme <Software> & Co for a login" in " ".join(text_of(mailbox.to("linus@example.test")[0]).split())
    assert "with the link to your customer portal that Acme <Software> & Co sent you" in " ".join(
        text_of(mailbox.to("ada@example.test")[0]).split())


# "E-mail this link"


def test_e_mail_this_link_sends_the_invitation_and_notes_it(vendor_client, make, vendor, mailbox, db):
    invited = make.customer(vendor, name="Grace", email="grace@example.test", association=True)
    page = f"/vendor/customers/{invited.id}"
    shown = vendor_client.get(page).get_data(as_text=True)
    assert "E-mail this link" in shown and "sends it to grace@example.test" in shown
    response = post_form(vendor_client, f"{page}/association/mail", {}, page=page)
    assert response.status_code == 303
    [mail] = mailbox.to("grace@example.test")
    assert mail["Subject"] == "Acme <Software> & Co invites you to its customer portal"
    assert mail["From"].addresses[0].display_name == "Acme <Software> & Co"
    link = make.association_link(vendor, invited)
    assert link in text_of(mail) and f'{link.replace("&", "&amp;")}" style' in html_of(mail)
    shown = vendor_client.get(page).get_data(as_text=True)
    assert "Mailed to grace@example.test on" in shown and ">Association link mailed<" in shown
    # Again at once: refused, nothing sent.
    again = post_form(vendor_client, f"{page}/association/mail", {}, page=page)
    assert again.status_code == 429 and "Wait a few minutes" in again.get_data(as_text=True)
    assert len(mailbox.messages) == 1
    # A new link forgets the note.
    post_form(vendor_client, f"{page}/association", {"action": "regenerate"}, page=page)
    assert "Mailed to" not in vendor_client.get(page).get_data(as_text=True)


def test_e_mail_this_link_needs_an_address_a_link_a_portal_and_ones_own_customer(vendor_client, make, vendor,
                                                                                other_vendor, mailbox, db):
    no_email = make.customer(vendor, name="No Mail", association=True)
    no_link = make.customer(vendor, name="No Link", email="nolink@example.test")
    foreign = make.customer(other_vendor, name="Foreign", email="foreign@example.test", association=True)
    for customer, status, message in ((no_email, 422, "Add the customer&#39;s e-mail first"),
                                      (no_link, 422, "Turn customer association on first")):
        page = f"/vendor/customers/{customer.id}"
        response = post_form(vendor_client, f"{page}/association/mail", {}, page=page)
        assert response.status_code == status and message in response.get_data(as_text=True)
    invited = make.customer(vendor, name="Invited", email="invited@example.test", association=True)
    db.get(Vendor, vendor.id).portal_enabled = False
    db.commit()
    page = f"/vendor/customers/{invited.id}"
    response = post_form(vendor_client, f"{page}/association/mail", {}, page=page)
    assert response.status_code == 422 and "Your customer portal is off" in response.get_data(as_text=True)
    response = post_form(vendor_client, f"/vendor/customers/{foreign.id}/association/mail", {}, page="/vendor/")
    assert response.status_code == 404 and mailbox.messages == []


# The reminder before a key expires


def _expiring(make, product, customer, days: float) -> LicenseKey:
    key = make.key(product, customer=customer)
    key.expires = utcnow() + timedelta(days=days)
    return key


def test_reminders_go_once_per_key_and_expiry(app, make, vendor, other_vendor, product, customer, mailbox, db):
    db.get(Vendor, vendor.id).remind_days_before_expiry = 7
    soon = _expiring(make, product, customer, 3)
    later = _expiring(make, product, customer, 30)
    blocked = _expiring(make, product, customer, 2)
    blocked.block = True
    nobodys = _expiring(make, product, None, 2)
    stripe_object = _expiring(make, product, customer, 2)
    db.add(DataObject(vendor_id=vendor.id, referencer_type=KEY, referencer_id=stripe_object.id,
                      name=managed.STRIPE_MANAGED, string_value="si_1"))
    subscribed = _expiring(make, product, customer, 2)
    db.add(Subscription(vendor_id=vendor.id, stripe_subscription_id="sub_1", key_id=subscribed.id))
    other_customer = make.customer(other_vendor, email="other@example.test")
    _expiring(make, make.product(other_vendor), other_customer, 2)  # a vendor without reminders
    db.add_all([soon, later, blocked, nobodys, stripe_object, subscribed])
    db.commit()

    with app.app_context():
        assert remind_expiring_keys(db) == 1
        db.commit()
        assert remind_expiring_keys(db) == 0
    [mail] = mailbox.to(customer.email)
    assert mail["Subject"] == f"Your Photo Editor license expires on {soon.expires:%Y-%m-%d}"
    assert f"(ID {soon.key_number})" in text_of(mail) and soon.key not in text_of(mail)
    assert "/Portal/@acme.io/" in text_of(mail)
    assert db.exec(select(AuditEvent).where(AuditEvent.action == "key.expiry_reminded")).one().subject_id == soon.id

    # Extended past the window: nothing now; reminded again only when the new expiry comes near.
    db.refresh(soon)
    keys.extend_key(db, key=soon, days=30, actor="test")
    db.commit()
    with app.app_context():
        assert remind_expiring_keys(db) == 0
        assert remind_expiring_keys(db, now=utcnow() + timedelta(days=28)) == 2  # `later` and `soon` anew
        db.commit()
    assert len(mailbox.to(customer.email)) == 3 and mailbox.to("other@example.test") == []


def test_the_reminder_setting_is_its_own_small_form(vendor_client, vendor, db):
    page = vendor_client.get("/vendor/settings").get_data(as_text=True)
    assert "Expiry reminders" in page and 'action="/vendor/settings/reminders"' in page
    response = post_form(vendor_client, "/vendor/settings/reminders", {"remind_days_before_expiry": "7"},
                         page="/vendor/settings")
    assert response.status_code == 303
    assert db.get(Vendor, vendor.id).remind_days_before_expiry == 7
    assert "Customers are reminded 7 days before a key expires." in vendor_client.get("/vendor/settings").get_data(
        as_text=True)


@pytest.mark.parametrize("days", ["366", "seven", "9" * 40])
def test_a_bad_number_of_reminder_days_is_refused_at_the_field(vendor_client, vendor, db, days):
    response = post_form(vendor_client, "/vendor/settings/reminders", {"remind_days_before_expiry": days},
                         page="/vendor/settings")
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and 'id="remind_days_before_expiry-error"' in html
    assert db.get(Vendor, vendor.id).remind_days_before_expiry == 0
