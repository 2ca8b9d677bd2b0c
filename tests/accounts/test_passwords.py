from portal.accounts import services
from portal.models import PortalAccount
from tests.support.factories import CUSTOMER_PASSWORD
from tests.support.mail import text_of
from tests.support.pages import post_form, redirect_path
from tests.support.queries import counted_queries


def forgot(client, vendor, email):
    return post_form(client, f"/Portal/@{vendor.slug}/ForgotPassword", {"email": email})


def local(link: str) -> str:
    return link.split("localhost", 1)[1]


def test_reset_by_mail_sets_a_new_password_once(client, app, vendor, account, mailbox, make):
    other_device = app.test_client()
    make.login_portal(other_device, vendor, account)
    assert forgot(client, vendor, account.email).status_code == 200
    link = local(mailbox.last_link(account.email, "ResetPassword"))
    response = post_form(client, link, {"password": "brand-new-password", "confirm": "brand-new-password"})
    assert response.status_code == 303 and response.headers["Location"] == f"/Portal/@{vendor.slug}/"
    assert client.get(f"/Portal/@{vendor.slug}/").status_code == 200
    assert redirect_path(other_device.get(f"/Portal/@{vendor.slug}/")) == f"/Portal/@{vendor.slug}/Login", (
        "a reset ends other sessions")
    assert client.get(link).status_code == 404, "the link works once"
    notice = mailbox.to(account.email)[-1]
    assert notice["Subject"] == f"Your password for {vendor.name}'s customer portal was changed"
    assert f"http://localhost/Portal/@{vendor.slug}/ForgotPassword" in text_of(notice)
    make.login_portal(app.test_client(), vendor, account, password="brand-new-password")


def test_forgot_password_answers_alike_and_mails_only_known_accounts(client, vendor, account, mailbox):
    known = forgot(client, vendor, account.email)
    unknown = forgot(client, vendor, "nobody@example.test")
    assert known.status_code == unknown.status_code == 200
    assert "Check your mail" in known.get_data(as_text=True) and "Check your mail" in unknown.get_data(as_text=True)
    assert f'<a href="/Portal/@{vendor.slug}/ForgotPassword">try again</a>' in known.get_data(as_text=True)
    assert len(mailbox.messages) == 1


def test_forgot_password_does_the_same_work_for_any_email(client, app, vendor, account, monkeypatch):
    """The request only queues the job, the same way for a known e-mail and an unknown one, so its timing tells
    nothing either: the lookup, the token and the mail are the job's."""
    queued = []
    monkeypatch.setattr(services, "send_password_reset", lambda *args: queued.append(args))
    vendor_id, email, reset_page = vendor.id, account.email, f"http://localhost/Portal/@{vendor.slug}/ResetPassword"
    with counted_queries(app) as known:
        assert forgot(client, vendor, email.upper()).status_code == 200
    with counted_queries(app) as unknown:
        assert forgot(client, vendor, "nobody@example.test").status_code == 200
    assert known == unknown and not any("INSERT" in statement for statement in known)
    assert queued == [(vendor_id, email.lower(), reset_page), (vendor_id, "nobody@example.test", reset_page)]


def test_the_reset_job_mails_its_link_without_a_request(app, vendor, account, mailbox):
    """The job runs in the consumer, where there is an app but no request: the mail is built from the page address
    the request gave it."""
    from flask import has_request_context

    from portal import jobs

    jobs.bind_worker_app(app)  # the job runs where a worker would: in an app, outside any request
    vendor_id, email = vendor.id, account.email
    assert not has_request_context()
    services.send_password_reset.call_local(vendor_id, email, "https://licenses.example.com/Portal/@x/ResetPassword")
    link = mailbox.last_link(email, "ResetPassword")
    assert link.startswith("https://licenses.example.com/Portal/@x/ResetPassword?token=")
    services.send_password_reset.call_local(vendor_id, "nobody@example.test", "https://licenses.example.com/")
    assert len(mailbox.messages) == 1


def test_reset_token_of_another_portal_is_not_valid(client, vendor, other_vendor, account, mailbox):
    forgot(client, vendor, account.email)
    link = local(mailbox.last_link(account.email, "ResetPassword"))
    assert client.get(link.replace(f"@{vendor.slug}", f"@{other_vendor.slug}")).status_code == 404


def test_change_password_needs_the_current_one(portal_client, vendor, account, db):
    url = f"/Portal/@{vendor.slug}/ChangePassword"
    response = post_form(portal_client, url, {"current_password": "wrong", "password": "another-password-1",
                                              "confirm": "another-password-1"})
    assert response.status_code == 422
    assert 'id="current_password-error"' in response.get_data(as_text=True)
    same = post_form(portal_client, url, {"current_password": CUSTOMER_PASSWORD, "password": CUSTOMER_PASSWORD,
                                          "confirm": CUSTOMER_PASSWORD})
    assert same.status_code == 422 and "That is the password you have now" in same.get_data(as_text=True)
    response = post_form(portal_client, url, {"current_password": CUSTOMER_PASSWORD,
                                              "password": "another-password-1", "confirm": "another-password-1"})
    assert response.status_code == 303 and response.headers["Location"] == f"/Portal/@{vendor.slug}/"
    assert portal_client.get(f"/Portal/@{vendor.slug}/").status_code == 200, "this session stays"
    assert db.get(PortalAccount, account.id).password_hash.startswith("$argon2id$")


def test_change_password_ends_other_sessions(portal_client, app, make, vendor, account):
    other = app.test_client()
    make.login_portal(other, vendor, account)
    post_form(portal_client, f"/Portal/@{vendor.slug}/ChangePassword", {
        "current_password": CUSTOMER_PASSWORD, "password": "another-password-1", "confirm": "another-password-1"})
    assert redirect_path(other.get(f"/Portal/@{vendor.slug}/")) == f"/Portal/@{vendor.slug}/Login"


def test_a_new_password_kills_every_reset_link_still_out(client, vendor, account, mailbox):
    forgot(client, vendor, account.email)
    first = local(mailbox.last_link(account.email, "ResetPassword"))
    forgot(client, vendor, account.email)
    second = local(mailbox.last_link(account.email, "ResetPassword"))
    assert first != second
    post_form(client, second, {"password": "brand-new-password", "confirm": "brand-new-password"})
    assert client.get(first).status_code == 404


def test_a_new_password_also_ends_an_e_mail_confirmation_still_out(portal_client, client, vendor, account, db):
    """A confirmation link logs in: one mailed before the password changed (to end someone else's hold on the
    account, say) no longer works after."""
    token = services.issue_token(db, account=db.get(PortalAccount, account.id), purpose=services.VERIFY_EMAIL)
    db.commit()
    link = f"/Portal/@{vendor.slug}/VerifyEmail?token={token}"
    assert client.get(link).status_code == 200
    page = f"/Portal/@{vendor.slug}/ChangePassword"
    assert post_form(portal_client, page, {"current_password": CUSTOMER_PASSWORD, "password": "brand-new-password",
                                           "confirm": "brand-new-password"}).status_code == 303
    assert client.get(link).status_code == 404


def test_a_hash_made_with_older_parameters_is_upgraded_at_login(client, app, make, vendor, account, db):
    from argon2 import PasswordHasher

    from portal.models import VendorUser
    from portal.security import needs_rehash
    from tests.support.factories import VENDOR_PASSWORD

    older = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)  # parameters the portal no longer uses
    owner = make.owner(vendor)
    account.password_hash, owner.password_hash = older.hash(CUSTOMER_PASSWORD), older.hash(VENDOR_PASSWORD)
    db.add_all([account, owner])
    db.commit()
    assert needs_rehash(account.password_hash) and needs_rehash(owner.password_hash)

    make.login_portal(client, vendor, account)
    make.login_vendor(app.test_client(), vendor)
    db.expire_all()
    assert not needs_rehash(db.get(PortalAccount, account.id).password_hash)
    assert not needs_rehash(db.get(VendorUser, owner.id).password_hash)
    make.login_portal(app.test_client(), vendor, account)  # the upgraded hash still takes the same password


def test_an_upgrade_does_not_undo_a_password_changed_meanwhile(make, vendor, account, db):
    from argon2 import PasswordHasher

    from portal.security import hash_password, upgrade_hash

    older = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    account.password_hash = older.hash(CUSTOMER_PASSWORD)
    db.add(account)
    db.commit()
    seen = PortalAccount(id=account.id, password_hash=account.password_hash)  # what the login read
    changed = hash_password("changed-meanwhile-1")
    account.password_hash = changed  # a reset that commits while the login is being checked
    db.add(account)
    db.commit()
    upgrade_hash(db, PortalAccount, seen, CUSTOMER_PASSWORD)
    db.commit()
    db.expire_all()
    assert db.get(PortalAccount, account.id).password_hash == changed
