"""The HTML templates are ASCII: typographic characters are written as entities (&middot;, &hellip;, &bull;, &mdash;).
(Plain-text mail templates are not HTML: an entity there would reach the reader as it is written.)

A page whose text is all ASCII is a one-byte-per-character string in Python, which Jinja joins and the server
encodes to UTF-8 as plain copies. A single `·` in a template made the whole 20 KB dashboard a two-byte string:
4 % of the instructions of every dashboard request went to widening and re-encoding it (bench/RESULTS.md).
"""

from pathlib import Path

import portal

TEMPLATES = Path(portal.__file__).parent / "templates"


def test_every_html_template_is_ascii():
    offenders = []
    for template in sorted(TEMPLATES.rglob("*.html")):
        if template.is_file():
            for number, line in enumerate(template.read_text(encoding="utf-8").splitlines(), 1):
                if not line.isascii():
                    offenders.append(f"{template.relative_to(TEMPLATES)}:{number}: {line.strip()[:80]}")
    assert not offenders, "write these characters as HTML entities:\n" + "\n".join(offenders)


def test_the_dashboard_is_an_ascii_page(portal_client, make, vendor, customer):
    make.key(make.product(vendor, name="Demo App"), customer=customer)
    page = portal_client.get(f"/Portal/@{vendor.slug}/").get_data(as_text=True)
    assert "&bull;" in page and "Engines Ltd &middot; Logged in" in page
    assert page.isascii()
