"""The rows of the vendor's customer list as HTML, each rendered once for what it shows and then reused.

A row shows the customer's id, name, e-mail, company and creation day, and links to the customer's page; the
`customer_row` macro renders it the first time and a bounded per-process cache keyed by exactly those values
serves it after (see FragmentCache).
"""

from flask import current_app, url_for
from markupsafe import Markup

from portal.rendering import FragmentCache

_rows = FragmentCache(2048)


def customer_rows(customers: list) -> Markup:
    """The table rows of `customers` (plain rows of id, name, email, company_name, created)."""
    macro = current_app.jinja_env.get_template("customers/_row.html").module.customer_row
    # One url_for per page, not per row: the rows' links are this path with the id in place of the trailing 0.
    customer_path = url_for("customers.show", customer_id=0)[:-1]
    return Markup("\n").join(
        _rows.get((macro, customer_path, tuple(customer)), lambda customer=customer: macro(customer, customer_path))
        for customer in customers)
