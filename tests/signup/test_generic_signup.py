"""The generic sign-up: the same answer for any e-mail, and nothing made until the mailed link is opened."""

import json
from datetime import timedelta

import pytest
from flask import has_request_context
from markupsafe import escape as html_escape
from sqlalchemy import delete, event, update
from sqlmodel import Session, func, select

from portal import jobs
from portal.models import Customer, PendingLogin, PortalAccount, utcnow
from portal.signup import pending
from tests.support.mail import text_of
from tests.support.pages import post_form
from tests.support.queries import counted_queries


def sign_up(client, vendor, **overrides):
    data = {"name": "Grace Hopper", "email": "grace@example.test", "company_name": "Navy",
            "password": "a-long-password"} | overrides
    return post_form(client, f"/Portal/@{vendor.slug}/SignUp", data)


def confirm_path(mailbox, email="grace@example.test") -> str:
    return mailbox.last_link(email, "/Confirm?token=").split("localhost", 1)[1]


MINE = {"password": "a-long-password"}  # the confirmation takes the password chosen when asking


def count(db, model) -> int:
    return db.exec(select(func.count()).select_from(model)).one()


def test_sign_up_mails_a_link_that_makes_the_customer_and_logs_in(client, vendor, mailbox, db):
    response = sign_up(client, vendor)
    assert response.status_code == 200
    assert "Check your mail" in response.get_data(as_text=True)
    assert count(db, Customer) == count(db, PortalAccount) == 0, "no customer until the e-mail is confirmed"

    path = confirm_path(mailbox)
    assert client.get(path).status_code == 200
    response = post_form(client, path, MINE)
    assert response.status_code == 303 and response.headers["Location"] == f"/Portal/@{vendor.slug}/"
    account = db.exec(select(PortalAccount)).one()
    customer = db.get(Customer, account.customer_id)
    assert (customer.name, customer.email, customer.company_name, customer.origin) == (
        "Grace Hopper", "grace@example.test", "Navy", "signup")
    assert account.email_verified_at is not None
    assert "Grace Hopper" in client.get(f"/Portal/@{vendor.slug}/").get_data(as_text=True)


@pytest.mark.parametrize(("password", "reason"), [
    ("1234567890", "This is a top-100 common password."),
    ("password123", "This is a very common password."),
    ("qwertyuiop", "This is a top-100 common password."),
    ("abcdefghijkl", 'Sequences like "abc" or "6543" are easy to guess.'),
])
def test_a_password_easy_to_guess_is_refused_at_its_field_and_nothing_is_mailed(client, vendor, mailbox, db,
                                                                               password, reason):
    response = sign_up(client, vendor, password=password)
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and 'id="password-error"' in html
    assert "This password is too easy to guess." in html and html_escape(reason.rstrip(".")) in html
    assert mailbox.messages == [] and db.exec(select(PendingLogin)).all() == []


def test_a_password_made_of_the_own_address_is_refused(client, vendor, mailbox, db):
    response = sign_up(client, vendor, password="grace@example.test")
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and 'id="password-error"' in html and "too easy to guess" in html
    assert mailbox.messages == [] and db.exec(select(PendingLogin)).all() == []


def test_an_unconfirmed_sign_up_cannot_log_in(client, vendor, mailbox):
    sign_up(client, vendor)
    response = post_form(client, f"/Portal/@{vendor.slug}/Login",
                         {"email": "grace@example.test", "password": "a-long-password"})
    assert response.status_code == 422
    assert "do not match an account" in response.get_data(as_text=True)


def test_the_confirmation_link_works_once(client, app, vendor, mailbox):
    sign_up(client, vendor)
    path = confirm_path(mailbox)
    response = post_form(client, path, MINE)
    assert response.status_code == 303 and response.headers["Location"] == f"/Portal/@{vendor.slug}/"
    again = client.get(path)
    assert again.status_code == 404 and "used or has expired" in again.get_data(as_text=True)
    # Opened again in the browser it logged in: the way to the licenses; elsewhere: the way to log in.
    html = again.get_data(as_text=True)
    assert f'<a href="/Portal/@{vendor.slug}/" role="button">Go to your licenses</a>' in html
    assert "You are logged in as <strong>grace@example.test</strong>." in html and "Sign up again" not in html
    assert f'action="/Portal/@{vendor.slug}/Logout"' in html
    elsewhere = app.test_client().get(path).get_data(as_text=True)
    assert f'href="/Portal/@{vendor.slug}/Login"' in elsewhere and "You are logged in" not in elsewhere
    assert "Never confirmed?" in elsewhere


def test_a_logged_in_customer_on_the_sign_up_page_is_told_so_instead_of_a_form(portal_client, vendor, account):
    html = portal_client.get(f"/Portal/@{vendor.slug}/SignUp").get_data(as_text=True)
    assert f"You are logged in as <strong>{account.email}</strong>." in html and 'name="password"' not in html
    assert f'<a href="/Portal/@{vendor.slug}/" role="button">Go to your licenses</a>' in html
    assert f'action="/Portal/@{vendor.slug}/Logout"' in html


def test_an_unconfirmed_sign_up_expires_after_48_hours(client, vendor, mailbox, db):
    sign_up(client, vendor)
    path = confirm_path(mailbox)
    row = db.exec(select(PendingLogin)).one()
    assert timedelta(hours=47) < row.expires_at - row.created <= timedelta(hours=48)
    row.expires_at = utcnow() - timedelta(seconds=1)
    db.add(row)
    db.commit()
    assert client.get(path).status_code == 404
    assert pending.forget_expired(db) == 1
    db.commit()
    assert count(db, PendingLogin) == count(db, Customer) == 0


def test_existing_email_gets_the_same_page_and_a_mail_to_the_owner(client, vendor, account, mailbox, db):
    before = count(db, Customer)
    response = sign_up(client, vendor, email=account.email.upper())
    assert response.status_code == 200
    assert "Check your mail" in response.get_data(as_text=True)
    assert count(db, Customer) == before and count(db, PendingLogin) == 0
    (mail,) = mailbox.to(account.email)
    assert "You already have an account" in text_of(mail)


def test_same_email_may_sign_up_in_two_portals(client, vendor, other_vendor, mailbox, db):
    sign_up(client, vendor)
    first = confirm_path(mailbox)
    sign_up(client, other_vendor)
    second = confirm_path(mailbox)
    for path, portal in ((first, vendor), (second, other_vendor)):
        response = post_form(client, path, MINE)
        assert response.status_code == 303 and response.headers["Location"] == f"/Portal/@{portal.slug}/"
    assert count(db, PortalAccount) == 2


def test_two_sign_ups_of_one_email_make_one_login(client, app, vendor, mailbox, db):
    """Two requests before either is confirmed: the second confirmation makes nothing and sends to the login."""
    sign_up(client, vendor)
    first = confirm_path(mailbox)
    sign_up(app.test_client(), vendor)
    second = confirm_path(mailbox)
    assert first != second
    response = post_form(client, first, MINE)
    assert response.status_code == 303 and response.headers["Location"] == f"/Portal/@{vendor.slug}/"
    other = app.test_client()
    response = post_form(other, second, MINE)
    assert response.status_code == 303 and response.headers["Location"] == f"/Portal/@{vendor.slug}/Login"
    assert count(db, PortalAccount) == count(db, Customer) == 1


def test_sign_up_off_answers_not_found_saying_it_is_closed_and_who_to_ask(vendor_client, client, vendor, db):
    post_form(vendor_client, "/vendor/settings", {"portal_enabled": "y"})
    closed = client.get(f"/Portal/@{vendor.slug}/SignUp")
    text = closed.get_data(as_text=True)
    assert closed.status_code == 404 and "Sign-up is closed" in text and f"/Portal/@{vendor.slug}/Login" in text
    assert "ask Acme &lt;Software&gt; &amp; Co" in text and "<form" not in text.split("<main", 1)[1].split("</main>")[0]
    assert post_form(client, f"/Portal/@{vendor.slug}/SignUp", {"email": "x@example.test"},
                     page=f"/Portal/@{vendor.slug}/Login").status_code == 404
    assert client.get(f"/Portal/@{vendor.slug}/Login").status_code == 200
    # The settings say what the link shows (a newcomer's find: they said "not found", the portal being on).
    settings = vendor_client.get("/vendor/settings").get_data(as_text=True)
    assert "<mark>Sign-up is off</mark>: the link's page says sign-up is closed" in settings
    assert "not found" not in settings.split("Generic sign-up link", 1)[1]
    post_form(vendor_client, "/vendor/settings", {})
    settings = vendor_client.get("/vendor/settings").get_data(as_text=True)
    assert '<mark>The portal is off</mark>: the link answers "not found" until you turn the portal and sign-up on.' \
        in settings.split("Generic sign-up link", 1)[1]


def test_slug_is_case_insensitive(client, vendor):
    assert client.get("/Portal/@ACME.IO/SignUp").status_code == 200


PAGES = {"confirm_page": "https://licenses.example.com/Portal/@x/Confirm",
         "login_page": "https://licenses.example.com/Portal/@x/Login",
         "forgot_page": "https://licenses.example.com/Portal/@x/ForgotPassword"}


def test_sign_up_does_the_same_work_for_a_known_and_a_new_email(client, app, vendor, account, monkeypatch, db):
    """The request hashes the password, keeps the request and queues its job either way: its timing tells nothing.
    Only the argon2 hash is kept, never the password; the job is queued with the request's id alone."""
    queued = []
    monkeypatch.setattr(pending, "start_pending_login", queued.append)
    known_email, slug = account.email, vendor.slug  # loaded here, not inside the counted requests
    with counted_queries(app) as known:
        assert sign_up(client, vendor, email=known_email).status_code == 200
    with counted_queries(app) as new:
        assert sign_up(client, vendor, email="grace@example.test").status_code == 200
    assert known == new and sum("INSERT INTO pending_login" in statement for statement in known) == 1
    requests = [db.get(PendingLogin, request_id) for request_id in queued]
    assert [request.email for request in requests] == [known_email, "grace@example.test"]
    for request in requests:
        assert request.token_hash is None, "no link until the job mails one"
        assert request.password_hash.startswith("$argon2id$")
        assert "a-long-password" not in repr(request.model_dump())
        assert json.loads(request.pages)["confirm_page"].endswith(f"/Portal/@{slug}/Confirm")


def test_the_sign_up_job_works_without_a_request(app, vendor, account, mailbox, db):
    jobs.bind_worker_app(app)
    known_email = account.email
    assert not has_request_context()
    for email in ("grace@example.test", known_email):
        pending.request_login(db, vendor_id=vendor.id, name="Grace", email=email, password="grace-pw-12345678",
                              pages=pending.Pages(**PAGES))
    db.commit()  # the jobs run (inline in the tests), outside any request
    assert mailbox.last_link("grace@example.test", "Confirm").startswith(PAGES["confirm_page"] + "?token=")
    (mail,) = mailbox.to(known_email)
    assert PAGES["login_page"] in text_of(mail) and PAGES["forgot_page"] in text_of(mail)
    row = db.exec(select(PendingLogin)).one()
    assert row.email == "grace@example.test" and row.token_hash and row.pages == "{}", "the links are not kept"


def test_a_lost_sign_up_job_is_done_by_the_sweep_once(client, vendor, account, mailbox, db, monkeypatch):
    """huey does not run again a job whose consumer died: the request is in the database, and the periodic sweep
    queues it again a sweep period later. However many jobs reach a request, one mails it."""
    monkeypatch.setattr(pending, "start_pending_login", lambda request_id: None)  # the job is lost
    sign_up(client, vendor)
    sign_up(client, vendor, email=account.email)
    monkeypatch.undo()
    assert mailbox.messages == [] and count(db, PendingLogin) == 2
    assert pending.queue_lost_requests() == 0, "a request just queued is not lost"
    later = utcnow() + pending.STALE_AFTER + timedelta(seconds=1)
    assert pending.queue_lost_requests(now=later) == 2
    path = confirm_path(mailbox)
    (exists,) = mailbox.to(account.email)
    assert "You already have an account" in text_of(exists)
    assert pending.queue_lost_requests(now=later + pending.STALE_AFTER * 2) == 0
    request_id = db.exec(select(PendingLogin.id)).one()
    pending.start_pending_login.call_local(request_id)  # a second job for a mailed request
    assert len(mailbox.to("grace@example.test")) == 1 and len(mailbox.to(account.email)) == 1
    assert post_form(client, path, MINE).status_code == 303
    assert count(db, PortalAccount) == 2


def test_a_request_that_waited_past_its_lifetime_is_not_mailed(client, vendor, mailbox, db, monkeypatch):
    monkeypatch.setattr(pending, "start_pending_login", lambda request_id: None)
    sign_up(client, vendor)
    monkeypatch.undo()
    assert pending.queue_lost_requests(now=utcnow() + pending.LIFETIME + timedelta(seconds=1)) == 0
    assert pending.forget_expired(db, now=utcnow() + pending.LIFETIME + timedelta(seconds=1)) == 1
    db.commit()
    assert mailbox.messages == [] and count(db, PendingLogin) == 0


def test_the_sweep_leaves_out_a_request_its_job_finished_meanwhile(app, vendor, db):
    """A request the sweep picked, mailed or forgotten by its job before the sweep marks it: the sweep neither
    queues it again nor fails (the marking is one conditional UPDATE, not the ORM's flush of rows it read)."""
    old = utcnow() - timedelta(minutes=10)
    for email in ("gone@example.test", "mailed@example.test", "lost@example.test"):
        db.add(PendingLogin(vendor_id=vendor.id, email=email, password_hash="unused", queued_at=old,
                            expires_at=utcnow() + timedelta(hours=1)))
    db.commit()
    ids = {row.email: row.id for row in db.exec(select(PendingLogin))}

    def jobs_finish_two(orm_execute):
        if orm_execute.is_update and not getattr(jobs_finish_two, "done", False):
            jobs_finish_two.done = True
            orm_execute.session.execute(delete(PendingLogin).where(PendingLogin.id == ids["gone@example.test"]))
            orm_execute.session.execute(update(PendingLogin).where(PendingLogin.id == ids["mailed@example.test"])
                                        .values(token_hash="0" * 64))

    sweep = Session(app.extensions["db_engine"])
    event.listen(sweep, "do_orm_execute", jobs_finish_two)
    try:
        assert pending.lost_requests(sweep) == [ids["lost@example.test"]]
        sweep.commit()
    finally:
        sweep.close()


def test_a_customer_the_vendor_made_signs_up_with_its_email_and_sees_its_license(client, make, vendor, mailbox, db,
                                                                                 vendor_client):
    """The new-license mail says "create a login to see it": a sign-up that proves the customer's mailbox joins the
    customer (one without a login), instead of making a second, empty one."""
    otto = make.customer(vendor, name="Otto Buyer", email="otto@example.test")
    key = make.key(make.product(vendor, name="Otto's App"), customer=otto)
    sign_up(client, vendor, name="Otto", email="Otto@Example.test")
    assert post_form(client, confirm_path(mailbox, "Otto@Example.test"), MINE).status_code == 303
    assert count(db, Customer) == 1
    assert db.exec(select(PortalAccount)).one().customer_id == otto.id
    dashboard = client.get(f"/Portal/@{vendor.slug}/").get_data(as_text=True)
    assert "Otto&#39;s App" in dashboard and key.key[-5:] in dashboard
    from portal.models import AuditEvent

    assert db.exec(select(AuditEvent).where(AuditEvent.action == "account.joined_by_email")).one().subject_id == otto.id
    assert "Sign-up with the customer&#39;s e-mail" in vendor_client.get("/vendor/").get_data(as_text=True)


def test_a_sign_up_joins_no_customer_that_has_a_login_or_shares_its_email(app, make, vendor, mailbox, db):
    taken = make.customer(vendor, email="grace@example.test")
    make.account(vendor, taken, email="grace.hopper@example.test")
    for _ in range(2):
        make.customer(vendor, email="linus@example.test")
    for email in ("grace@example.test", "linus@example.test"):
        client = app.test_client()
        sign_up(client, vendor, email=email)
        assert post_form(client, confirm_path(mailbox, email), MINE).status_code == 303
    origins = sorted(c.origin for c in db.exec(select(Customer)).all())
    assert origins == ["signup", "signup", "vendor", "vendor", "vendor"]


def test_a_sign_up_confirmed_after_the_vendor_closed_sign_up_makes_nothing(client, vendor, mailbox, db):
    from portal.models import Vendor

    sign_up(client, vendor)
    stored = db.get(Vendor, vendor.id)
    stored.signup_enabled = False
    db.add(stored)
    db.commit()
    answer = post_form(client, confirm_path(mailbox), MINE, follow_redirects=True)
    assert "Sign-up to this portal has closed" in answer.get_data(as_text=True)
    assert count(db, Customer) == count(db, PortalAccount) == 0


def _signed_up_as(app, vendor, mailbox, email: str):
    client = app.test_client()
    sign_up(client, vendor, email=email)
    assert post_form(client, confirm_path(mailbox, email), MINE).status_code == 303
    return client


def test_no_customer_with_an_association_link_in_play_is_joined_by_email(app, make, vendor, mailbox, db):
    """Where the vendor made a link the way in (single-use, say), a sign-up with the customer's e-mail makes its own
    record: the link stays the only way to this customer, and unused."""
    invited = make.customer(vendor, email="ada@example.test", association=True)
    _signed_up_as(app, vendor, mailbox, "ada@example.test")
    db.expire_all()
    account = db.exec(select(PortalAccount)).one()
    assert account.customer_id != invited.id and db.get(Customer, invited.id).association_used_at is None


def test_a_customer_whose_login_the_vendor_detached_is_not_joined_again(app, make, vendor, mailbox, db,
                                                                       vendor_client):
    otto = make.customer(vendor, email="otto@example.test")
    login = make.account(vendor, otto, email="otto@example.test")
    page = f"/vendor/customers/{otto.id}"
    assert post_form(vendor_client, f"{page}/accounts/{login.id}/detach", {}, page=page).status_code == 303
    _signed_up_as(app, vendor, mailbox, "otto@example.test")
    db.expire_all()
    assert db.exec(select(PortalAccount)).one().customer_id != otto.id


def test_someone_elses_request_with_my_e_mail_does_not_become_my_login(client, app, vendor, mailbox, db):
    """Two requests with one e-mail (the owner's and someone's who typed it with a password of their own) each get
    a mail to the owner's address. Opening the other's mail with the owner's password makes nothing: the owner's
    own link, with the owner's password, makes the owner's login."""
    sign_up(client, vendor, name="Marie", email="marie@example.test", password="radium-polonium-1898")
    mine = confirm_path(mailbox, "marie@example.test")
    intruder = app.test_client()
    sign_up(intruder, vendor, name="Fake Marie", email="marie@example.test", password="an-intruders-password")
    theirs = confirm_path(mailbox, "marie@example.test")
    assert theirs != mine
    refused = post_form(client, theirs, {"password": "radium-polonium-1898"})
    html = refused.get_data(as_text=True)
    assert refused.status_code == 422 and 'id="password-error"' in html and "try the link in another" in html
    assert count(db, PortalAccount) == 0
    assert post_form(client, mine, {"password": "radium-polonium-1898"}).status_code == 303
    account = db.exec(select(PortalAccount)).one()
    assert account.name == "Marie"
    # The other link, once the e-mail has a login, makes nothing either.
    assert post_form(intruder, theirs, {"password": "an-intruders-password"}).status_code == 303
    assert count(db, PortalAccount) == 1 and db.exec(select(PortalAccount)).one().name == "Marie"


def test_wrong_passwords_on_a_confirmation_link_are_counted(client, vendor, mailbox, db):
    """Each try costs a password hash: ten wrong ones in a quarter of an hour, then a plain "slow down"."""
    sign_up(client, vendor, email="mallory@example.test")
    path = confirm_path(mailbox, "mallory@example.test")
    assert [post_form(client, path, {"password": ""}).status_code for _ in range(12)] == [422] * 12  # no hash: free
    statuses = [post_form(client, path, {"password": f"wrong-{n}"}).status_code for n in range(11)]
    assert statuses == [422] * 10 + [429]
    refused = post_form(client, path, MINE)
    assert refused.status_code == 429 and "Try again within 15 minutes." in refused.get_data(as_text=True)
    assert count(db, PortalAccount) == 0
