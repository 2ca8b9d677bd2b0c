"""Customers, vendor side: the list and search, create, edit, delete, and the association link."""

from flask import Flask

from portal.customers.routes import blueprint
from portal.customers.rows import customer_rows


def init_app(app: Flask) -> None:
    app.jinja_env.globals["customer_rows"] = customer_rows
    app.register_blueprint(blueprint)
