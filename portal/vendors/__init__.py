"""Vendors: registration, the vendor user's login, the dashboard home and the portal settings."""

from flask import Flask, redirect, url_for

from portal.vendors import sessions
from portal.vendors.routes import blueprint


def _root():
    """The site's address leads to the vendor dashboard (customers arrive by their vendor's portal links)."""
    return redirect(url_for("vendors.home"))


def init_app(app: Flask) -> None:
    sessions.init_app(app)
    app.register_blueprint(blueprint)
    app.add_url_rule("/", "root", _root)
