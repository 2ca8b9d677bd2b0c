"""The development outbox: mail the console backend wrote, readable in the browser under `make run`."""

from flask import Blueprint, Flask, render_template

from portal.mail import outbox_messages

blueprint = Blueprint("outbox", __name__, url_prefix="/dev/outbox")


@blueprint.route("/")
def index():
    return render_template("outbox/index.html", messages=outbox_messages())


def init_app(app: Flask) -> None:
    app.register_blueprint(blueprint)
