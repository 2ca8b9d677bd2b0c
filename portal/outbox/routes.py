"""The development outbox: mail the console backend wrote, readable in the browser under `make run`."""

from ipaddress import ip_address

from flask import Blueprint, Flask, abort, render_template, request

from portal.mail import outbox_messages

blueprint = Blueprint("outbox", __name__, url_prefix="/dev/outbox")


@blueprint.before_request
def _only_from_this_machine():
    # Mail holds sign-in links: a development server reachable from a network must not hand them out.
    try:
        local = ip_address(request.remote_addr or "").is_loopback
    except ValueError:
        local = False
    if not local:
        abort(404)


@blueprint.route("/")
def index():
    return render_template("outbox/index.html", messages=outbox_messages())


def init_app(app: Flask) -> None:
    app.register_blueprint(blueprint)
