"""The generic sign-up: the same answer for any e-mail, and nothing made until the mailed link is opened."""

from datetime import timedelta

from flask import has_request_context
from sqlmodel import func, select

from portal import jobs
from portal.models import Customer, PendingLogin, PortalAccount, utcnow
from portal.security import hash_password
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


def count(db, model) -> int:
    return db.exec(select(func.count()).select_from(model)).one()


def test_sign_up_mails_a_link_that_makes_the_customer_and_logs_in(client, vendor, mailbox, db):
    response = sign_up(client, vendor)
    assert response.status_code == 200
    assert "Check your mail" in response.get_data(as_text=True)
    assert count(db, Customer) == count(db, PortalAccount) == 0, "no customer until the e-mail is confirmed"

    path = confirm_path(mailbox)
    assert client.get(path).status_code == 200
    response = post_form(client, path, {})
    assert response.status_code == 303 and response.headers["Location"] == f"/Portal/@{vendor.slug}/"
    account = db.exec(select(PortalAccount)).one()
    customer = db.get(Customer, account.customer_id)
    assert (customer.name, customer.email, customer.company_name, customer.origin) == (
        "Grace Hopper", "grace@example.test", "Navy", "signup")
    assert account.email_verified_at is not None
    assert "Grace Hopper" in client.get(f"/Portal/@{vendor.slug}/").get_data(as_text=True)


def test_an_unconfirmed_sign_up_cannot_log_in(client, vendor, mailbox):
    sign_up(client, vendor)
    response = post_form(client, f"/Portal/@{vendor.slug}/Login",
                         {"email": "grace@example.test", "password": "a-long-password"})
    assert response.status_code == 422
    assert "do not match an account" in response.get_data(as_text=True)


def test_the_confirmation_link_works_once(client, vendor, mailbox):
    sign_up(client, vendor)
    path = confirm_path(mailbox)
    response = post_form(client, path, {})
    assert response.status_code == 303 and response.headers["Location"] == f"/Portal/@{vendor.slug}/"
    assert client.get(path).status_code == 404


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
        response = post_form(client, path, {})
        assert response.status_code == 303 and response.headers["Location"] == f"/Portal/@{portal.slug}/"
    assert count(db, PortalAccount) == 2


def test_two_sign_ups_of_one_email_make_one_login(client, app, vendor, mailbox, db):
    """Two requests before either is confirmed: the second confirmation makes nothing and sends to the login."""
    sign_up(client, vendor)
    first = confirm_path(mailbox)
    sign_up(app.test_client(), vendor)
    second = confirm_path(mailbox)
    assert first != second
    response = post_form(client, first, {})
    assert response.status_code == 303 and response.headers["Location"] == f"/Portal/@{vendor.slug}/"
    other = app.test_client()
    response = post_form(other, second, {})
    assert response.status_code == 303 and response.headers["Location"] == f"/Portal/@{vendor.slug}/Login"
    assert count(db, PortalAccount) == count(db, Customer) == 1


def test_sign_up_off_answers_not_found(vendor_client, client, vendor):
    post_form(vendor_client, "/vendor/settings", {"portal_enabled": "y"})
    assert client.get(f"/Portal/@{vendor.slug}/SignUp").status_code == 404
    assert client.get(f"/Portal/@{vendor.slug}/Login").status_code == 200


def test_slug_is_case_insensitive(client, vendor):
    assert client.get("/Portal/@ACME.IO/SignUp").status_code == 200


PAGES = {"confirm_page": "https://licenses.example.com/Portal/@x/Confirm",
         "login_page": "https://licenses.example.com/Portal/@x/Login",
         "forgot_page": "https://licenses.example.com/Portal/@x/ForgotPassword"}


def test_sign_up_does_the_same_work_for_a_known_and_a_new_email(client, app, vendor, account, monkeypatch):
    """The request hashes the password and queues the job either way: its timing tells nothing. The queue gets
    the argon2 hash, never the password."""
    queued = []
    monkeypatch.setattr(pending, "start_pending_login", lambda *args: queued.append(args))
    known_email, slug = account.email, vendor.slug  # loaded here, not inside the counted requests
    with counted_queries(app) as known:
        assert sign_up(client, vendor, email=known_email).status_code == 200
    with counted_queries(app) as new:
        assert sign_up(client, vendor, email="grace@example.test").status_code == 200
    assert known == new and not any("INSERT" in statement for statement in known)
    assert [args[3] for args in queued] == [known_email, "grace@example.test"]
    for args in queued:
        assert args[5].startswith("$argon2id$") and "a-long-password" not in repr(args)
        assert args[6]["confirm_page"].endswith(f"/Portal/@{slug}/Confirm")


def test_the_sign_up_job_works_without_a_request(app, vendor, account, mailbox, db):
    jobs.bind_worker_app(app)
    vendor_id, known_email = vendor.id, account.email
    assert not has_request_context()
    pending.start_pending_login.call_local(vendor_id, None, "Grace", "grace@example.test", "",
                                           hash_password("pw-12345678"), PAGES, "203.0.113.9")
    assert mailbox.last_link("grace@example.test", "Confirm").startswith(PAGES["confirm_page"] + "?token=")
    pending.start_pending_login.call_local(vendor_id, None, "Ada", known_email, "", hash_password("pw-12345678"),
                                           PAGES, "")
    (mail,) = mailbox.to(known_email)
    assert PAGES["login_page"] in text_of(mail) and PAGES["forgot_page"] in text_of(mail)
