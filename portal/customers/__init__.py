"""Customers, vendor side: the list and search, create, edit, delete, and the association link."""

from flask import Flask

from portal.customers.routes import blueprint


def init_app(app: Flask) -> None:
    app.register_blueprint(blueprint)
