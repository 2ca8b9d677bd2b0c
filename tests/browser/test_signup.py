"""A visitor follows the sign-up link from the vendor's website, confirms the e-mail and reaches the portal."""

import pytest
from playwright.sync_api import expect

from tests.support.pages import links_in


def href_of(snippet: str) -> str:
    links = links_in(snippet)
    assert len(links) == 1, snippet
    return links[0]["href"]


@pytest.mark.browser
def test_visitor_signs_up_from_website_snippet(vendor_page, new_page, live_server, mailbox):
    page = vendor_page
    page.get_by_role("link", name="Settings", exact=True).click()
    snippet = page.get_by_label("HTML for your website").input_value()
    assert "Create your Acme &lt;Software&gt; &amp; Co account</a>" in snippet
    signup_url = href_of(snippet)
    assert signup_url == f"{live_server}/Portal/@acme.io/SignUp"

    visitor = new_page()
    visitor.goto(signup_url)
    expect(visitor.get_by_role("heading", level=1)).to_have_text("Create your Acme <Software> & Co account")
    visitor.get_by_label("Your name").fill("Grace Hopper")
    visitor.get_by_label("E-mail").fill("grace@example.test")
    visitor.get_by_label("Company").fill("Navy")
    visitor.get_by_label("Password").fill("compiler-a0-1952")
    visitor.get_by_role("button", name="Create account").click()
    expect(visitor.get_by_role("heading", level=1, name="Check your mail")).to_be_visible()

    link = mailbox.last_link("grace@example.test", "/Confirm?token=")
    assert link.startswith(f"{live_server}/Portal/@acme.io/Confirm?token=")
    visitor.goto(link)
    expect(visitor.get_by_text("Confirm grace@example.test")).to_be_visible()
    visitor.get_by_label("The password you chose").fill("compiler-a0-1952")
    visitor.get_by_role("button", name="Confirm my e-mail").click()
    expect(visitor.get_by_role("status")).to_contain_text("Your e-mail is confirmed.")
    expect(visitor.get_by_role("heading", level=1, name="Grace Hopper")).to_be_visible()
    expect(visitor.get_by_text("Navy · Logged in as grace@example.test")).to_be_visible()
    expect(visitor.get_by_text("No licenses yet")).to_be_visible()
