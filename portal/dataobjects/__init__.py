"""Data objects: the vendor's named values, among them `cryptolens_customtosurl` (the terms of use)."""

from flask import Flask

from portal.dataobjects.routes import blueprint


def init_app(app: Flask) -> None:
    app.register_blueprint(blueprint)
