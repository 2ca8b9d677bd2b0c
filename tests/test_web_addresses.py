"""The one rule for a web address entered anywhere (terms, brand, download links), and what pages make of one kept
under an older rule."""

import pytest

from portal.brand import brand_of
from portal.rules import is_web_url
from portal.terms.services import usable_terms_url


@pytest.mark.parametrize("address", [
    "https://example.com/terms", "http://127.0.0.1:5000/terms", "https://[::1]/terms", "https://bücher.de/agb",
    "https://example.भारत/terms", "https://สวัสดี.com/", "https://terms_v2.acme.example/", "https://EXAMPLE.com./t",
    "http://localhost/terms", "https://xn--h2brj9c.example/", "https://acme.example:8443/terms?lang=en#top",
])
def test_addresses_people_use_are_taken(address):
    assert is_web_url(address), address


@pytest.mark.parametrize("address", [
    "https://<script>.test/", "https://acme.test:port/", "https://acme.test:0/", "https://acme.test:99999/",
    "https://-acme.test/", "https://acme..test/", "https://bank.example@evil.example/",
    "https://user:secret@acme.example/", "https://acme.test/a\tb", "https://acme.test/a\nb", "https://acme.test/a b",
    "javascript:alert(1)", "ftp://acme.example/terms", "acme.example/terms", "https://", "https://" + "a" * 2100,
    "https://[x/", "https://a]b/",  # urlsplit raises on an unbalanced bracket: a refusal, not a 500
])
def test_what_is_no_address_to_keep_is_refused(address):
    assert not is_web_url(address), address


@pytest.mark.parametrize(("address", "words"), [
    ("https://bank.example@evil.example/", "Leave out the name or password before the host"),
    ("https://acme.test:0/", "Give a port from 1 to 65535"), ("https://acme.test:port/", "Give a port from 1"),
    ("https://acme.test/a b", "without spaces"), ("https://acme.test/a\tb", "without spaces"),
    ("https://-acme.test/", "-acme.test is not a host name"), ("acme.example/terms", "Give an http:// or https://"),
])
def test_a_refusal_says_what_to_change(address, words):
    """A kept address an older rule took is refused with its reason when the form that shows it is saved again."""
    from portal.rules import web_url_problem

    assert words in web_url_problem(address)


def test_each_form_of_an_address_names_its_problem(vendor_client, db, vendor):
    from tests.support.pages import csrf_token

    vendor.site_url = "https://bank.example@evil.example/"  # taken before the rule refused a name before the host
    db.add(vendor)
    db.commit()
    page = vendor_client.get("/vendor/settings/brand").get_data(as_text=True)
    response = vendor_client.post("/vendor/settings/brand", data={
        "csrf_token": csrf_token(vendor_client, "/vendor/settings/brand"), "accent_color": "#123456",
        "support_contact": "", "site_url": vendor.site_url})
    assert "bank.example@evil.example" in page and response.status_code == 422
    assert "Leave out the name or password before the host" in response.get_data(as_text=True)


class _Vendor:
    name, logo_version, accent_color = "Acme", None, None

    def __init__(self, support_contact):
        self.support_contact = support_contact


@pytest.mark.parametrize("kept", ["https://help_desk.acme.example/", "https://user@help.acme.example/"])
def test_an_address_kept_under_an_older_rule_still_works_where_it_is_read(kept):
    """A stricter rule for what is entered must not turn the terms gate off, nor make a help page a mailto:."""
    assert usable_terms_url(kept) == kept
    brand = brand_of(_Vendor(kept), portal_url="/Portal/@acme/")
    assert brand.support_url == kept and brand.support_email is None


def test_a_kept_address_longer_than_an_acceptance_keeps_is_not_asked_to_be_accepted():
    """Allowed once up to 10,000 characters: "I accept" would then fail to store it (a 500 on PostgreSQL)."""
    assert usable_terms_url("https://acme.example/terms?v=" + "a" * 5000) is None


@pytest.mark.parametrize("character", ["\u2028", "\u2029", "\x85", "\u202e", "\u2067"])
def test_what_breaks_a_line_or_turns_its_direction_is_no_part_of_one_line(character):
    from portal.rules import is_single_line

    assert not is_single_line(f"Acme{character}Ltd") and not is_web_url(f"https://acme.example/{character}terms")
    assert is_single_line("شركة أكمي") and is_single_line("Acme – Ltd")  # right-to-left text and dashes are fine
