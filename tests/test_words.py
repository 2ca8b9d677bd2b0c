"""Words made from names: a possessive as a reader expects it, in pages (escaped) and in plain-text mails."""

import pytest
from flask import render_template_string

from portal.words import plural, possessive


@pytest.mark.parametrize(("name", "made"), [("Acme", "Acme's"), ("Acme Tools", "Acme Tools'"),
                                            ("ACME LABS", "ACME LABS'"), ("", "'s")])
def test_a_name_ending_in_s_takes_the_apostrophe_alone(name, made):
    assert possessive(name) == made


def test_templates_escape_the_name_and_keep_the_apostrophe(app):
    with app.test_request_context():
        page = render_template_string("{{ name|possessive }} portal", name="<b>Tools & Dies")
        assert page == "&lt;b&gt;Tools &amp; Dies' portal"
        assert render_template_string("{{ name|possessive }}", name="Bob") == "Bob's"
        text = app.jinja_env.overlay(autoescape=False).from_string("{{ name|possessive }} portal")
        assert text.render(name="<b>Tools & Dies") == "<b>Tools & Dies' portal"


def test_plural():
    assert (plural(1, "key"), plural(1200, "key"), plural(2, "entry", "entries")) == ("1 key", "1,200 keys",
                                                                                     "2 entries")
