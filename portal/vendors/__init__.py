"""Vendors: registration, the vendor user's login, the dashboard home and the portal settings."""

from flask import Flask

from portal.vendors import sessions
from portal.vendors.routes import blueprint


def init_app(app: Flask) -> None:
    sessions.init_app(app)
    app.register_blueprint(blueprint)
