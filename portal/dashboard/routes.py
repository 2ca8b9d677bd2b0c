from flask import Flask, g, render_template

from portal.tenancy import portal_blueprint

blueprint = portal_blueprint("dashboard", __name__)


@blueprint.route("/")
def index():
    return render_template("dashboard/index.html", vendor=g.vendor, account=g.account, customer=g.customer)


def init_app(app: Flask) -> None:
    app.register_blueprint(blueprint)
