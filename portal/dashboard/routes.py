"""The portal's home: the customer's licenses and devices, and the customer's own details."""

from flask import Flask, flash, g, redirect, render_template, url_for

from portal.accounts.forms import DetailsForm
from portal.customers.services import change_own_details
from portal.db import get_session
from portal.forms import commit_or_show, form_status
from portal.keys.services import devices_of_customer
from portal.licenses.services import licenses_of
from portal.models import utcnow
from portal.subscriptions.services import section
from portal.tenancy import portal_blueprint
from portal.web import client_ip

blueprint = portal_blueprint("dashboard", __name__)


@blueprint.route("/")
def index():
    session = get_session()
    devices = devices_of_customer(session, customer_id=g.customer.id) if g.customer.max_no_of_devices else None
    return render_template("dashboard/index.html", vendor=g.vendor, account=g.account, customer=g.customer,
                           licenses=licenses_of(session, customer_id=g.customer.id), devices=devices, now=utcnow(),
                           **section(session, vendor_id=g.vendor.id, customer_id=g.customer.id))


@blueprint.route("/Details", methods=["GET", "POST"])
def details():
    """The customer's own name and company, as the vendor's customer record holds them."""
    form = DetailsForm(obj=g.customer)
    if form.validate_on_submit():
        session = get_session()
        done, _customer = commit_or_show(session, form, lambda: change_own_details(
            session, account=g.account, name=form.name.data or "",
            company_name=form.company_name.data or "", ip=client_ip()))
        if done:
            flash("Your details are saved.", "success")
            return redirect(url_for("dashboard.index"), code=303)
    return render_template("dashboard/details.html", form=form, vendor=g.vendor, account=g.account), form_status(form)


def init_app(app: Flask) -> None:
    app.register_blueprint(blueprint)
