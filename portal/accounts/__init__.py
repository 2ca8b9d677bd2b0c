"""Portal accounts: an end customer's login to one vendor's portal, and its password and e-mail."""

from flask import Flask

from portal.accounts import sessions
from portal.accounts.routes import blueprint


def init_app(app: Flask) -> None:
    sessions.init_app(app)
    app.register_blueprint(blueprint)
