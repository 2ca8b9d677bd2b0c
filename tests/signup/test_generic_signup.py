from flask import has_request_context
from sqlmodel import func, select

from portal.accounts import services as accounts
from portal.models import Customer, PortalAccount
from portal.security import hash_password
from portal.signup import services
from tests.support.pages import post_form
from tests.support.queries import counted_queries


def sign_up(client, vendor, **overrides):
    data = {"name": "Grace Hopper", "email": "grace@example.test", "company_name": "Navy",
            "password": "a-long-password"} | overrides
    return post_form(client, f"/Portal/@{vendor.slug}/SignUp", data)


def test_sign_up_mails_a_link_that_verifies_and_logs_in(client, vendor, mailbox, db):
    response = sign_up(client, vendor)
    assert response.status_code == 200
    assert "Check your mail" in response.get_data(as_text=True)

    account = db.exec(select(PortalAccount)).one()
    customer = db.get(Customer, account.customer_id)
    assert (customer.name, customer.email, customer.company_name, customer.origin) == (
        "Grace Hopper", "grace@example.test", "Navy", "signup")
    assert account.email_verified_at is None

    link = mailbox.last_link("grace@example.test", "VerifyEmail")
    path = link.split("localhost", 1)[1]
    assert client.get(path).status_code == 200
    response = post_form(client, path, {})
    assert response.status_code == 303 and response.headers["Location"] == f"/Portal/@{vendor.slug}/"
    dashboard = client.get(f"/Portal/@{vendor.slug}/")
    assert dashboard.status_code == 200
    assert "Grace Hopper" in dashboard.get_data(as_text=True)


def test_unverified_account_cannot_log_in_and_gets_a_new_link(client, vendor, mailbox):
    sign_up(client, vendor)
    response = post_form(client, f"/Portal/@{vendor.slug}/Login",
                         {"email": "grace@example.test", "password": "a-long-password"})
    assert response.status_code == 422
    assert "Confirm your e-mail first" in response.get_data(as_text=True)
    assert len(mailbox.to("grace@example.test")) == 2


def test_verification_link_works_once(client, vendor, mailbox):
    sign_up(client, vendor)
    path = mailbox.last_link("grace@example.test", "VerifyEmail").split("localhost", 1)[1]
    response = post_form(client, path, {})
    assert response.status_code == 303 and response.headers["Location"] == f"/Portal/@{vendor.slug}/"
    assert client.get(path).status_code == 404


def test_existing_email_gets_the_same_page_and_a_mail_to_the_owner(client, vendor, account, mailbox, db):
    before = db.exec(select(func.count()).select_from(Customer)).one()
    response = sign_up(client, vendor, email=account.email.upper())
    assert response.status_code == 200
    assert "Check your mail" in response.get_data(as_text=True)
    assert db.exec(select(func.count()).select_from(Customer)).one() == before
    (mail,) = mailbox.to(account.email)
    assert "You already have an account" in mail.get_content()


def test_same_email_may_sign_up_in_two_portals(client, vendor, other_vendor, mailbox, db):
    sign_up(client, vendor)
    sign_up(client, other_vendor)
    assert db.exec(select(func.count()).select_from(PortalAccount)).one() == 2
    assert len(mailbox.to("grace@example.test")) == 2


def test_sign_up_off_answers_not_found(vendor_client, client, vendor):
    post_form(vendor_client, "/vendor/settings", {"portal_enabled": "y"})
    assert client.get(f"/Portal/@{vendor.slug}/SignUp").status_code == 404
    assert client.get(f"/Portal/@{vendor.slug}/Login").status_code == 200


def test_slug_is_case_insensitive(client, vendor):
    assert client.get("/Portal/@ACME.IO/SignUp").status_code == 200


PAGES = {"verify_page": "https://licenses.example.com/Portal/@x/VerifyEmail",
         "login_page": "https://licenses.example.com/Portal/@x/Login",
         "forgot_page": "https://licenses.example.com/Portal/@x/ForgotPassword"}


def test_sign_up_does_the_same_work_for_a_known_and_a_new_email(client, app, vendor, account, monkeypatch):
    """The request hashes the password and queues the job either way: its timing tells nothing. The queue gets
    the argon2 hash, never the password."""
    queued = []
    monkeypatch.setattr(services, "complete_sign_up", lambda *args: queued.append(args))
    known_email, slug = account.email, vendor.slug  # loaded here, not inside the counted requests
    with counted_queries(app) as known:
        assert sign_up(client, vendor, email=known_email).status_code == 200
    with counted_queries(app) as new:
        assert sign_up(client, vendor, email="grace@example.test").status_code == 200
    assert known == new and not any("INSERT" in statement for statement in known)
    assert [args[2] for args in queued] == [known_email, "grace@example.test"]
    for args in queued:
        assert args[4].startswith("$argon2id$") and "a-long-password" not in repr(args)
        assert args[5]["verify_page"].endswith(f"/Portal/@{slug}/VerifyEmail")


def test_the_sign_up_job_works_without_a_request(app, vendor, account, mailbox, db):
    from portal import jobs

    jobs.bind_worker_app(app)  # the job runs where a worker would: in an app, outside any request
    vendor_id, known_email = vendor.id, account.email
    assert not has_request_context()
    services.complete_sign_up.call_local(vendor_id, "Grace", "grace@example.test", "", hash_password("pw-12345678"),
                                         PAGES, "203.0.113.9")
    assert mailbox.last_link("grace@example.test", "VerifyEmail").startswith(PAGES["verify_page"] + "?token=")
    services.complete_sign_up.call_local(vendor_id, "Ada", known_email, "", hash_password("pw-12345678"), PAGES, "")
    (mail,) = mailbox.to(known_email)
    assert PAGES["login_page"] in mail.get_content() and PAGES["forgot_page"] in mail.get_content()


def test_two_sign_ups_of_one_email_make_one_account_and_tell_the_owner(app, vendor, mailbox, db, monkeypatch):
    """The second job can miss the first's account and then fail to insert its own: it writes nothing and mails
    the owner instead."""
    from portal import jobs

    jobs.bind_worker_app(app)  # the job runs where a worker would: in an app, outside any request
    vendor_id = vendor.id
    run = lambda: services.complete_sign_up.call_local(  # noqa: E731
        vendor_id, "Grace", "grace@example.test", "", hash_password("pw-12345678"), PAGES, "")
    run()
    customers_before = db.exec(select(func.count()).select_from(Customer)).one()
    find = accounts.find_account
    misses = iter([True])
    monkeypatch.setattr(accounts, "find_account", lambda *a, **k: None if next(misses, False) else find(*a, **k))
    run()
    db.expire_all()
    assert db.exec(select(func.count()).select_from(PortalAccount)).one() == 1
    assert db.exec(select(func.count()).select_from(Customer)).one() == customers_before, "nothing half-written"
    assert [m["Subject"] for m in mailbox.to("grace@example.test")] == [
        f"Confirm your e-mail for {vendor.name}", f"Your {vendor.name} account"]
