"""Sign-up: the generic sign-up link and the association link (`Associate?id=&auth=`)."""

from flask import Flask

from portal.signup.routes import blueprint


def init_app(app: Flask) -> None:
    app.register_blueprint(blueprint)
