"""The customer's license actions in the portal: reveal a key, free a machine."""

from flask import Flask, abort, g

from portal.db import get_session
from portal.domain import DomainError
from portal.licenses import services
from portal.models import utcnow
from portal.rendering import render
from portal.tenancy import portal_blueprint
from portal.web import client_ip

blueprint = portal_blueprint("licenses", __name__)


@blueprint.route("/Licenses/<int:key_id>/Key")
def reveal(key_id: int):
    """The full key, for the reveal button (an htmx fragment)."""
    found = services.license_of(get_session(), customer_id=g.customer.id, key_id=key_id)
    return render("licenses/_key_revealed.html", license=found)


@blueprint.route("/Licenses/<int:key_id>/Machines/<int:machine_id>/Deactivate", methods=["POST"])
def deactivate(key_id: int, machine_id: int):
    session = get_session()
    try:
        found, machine = services.deactivate_own_machine(
            session, customer=g.customer, key_id=key_id, machine_id=machine_id,
            actor=f"account:{g.account.id} {g.account.email}", ip=client_ip())
    except DomainError:
        abort(403)
    session.commit()
    return render("licenses/_license.html", license=found, customer=g.customer, now=utcnow(),
                  message=f"{machine.friendly_name or machine.mid} deactivated.")


def init_app(app: Flask) -> None:
    app.register_blueprint(blueprint)
