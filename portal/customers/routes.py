"""The vendor's customer pages: the list and search, the picker, create, show, edit, delete, association."""

from flask import Flask, abort, current_app, flash, g, redirect, render_template, request, url_for
from flask_login import current_user

from portal.accounts.services import customer_awaiting_login
from portal.activity.services import history_of
from portal.customer_search import services as customer_search
from portal.customers import services
from portal.customers.forms import CustomerForm, NewCustomerForm
from portal.db import get_session
from portal.domain import DomainError
from portal.extensions import limiter
from portal.forms import ConfirmForm, form_status
from portal.licenses.services import licenses_of
from portal.models import Vendor
from portal.rendering import is_htmx, render
from portal.tenancy import vendor_blueprint
from portal.terms.services import acceptances_for_customer
from portal.urls import absolute_url
from portal.web import client_ip, id_arg
from portal.words import customer_name

blueprint = vendor_blueprint("customers", __name__, "/vendor/customers")


def _association_link(customer) -> str | None:
    code = services.association_code(customer, current_app.extensions["encryptor"])
    if code is None:
        return None
    vendor = get_session().get(Vendor, g.vendor_id)
    return absolute_url("signup.associate", vendor_slug=vendor.slug, id=customer.id, auth=code)


@blueprint.route("/")
def index():
    query = request.args.get("q", "")[:200]
    before = id_arg("before")
    page = customer_search.search_customers(get_session(), vendor_id=g.vendor_id, query=query, before=before,
                                            limit=current_app.config["PAGE_SIZE"])
    return render("customers/index.html", "customers/_results.html", page=page, query=query, before=before)


@blueprint.route("/picker")
def picker():
    """The choices of the customer picker (on key forms) as you type: an htmx fragment of radio buttons."""
    query = request.args.get("customer_search", "").strip()[:200]
    choices = customer_search.picker_choices(get_session(), vendor_id=g.vendor_id, query=query,
                                             selected=id_arg("customer_id"))
    return render("keys/_customer_choices.html", choices=choices, query=query)


@blueprint.route("/new", methods=["GET", "POST"])
def new():
    form = NewCustomerForm()
    if form.validate_on_submit():
        session = get_session()
        customer = services.create_customer(
            session, vendor_id=g.vendor_id, actor=current_user.actor, ip=client_ip(),
            encryptor=current_app.extensions["encryptor"],
            enable_customer_association=form.enable_customer_association.data, **form.values())
        session.commit()
        flash("Customer created.", "success")
        _note_a_shared_email(session, customer)
        return redirect(url_for("customers.show", customer_id=customer.id), code=303)
    return render_template("customers/new.html", form=form), form_status(form)


def _note_a_shared_email(session, customer) -> None:
    """Two customers of one e-mail address are allowed (as in Cryptolens); the vendor is told when saving makes them
    two, and which one a sign-up with the address joins: the one that alone awaits a login, else neither."""
    other = services.another_with_email(session, customer=customer)
    if other is None:
        return
    joins = customer_awaiting_login(session, vendor_id=customer.vendor_id, email=customer.email)
    if joins is None:
        outcome = ("Someone who signs up with it gets a customer record of their own, joined to neither: give each "
                   "customer an address of its own, or send this one its association link.")
    else:
        outcome = "Someone who signs up with it joins " + (
            f"this customer (#{joins.id})." if joins.id == customer.id else f"{customer_name(joins)} (#{joins.id}).")
    flash(f"{customer_name(other)} (#{other.id}) has this e-mail address too. {outcome}", "warning")


@blueprint.route("/<int:customer_id>")
def show(customer_id: int):
    return _customer_page(services.get_customer(get_session(), vendor_id=g.vendor_id, customer_id=customer_id))


def _customer_page(customer, *, status: int = 200, mail_error: str | None = None):
    session = get_session()
    return render_template(
        "customers/show.html", customer=customer, link=_association_link(customer), mail_error=mail_error,
        accounts=services.portal_accounts_of(session, customer=customer),
        acceptances=acceptances_for_customer(session, customer_id=customer.id),
        licenses=licenses_of(session, customer_id=customer.id),
        history=history_of(session, vendor_id=g.vendor_id, subject_type="customer", subject_id=customer.id),
        billing=services.billing_of(session, vendor_id=g.vendor_id, customer_id=customer.id),
        same_email=services.another_with_email(session, customer=customer), confirm=ConfirmForm()), status


@blueprint.route("/<int:customer_id>/edit", methods=["GET", "POST"])
def edit(customer_id: int):
    customer = services.get_customer(get_session(), vendor_id=g.vendor_id, customer_id=customer_id)
    form = CustomerForm(obj=customer)
    if form.validate_on_submit():
        session = get_session()
        services.update_customer(session, customer=customer, actor=current_user.actor, ip=client_ip(),
                                 **form.values())
        session.commit()
        flash("Customer saved.", "success")
        _note_a_shared_email(session, customer)
        return redirect(url_for("customers.show", customer_id=customer.id), code=303)
    return render_template("customers/edit.html", form=form, customer=customer), form_status(form)


@blueprint.route("/<int:customer_id>/delete", methods=["GET", "POST"])
def delete(customer_id: int):
    session = get_session()
    customer = services.get_customer(get_session(), vendor_id=g.vendor_id, customer_id=customer_id)
    form = ConfirmForm()
    refusal = None
    if form.validate_on_submit():
        try:
            services.delete_customer(session, customer=customer, actor=current_user.actor, ip=client_ip())
        except DomainError as error:
            session.rollback()
            refusal = error.message
        else:
            session.commit()
            flash(f"{customer_name(customer)} deleted.", "success")
            return redirect(url_for("customers.index"), code=303)
    accounts = services.portal_accounts_of(session, customer=customer)
    live = services.live_subscriptions(session, customer=customer)
    stripe_customer_id = services.billing_of(session, vendor_id=g.vendor_id, customer_id=customer.id)[
        "stripe_customer_id"]
    return render_template("customers/delete.html", customer=customer, accounts=accounts, form=form, live=live,
                           keys=services.count_keys(session, customer=customer), refusal=refusal,
                           stripe_customer_id=stripe_customer_id), 422 if refusal else 200


@blueprint.route("/<int:customer_id>/association", methods=["POST"])
def association(customer_id: int):
    action = request.form.get("action")
    if action not in ("enable", "regenerate", "disable"):
        abort(400)
    session = get_session()
    customer = services.get_customer(get_session(), vendor_id=g.vendor_id, customer_id=customer_id)
    services.set_association(session, customer=customer, action=action, actor=current_user.actor,
                             encryptor=current_app.extensions["encryptor"], ip=client_ip())
    session.commit()
    message = {"enable": "Association link made.",
               "regenerate": "New association link made; the old one no longer works.",
               "disable": "Association turned off; the link no longer works."}[action]
    if is_htmx():
        return render("customers/_association.html", customer=customer, link=_association_link(customer),
                      accounts=services.portal_accounts_of(session, customer=customer), message=message)
    flash(message, "success")
    return redirect(url_for("customers.show", customer_id=customer.id), code=303)


@blueprint.route("/<int:customer_id>/association/mail", methods=["POST"])
@limiter.limit("30 per hour", methods=["POST"])
def mail_association(customer_id: int):
    """"E-mail this link": the association link mailed to the customer in the vendor's name."""
    session = get_session()
    customer = services.get_customer(session, vendor_id=g.vendor_id, customer_id=customer_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        sent_to = services.mail_association_link(session, customer=customer, link=_association_link(customer),
                                                 actor=current_user.actor, ip=client_ip())
    except DomainError as refusal:
        session.rollback()
        return _customer_page(customer, status=429 if isinstance(refusal, services.TooSoon) else 422,
                              mail_error=refusal.message)
    session.commit()
    flash(f"The link is on its way to {sent_to}.", "success")
    return redirect(url_for("customers.show", customer_id=customer.id, _anchor="association"), code=303)


@blueprint.route("/<int:customer_id>/accounts/<int:account_id>/detach", methods=["POST"])
def detach_account(customer_id: int, account_id: int):
    session = get_session()
    customer = services.get_customer(get_session(), vendor_id=g.vendor_id, customer_id=customer_id)
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    services.detach_account(session, customer=customer, account_id=account_id, actor=current_user.actor,
                            ip=client_ip())
    session.commit()
    flash("The portal login was detached and logged out.", "success")
    return redirect(url_for("customers.show", customer_id=customer.id), code=303)


def init_app(app: Flask) -> None:
    app.register_blueprint(blueprint)
