"""The portal's home: the customer's licenses and devices."""

from flask import Flask, g, render_template

from portal.db import get_session
from portal.keys.services import devices_of_customer
from portal.licenses.services import licenses_of
from portal.models import utcnow
from portal.subscriptions.services import section
from portal.tenancy import portal_blueprint

blueprint = portal_blueprint("dashboard", __name__)


@blueprint.route("/")
def index():
    session = get_session()
    devices = devices_of_customer(session, customer_id=g.customer.id) if g.customer.max_no_of_devices else None
    return render_template("dashboard/index.html", vendor=g.vendor, account=g.account, customer=g.customer,
                           licenses=licenses_of(session, customer_id=g.customer.id), devices=devices, now=utcnow(),
                           **section(session, vendor_id=g.vendor.id, customer_id=g.customer.id))


def init_app(app: Flask) -> None:
    app.register_blueprint(blueprint)
