"""A vendor user who forgot the password: a mailed link sets a new one once, within the hour; the answer and the
mail say nothing about who has an account."""

import re
import threading
import time
from urllib.parse import unquote

from sqlmodel import select

from portal.models import AuditEvent
from portal.vendors import password_reset
from tests.support.factories import VENDOR_PASSWORD
from tests.support.mail import text_of
from tests.support.pages import post_form, redirect_path

NEW = "brand-new-password"


def forgot(client, email):
    return post_form(client, "/vendor/forgot-password", {"email": email})


def local(link: str) -> str:
    return link.split("localhost", 1)[1]


def test_the_login_page_leads_to_a_link_that_sets_a_new_password_once(client, app, make, vendor, mailbox, db):
    owner = make.owner(vendor)
    other_device = app.test_client()
    make.login_vendor(other_device, vendor)
    assert 'href="/vendor/forgot-password">Forgot your password?</a>' in client.get("/vendor/login").get_data(
        as_text=True)
    answer = forgot(client, owner.email.upper())
    assert answer.status_code == 200 and "Check your mail" in answer.get_data(as_text=True)
    mail = mailbox.messages[-1]
    assert mail["Subject"] == f"Reset your password for {vendor.name}'s dashboard"
    assert "Your vendor dashboard: http://localhost/vendor/login" in text_of(mail)
    link = local(mailbox.last_link(owner.email, "reset-password"))

    assert "Choose a new password" in client.get(link).get_data(as_text=True)
    mismatch = post_form(client, link, {"password": NEW, "confirm": "something-else-1"})
    assert mismatch.status_code == 422
    own = post_form(client, link, {"password": owner.email, "confirm": owner.email})  # easy for who knows it
    assert own.status_code == 422 and "too easy to guess" in own.get_data(as_text=True)
    done = post_form(client, link, {"password": NEW, "confirm": NEW})
    assert done.status_code == 303 and done.headers["Location"] == "/vendor/"
    assert client.get("/vendor/").status_code == 200
    assert redirect_path(other_device.get("/vendor/")) == "/vendor/login", "a reset ends the other sessions"
    assert client.get(link).status_code == 404, "the link works once"
    notice = mailbox.to(owner.email)[-1]
    assert notice["Subject"] == f"Your password for {vendor.name}'s vendor dashboard was changed"
    assert "If you did not, someone else may have your login" in text_of(notice)
    assert "http://localhost/vendor/forgot-password" in text_of(notice) and NEW not in text_of(notice)
    assert post_form(app.test_client(), "/vendor/login", {"email": owner.email, "password": VENDOR_PASSWORD}
                     ).status_code == 422
    assert post_form(app.test_client(), "/vendor/login", {"email": owner.email, "password": NEW}).status_code == 303
    event = db.exec(select(AuditEvent).where(AuditEvent.action == "vendor_user.password_reset")).one()
    assert event.actor == f"vendor_user:{owner.id} {owner.email}" and NEW not in event.after


def test_a_known_and_an_unknown_address_get_the_same_answer_and_only_one_mail(client, make, vendor, mailbox):
    known = forgot(client, make.owner(vendor).email)
    unknown = forgot(client, "nobody@example.test")
    assert known.status_code == unknown.status_code == 200
    def page(answer, email):  # the CSRF token the layout carries is made afresh each second
        return re.sub(r'"X-CSRFToken": "[^"]*"', "", answer.get_data(as_text=True).replace(email, "X"))

    assert page(known, make.owner(vendor).email) == page(unknown, "nobody@example.test")
    assert len(mailbox.messages) == 1


def test_bad_expired_and_altered_links_are_refused(client, app, make, vendor, other_vendor, mailbox, db,
                                                   monkeypatch):
    for token in ("", "nonsense", "W1sxLCJhIl0.x.y"):
        page = client.get("/vendor/reset-password", query_string={"token": token})
        assert page.status_code == 404 and "This link has been used or has expired" in page.get_data(as_text=True)
    forgot(client, make.owner(vendor).email)
    link = local(mailbox.last_link(make.owner(vendor).email, "reset-password"))
    token = link.split("token=", 1)[1]
    assert client.get(link[:-2] + ("AA" if not link.endswith("AA") else "BB")).status_code == 404
    # An hour later the link has expired.
    real_time = time.time
    monkeypatch.setattr(time, "time", lambda: real_time() + 3601)
    assert client.get(link).status_code == 404
    monkeypatch.undo()
    # A link stays its user's: what it names is signed, so no edit makes it another's.
    with app.app_context():
        user = password_reset.user_of_link(db, token=unquote(token))
    assert user.id == make.owner(vendor).id != make.owner(other_vendor).id


def test_two_uses_of_one_link_at_once_set_one_password(app, make, vendor, mailbox, db):
    forgot(app.test_client(), make.owner(vendor).email)
    link = local(mailbox.last_link(make.owner(vendor).email, "reset-password"))
    clients = [app.test_client() for _ in range(2)]
    tokens = [post_form(c, link, {}).status_code for c in clients]  # a CSRF token each, from the form page
    assert tokens == [422, 422]
    start, answers = threading.Barrier(2), []

    def use(client, password):
        start.wait()
        answers.append(post_form(client, link, {"password": password, "confirm": password}).status_code)

    threads = [threading.Thread(target=use, args=(c, f"password-number-{n}")) for n, c in enumerate(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(answers) == [303, 404]
    db.expire_all()
    assert len(db.exec(select(AuditEvent).where(AuditEvent.action == "vendor_user.password_reset")).all()) == 1
