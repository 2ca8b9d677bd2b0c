import pytest
from sqlmodel import func, select

from portal.models import AuditEvent, Customer, PortalAccount
from tests.support.factories import CUSTOMER_PASSWORD
from tests.support.mail import text_of
from tests.support.pages import post_form


@pytest.fixture
def invited(make, vendor):
    return make.customer(vendor, name="Ada Lovelace", company_name="Engines Ltd", association=True)


@pytest.fixture
def link(make, vendor, invited):
    return make.association_link(vendor, invited)


def ask_for_login(client, link, email="ada@example.test", **overrides):
    """Fill in "create a new login": the answer is the same "check your mail" page for any e-mail."""
    data = {"which": "new", "new-name": "Ada", "new-email": email, "new-password": "a-long-password"}
    return post_form(client, link, data | overrides)


def confirm_from_mail(client, mailbox, email):
    path = mailbox.last_link(email, "/Confirm?token=").split("localhost", 1)[1]
    assert client.get(path).status_code == 200
    return post_form(client, path, {"password": "a-long-password"})


def create_login(client, link, email="ada@example.test", *, mailbox, **overrides):
    """Ask for a login through the link and open the mailed confirmation."""
    response = ask_for_login(client, link, email, **overrides)
    assert response.status_code == 200 and "Check your mail" in response.get_data(as_text=True)
    return confirm_from_mail(client, mailbox, email)


def join_with(client, link, email, password=CUSTOMER_PASSWORD):
    return post_form(client, link, {"which": "existing", "existing-email": email, "existing-password": password})


def test_valid_link_shows_vendor_and_customer_without_referrer(client, link):
    response = client.get(link)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Acme &lt;Software&gt; &amp; Co" in page and "Ada Lovelace" in page
    assert response.headers["Referrer-Policy"] == "no-referrer"


def test_a_new_login_starts_from_the_customers_own_name_and_email(client, make, vendor):
    invited = make.customer(vendor, name="Ada Lovelace", email="ada@example.test", association=True)
    page = client.get(make.association_link(vendor, invited)).get_data(as_text=True)
    assert 'value="Ada Lovelace"' in page
    assert 'value="ada@example.test"' in page


def test_creating_a_login_joins_the_customer_and_logs_in(client, vendor, invited, link, db, mailbox):
    response = ask_for_login(client, link)
    assert db.exec(select(PortalAccount)).all() == [], "nothing is made before the mailed link is opened"
    assert client.get(link).status_code == 200, "nor is the link used up"
    response = confirm_from_mail(client, mailbox, "ada@example.test")
    assert response.status_code == 303 and response.headers["Location"] == f"/Portal/@{vendor.slug}/"
    account = db.exec(select(PortalAccount)).one()
    assert account.customer_id == invited.id and account.email_verified_at is not None
    page = client.get(f"/Portal/@{vendor.slug}/").get_data(as_text=True)
    assert "Ada Lovelace" in page


def test_single_use_link_dies_after_use(client, app, link, mailbox):
    create_login(client, link, mailbox=mailbox)
    response = app.test_client().get(link)
    assert response.status_code == 404
    assert "This link is not valid" in response.get_data(as_text=True)


def test_multiple_association_link_works_again(make, vendor, app, db, mailbox):
    customer = make.customer(vendor, association=True, allow_multiple_user_association=True)
    link = make.association_link(vendor, customer)
    for email in ("one@example.test", "two@example.test"):
        response = create_login(app.test_client(), link, email, mailbox=mailbox)
        assert response.status_code == 303 and response.headers["Location"] == f"/Portal/@{vendor.slug}/"
    assert db.exec(select(func.count()).select_from(PortalAccount)
                   .where(PortalAccount.customer_id == customer.id)).one() == 2


@pytest.mark.parametrize("mangle", [
    lambda link: link.replace("auth=", "auth=x"),
    lambda link: link.split("&auth=")[0],
    lambda link: link.replace("?id=", "?id=9"),
    lambda link: link.replace("?id=", "?id=abc"),
    lambda link: link.split("auth=")[0] + "auth=",
])
def test_wrong_link_gets_the_neutral_page(client, link, mangle):
    response = client.get(mangle(link))
    assert response.status_code == 404
    assert "This link is not valid" in response.get_data(as_text=True)
    assert response.headers["Referrer-Policy"] == "no-referrer"


def test_regenerated_or_disabled_link_dies(vendor_client, client, make, vendor, invited, link, db):
    post_form(vendor_client, f"/vendor/customers/{invited.id}/association", {"action": "regenerate"},
              page=f"/vendor/customers/{invited.id}")
    assert client.get(link).status_code == 404
    assert db.exec(select(AuditEvent.id).where(AuditEvent.action == "customer.association_regenerated")).all()
    new_link = make.association_link(vendor, invited)
    assert client.get(new_link).status_code == 200
    post_form(vendor_client, f"/vendor/customers/{invited.id}/association", {"action": "disable"},
              page=f"/vendor/customers/{invited.id}")
    assert client.get(new_link).status_code == 404


def test_other_vendors_link_is_not_valid_here(client, other_vendor, vendor, link):
    assert client.get(link.replace(f"@{vendor.slug}", f"@{other_vendor.slug}")).status_code == 404


def test_link_guessing_is_rate_limited(client, link):
    wrong = link.replace("auth=", "auth=x")
    statuses = [client.get(wrong).status_code for _ in range(21)]
    assert statuses[:20] == [404] * 20 and statuses[20] == 429
    assert client.get(link).status_code == 429


def test_existing_empty_signup_account_joins_and_its_empty_record_goes(make, vendor, invited, link, client, db):
    empty = make.customer(vendor, name="Ada (signup)", origin="signup")
    empty_id, account_id = empty.id, make.account(vendor, empty, email="ada@example.test").id
    response = join_with(client, link, "ada@example.test")
    assert response.status_code == 303 and response.headers["Location"] == f"/Portal/@{vendor.slug}/"
    assert db.get(PortalAccount, account_id).customer_id == invited.id
    assert db.get(Customer, empty_id) is None


def test_existing_account_of_a_vendor_made_customer_is_refused(make, vendor, invited, link, client, db):
    owned = make.customer(vendor, name="Someone else")
    account = make.account(vendor, owned, email="bob@example.test")
    response = join_with(client, link, "bob@example.test")
    assert response.status_code == 422
    assert "already belongs to another customer record" in response.get_data(as_text=True)
    assert db.get(PortalAccount, account.id).customer_id == owned.id
    assert client.get(link).status_code == 200, "a refused join must not use the link up"


def test_wrong_password_for_existing_account_is_refused(make, vendor, invited, link, client):
    empty = make.customer(vendor, origin="signup")
    make.account(vendor, empty, email="ada@example.test")
    response = join_with(client, link, "ada@example.test", password="wrong-password")
    assert response.status_code == 422
    assert "do not match" in response.get_data(as_text=True)


def test_new_login_with_a_taken_email_tells_only_the_mailbox(make, vendor, invited, link, client, db, mailbox):
    """The link's holder learns nothing about which e-mails have a login: the same page; the owner gets a note."""
    make.account(vendor, make.customer(vendor, origin="signup"), email="ada@example.test")
    taken = ask_for_login(client, link, "ADA@example.test")
    fresh = ask_for_login(client, link, "newcomer@example.test")
    assert taken.status_code == fresh.status_code == 200
    assert _page_text(taken, "ADA@example.test") == _page_text(fresh, "newcomer@example.test")
    (note,) = mailbox.to("ada@example.test")
    assert "You already have a login there" in text_of(note) and "/Confirm" not in text_of(note)
    assert client.get(link).status_code == 200


def _page_text(response, email: str) -> str:
    import re

    page = response.get_data(as_text=True).replace(email, "EMAIL")
    # CSRF tokens carry the second they were signed in: they may differ between two answers.
    page = re.sub(r'"X-CSRFToken": "[^"]+"', "", page)
    return re.sub(r'name="csrf_token" (?:type="hidden" )?value="[^"]+"', "", page)


def test_a_link_made_anew_ends_a_pending_join(vendor_client, make, vendor, invited, link, client, db, mailbox):
    ask_for_login(client, link)
    post_form(vendor_client, f"/vendor/customers/{invited.id}/association", {"action": "regenerate"},
              page=f"/vendor/customers/{invited.id}")
    path = mailbox.last_link("ada@example.test", "/Confirm?token=").split("localhost", 1)[1]
    assert post_form(client, path, {"password": "a-long-password"}, page=path).status_code == 404
    assert db.exec(select(PortalAccount)).all() == []


def test_a_signup_record_that_holds_keys_is_not_folded_in(make, vendor, invited, link, client, db):
    own = make.customer(vendor, origin="signup")
    account = make.account(vendor, own, email="ada@example.test")
    key = make.key(make.product(vendor), customer=own)
    response = join_with(client, link, "ada@example.test")
    assert response.status_code == 422
    assert db.get(PortalAccount, account.id).customer_id == own.id
    from portal.models import LicenseKey

    assert db.get(LicenseKey, key.id).customer_id == own.id


def test_password_guessing_through_the_link_is_rate_limited(make, vendor, invited, link, client):
    make.account(vendor, make.customer(vendor, origin="signup"), email="victim@example.test")
    statuses = [join_with(client, link, "victim@example.test", password=f"guess-{n}").status_code for n in range(11)]
    assert statuses[:10] == [422] * 10 and statuses[10] == 429


def test_a_signup_record_with_a_stripe_customer_is_not_folded_in(make, vendor, invited, link, client, db):
    """A Checkout left open would, once paid, make a key for a record deleted by the join: that record stays."""
    from portal.billing_models import StripeCustomer

    own = make.customer(vendor, origin="signup")
    account = make.account(vendor, own, email="ada@example.test")
    db.add(StripeCustomer(vendor_id=vendor.id, customer_id=own.id, stripe_customer_id="cus_open_checkout",
                          livemode=False, stripe_account_id="acct_1"))
    db.commit()
    response = join_with(client, link, "ada@example.test")
    assert response.status_code == 422 and "already belongs to another customer record" in response.get_data(
        as_text=True)
    db.expire_all()
    assert db.get(PortalAccount, account.id).customer_id == own.id and db.get(Customer, own.id) is not None
    assert client.get(link).status_code == 200, "a refused join must not use the link up"


def test_a_customer_of_one_login_lets_nobody_else_in_until_it_is_detached(
        vendor_client, client, app, make, vendor, invited, link, db, mailbox):
    """"One portal login at most" (AllowMultipleUserAssociation off) holds for new links too: a link made anew
    after the first login joined lets nobody else in."""
    create_login(client, link, mailbox=mailbox)
    page = f"/vendor/customers/{invited.id}"
    post_form(vendor_client, f"{page}/association", {"action": "regenerate"}, page=page)
    shown = vendor_client.get(page).get_data(as_text=True)
    assert "Has its portal login" in shown and "ada@example.test" in shown and "allow more than one login" in shown
    assert "Make a new link" not in shown  # it would let nobody in
    new_link = make.association_link(vendor, invited)
    stranger = app.test_client()
    refused = stranger.get(new_link)
    assert refused.status_code == 409 and "has its login already" in refused.get_data(as_text=True)
    make.account(vendor, make.customer(vendor, origin="signup"), email="charles@example.test")
    assert join_with(stranger, new_link, "charles@example.test").status_code == 409
    assert db.exec(select(func.count()).select_from(PortalAccount)
                   .where(PortalAccount.customer_id == invited.id)).one() == 1
    account = db.exec(select(PortalAccount).where(PortalAccount.customer_id == invited.id)).one()
    post_form(vendor_client, f"{page}/accounts/{account.id}/detach", {}, page=page)
    assert stranger.get(new_link).status_code == 200  # its one login gone, the link lets the next one in


def test_association_turned_off_on_a_customer_of_one_login_that_has_it_offers_no_link(
        vendor_client, client, invited, link, mailbox):
    """A newcomer's find: with association off, such a customer read "Turn it on to get a link that lets this
    customer create a portal login" beside "Enable customer association", whose link would let nobody in."""
    create_login(client, link, mailbox=mailbox)
    page = f"/vendor/customers/{invited.id}"
    response = post_form(vendor_client, f"{page}/association", {"action": "disable"}, page=page,
                         headers={"HX-Request": "true"})
    for shown in (response.get_data(as_text=True), vendor_client.get(page).get_data(as_text=True)):
        assert "Customer association is off. <mark>Has its portal login</mark>" in shown
        assert "a link would let nobody else in" in shown and "allow more than one login" in shown
        assert "Enable customer association" not in shown and "lets this customer create a portal login" not in shown


def test_a_customer_made_one_login_only_with_two_logins_names_both_and_keeps_them(
        vendor_client, make, vendor, invited, db):
    """A newcomer's find: after two logins joined and "More than one portal login" was unticked, the section said
    "Has its portal login (the first one)" and "detach that login", though another would still be there."""
    invited.allow_multiple_user_association = True
    db.add(invited)
    db.commit()
    for email in ("ada@example.test", "charles@example.test"):
        make.account(vendor, invited, email=email)
    page = f"/vendor/customers/{invited.id}"
    saved = post_form(vendor_client, f"{page}/edit", {"name": invited.name, "company_name": invited.company_name},
                      page=f"{page}/edit")
    assert saved.status_code == 303 and not db.get(Customer, invited.id).allow_multiple_user_association
    shown = vendor_client.get(page).get_data(as_text=True)
    assert "<mark>Has 2 portal logins</mark> (ada@example.test, charles@example.test)" in shown
    assert "may have one portal login (those it has stay)" in shown and "detach them or allow" in shown
    assert "Has its portal login" not in shown and "Make a new link" not in shown


def test_of_two_logins_asked_for_through_one_link_the_second_is_refused_when_confirmed(
        app, vendor, invited, link, db, mailbox):
    first, second = app.test_client(), app.test_client()
    for client, email in ((first, "ada@example.test"), (second, "charles@example.test")):
        assert ask_for_login(client, link, email).status_code == 200
    assert confirm_from_mail(first, mailbox, "ada@example.test").status_code == 303
    refused = confirm_from_mail(second, mailbox, "charles@example.test")
    assert refused.status_code == 409 and "has its login already" in refused.get_data(as_text=True)
    assert [account.email for account in db.exec(select(PortalAccount))] == ["ada@example.test"]


def test_a_second_login_of_a_customer_of_several_starts_from_an_empty_form(make, vendor, app, mailbox):
    """The invited customer's details fill the form for the first login; the next one is someone else's."""
    customer = make.customer(vendor, name="Ada Lovelace", email="ada@example.test", association=True,
                             allow_multiple_user_association=True)
    link = make.association_link(vendor, customer)
    assert 'value="ada@example.test"' in app.test_client().get(link).get_data(as_text=True)
    create_login(app.test_client(), link, "ada@example.test", mailbox=mailbox)
    page = app.test_client().get(link).get_data(as_text=True)
    assert 'value="ada@example.test"' not in page and 'value="Ada Lovelace"' not in page
