"""Mail to an address someone types (a password reset, a sign-up's confirmation) is capped per portal and address:
five an hour for each network address that asks, twenty a day in all. Nobody floods an inbox, nor uses up a
person's resets on another vendor's portal, nor, from one place, their sign-up. Over a cap the answer is the usual
one and no mail goes."""

import re

from tests.support.pages import post_form


def _from(n: int) -> dict:
    return {"environ_base": {"REMOTE_ADDR": f"198.51.100.{n}"}}


def _forgot(client, vendor, email, n):
    return post_form(client, f"/Portal/@{vendor.slug}/ForgotPassword", {"email": email}, **_from(n))


def test_resets_asked_on_another_portal_do_not_use_up_the_owners(client, vendor, other_vendor, account, mailbox):
    for n in range(6):
        assert _forgot(client, other_vendor, account.email, n).status_code == 200
    answer = _forgot(client, vendor, account.email, 50)
    assert answer.status_code == 200 and "Check your mail" in answer.get_data(as_text=True)
    assert len(mailbox.to(account.email)) == 1


def test_a_sixth_reset_in_an_hour_from_one_place_gets_the_same_answer_and_no_mail(client, vendor, account, mailbox):
    answers = [_forgot(client, vendor, account.email.upper(), 1) for n in range(7)]
    assert {a.status_code for a in answers} == {200}
    # The same page but for its CSRF token, which carries the second it was signed in.
    pages = [re.sub(r'("X-CSRFToken": "|name="csrf_token" value=")[^"]*', r"\1", a.get_data(as_text=True))
             for a in answers]
    assert all(page == pages[0] for page in pages), [line for line in pages[-1].splitlines()
                                                      if line not in pages[0].splitlines()]
    assert len(mailbox.to(account.email)) == 5


def _sign_up(client, vendor, n, email="grace@example.test", password=None):
    data = {"name": "Grace Hopper", "email": email, "password": password or "a-long-password"}
    return post_form(client, f"/Portal/@{vendor.slug}/SignUp", data, **_from(n))


def test_a_strangers_sign_ups_naming_an_address_leave_its_owner_their_own(client, vendor, mailbox):
    # The stranger's mails want the stranger's password: the owner needs a mail of their own sign-up.
    answers = [_sign_up(client, vendor, 1, password="the-strangers-password") for _ in range(7)]
    assert all("Check your mail" in a.get_data(as_text=True) for a in answers)
    assert len(mailbox.to("grace@example.test")) == 5
    assert "Check your mail" in _sign_up(client, vendor, 2).get_data(as_text=True)
    assert len(mailbox.to("grace@example.test")) == 6
    assert _sign_up(client, vendor, 1, email="linus@example.test").status_code == 200
    assert len(mailbox.to("linus@example.test")) == 1  # each address its own count


def test_an_address_gets_twenty_mails_a_day_whoever_asks(client, vendor, mailbox):
    answers = [_sign_up(client, vendor, n) for n in range(23)]
    assert {a.status_code for a in answers} == {200}
    assert all("Check your mail" in a.get_data(as_text=True) for a in answers)
    assert len(mailbox.to("grace@example.test")) == 20


def test_the_addresses_of_one_ipv6_64_are_one_asker(client, vendor, mailbox):
    for n in range(1, 8):
        post_form(client, f"/Portal/@{vendor.slug}/SignUp", {"name": "Grace Hopper", "email": "grace@example.test",
                                                             "password": "a-long-password"},
                  environ_base={"REMOTE_ADDR": f"2001:db8:0:1::{n:x}"})
    assert len(mailbox.to("grace@example.test")) == 5
    _sign_up(client, vendor, 2)  # another asker
    assert len(mailbox.to("grace@example.test")) == 6


def test_what_an_askers_own_count_refuses_is_not_counted_against_the_address(client, vendor, mailbox):
    for _ in range(30):
        _sign_up(client, vendor, 1)  # five mailed, twenty-five refused by the asker's count alone
    for n in (2, 3, 4):
        for _ in range(5):
            _sign_up(client, vendor, n)
    assert len(mailbox.to("grace@example.test")) == 20
