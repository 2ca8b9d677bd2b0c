"""Every mail: plain text and HTML from one layout, in the vendor's name, with the portal's link."""

from email.headerregistry import Address

from portal.keys.notify import mail_new_license
from portal.mail import paragraphs
from tests.support.mail import html_of, text_of


def test_a_mail_is_text_and_html_in_the_vendors_name_with_its_portal_link(app, make, vendor, customer, mailbox, db):
    product = make.product(vendor, name="Photo <Editor>")
    key = make.key(product, customer=customer)
    with app.test_request_context():
        assert mail_new_license(db, key=key, portal_link="http://portal.test/Portal/@acme.io/") == 1
        db.commit()
    [mail] = mailbox.to("ada@example.test")
    sender = mail["From"].addresses[0]
    assert isinstance(sender, Address) and sender.display_name == vendor.name
    assert mail.get_content_type() == "multipart/alternative"
    text, html = text_of(mail), html_of(mail)
    assert "A new Photo <Editor> license from Acme <Software> & Co is waiting" in text
    assert text.rstrip().endswith("Your customer portal: http://portal.test/Portal/@acme.io/")
    assert key.key not in text and key.key not in html
    # The HTML escapes what the vendor typed and links the portal.
    assert "Photo &lt;Editor&gt;" in html and "Acme &lt;Software&gt; &amp; Co" in html and "<Editor>" not in html
    assert '<a href="http://portal.test/Portal/@acme.io/"' in html


def test_paragraphs_join_lines_and_find_links():
    assert paragraphs("Hello,\n\nOpen\nthis: https://x.test/a?b=1 now.\n\n\nBye") == [
        [("Hello,", "")], [("Open this: ", ""), ("", "https://x.test/a?b=1"), (" now.", "")], [("Bye", "")]]


def test_a_mail_carries_the_vendors_brand(app, make, vendor, customer, mailbox, db):
    vendor.accent_color, vendor.support_contact, vendor.site_url = "#aa3300", "help@acme.test", "https://acme.test/"
    vendor.logo_version = "abc123"
    db.add(vendor)
    key = make.key(make.product(vendor), customer=customer)
    with app.test_request_context():
        mail_new_license(db, key=key, portal_link="http://portal.test/Portal/@acme.io/")
        db.commit()
    [mail] = mailbox.to("ada@example.test")
    text, html = text_of(mail), html_of(mail)
    assert "Help: help@acme.test" in text and "on the web: https://acme.test/" in text
    assert 'src="http://localhost/Portal/@' in html and "/logo?v=abc123" in html
    assert "border-top:4px solid #aa3300" in html and 'href="mailto:help@acme.test"' in html
    assert 'href="https://acme.test/"' in html
