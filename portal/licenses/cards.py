"""License cards as HTML, rendered once for what they show and then reused.

The dashboard shows every key of the customer's on each visit. A card's HTML depends only on what it shows:
the key's row, its product's names, its machines, the status at this moment, whether the customer may free
machines, and the portal's address. So the `license_card` macro renders a card the first time, and a bounded
per-process cache keyed by exactly those values serves it after. A changed key, machine or setting makes a
different key, so a card is never stale.
"""

from flask import current_app, g, request
from markupsafe import Markup

from portal.licenses.services import License
from portal.rendering import FragmentCache

_cards = FragmentCache(1024)


def license_cards(licenses: list[License], *, customer, now) -> Markup:
    """The cards of the read-only `licenses_of` (plain rows), one after another, each from the cache if it can."""
    macro = current_app.jinja_env.get_template("licenses/_card.html").module.license_card
    # The macro too: a template reloaded in development is a new macro, and its cards are rendered afresh.
    portal = (macro, request.script_root, g.vendor.slug, customer.allow_activation_management)
    html = []
    for license in licenses:
        # Plain tuples: they hash and compare in C, where rows would compare value by value in Python.
        content = (*portal, tuple(license.key), license.product, tuple(map(tuple, license.machines)),
                   license.status(now))
        html.append(_cards.get(content, lambda license=license: macro(license, customer, now)))
    return Markup("\n").join(html)
