"""The rows of a product's key list as HTML, each rendered once for what it shows and then reused.

A row shows the key's columns, its customer's name or e-mail, its product's feature names, its status at this
moment and the links' paths; the `key_row` macro renders it the first time and a bounded per-process cache
keyed by exactly those values serves it after (see FragmentCache).
"""

from operator import attrgetter

from flask import current_app, url_for
from markupsafe import Markup

from portal.keys.status import status_of
from portal.models import Product
from portal.rendering import FragmentCache

_rows = FragmentCache(2048)
# The key's values a row shows (keys/_row.html): its cache key holds these, not the notes or machine lists.
_SHOWN = attrgetter("id", "key_number", "key", "created", "expires", *(f"f{n}" for n in range(1, 9)))


def key_rows(keys: list, customers: dict, product: Product, now) -> Markup:
    """The table rows of `keys` (plain rows of license_key), with `customers` by id (rows of id, name, email)."""
    macro = current_app.jinja_env.get_template("keys/_row.html").module.key_row
    # One url_for per page, not per row: the rows' links are these paths with the id in place of the trailing 0.
    key_path = url_for("keys.show", key_id=0)[:-1]
    customer_path = url_for("customers.show", customer_id=0)[:-1]
    labels = tuple(product.feature_name(n) for n in range(1, 9))
    html = []
    for key in keys:
        customer = customers.get(key.customer_id)
        # The macro too: a template reloaded in development is a new macro, and its rows are rendered afresh.
        content = (macro, key_path, customer_path, labels, _SHOWN(key), customer and tuple(customer),
                   status_of(key, now))

        def render(key=key, customer=customer, status=content[-1]):
            features = [label for n, label in enumerate(labels, start=1) if getattr(key, f"f{n}")]
            return macro(key, customer, features, status, key_path, customer_path)

        html.append(_rows.get(content, render))
    return Markup("\n").join(html)
