"""Products: what a vendor licenses, with named features F1–F8; the product page lists and searches its keys."""

from flask import Flask

from portal.products.routes import blueprint


def init_app(app: Flask) -> None:
    app.register_blueprint(blueprint)
