"""The vendor's Stripe pages: the connection in Settings, and a product's plans (linked Stripe prices)."""

from flask import Flask, current_app, flash, g, redirect, render_template, request, url_for
from flask_login import current_user
from sqlmodel import select

from portal.billing import connection as stripe_connection
from portal.billing import plans, subscription_routes, sweep, webhooks  # noqa: F401 - sweep declares its job
from portal.billing.connection import WEBHOOK_EVENTS, StripeAccess
from portal.billing.forms import ConnectStripeForm, LinkPriceForm, NewPriceForm, PriceSettingsForm, StripePolicyForm
from portal.billing.skm import parse_skm
from portal.db import get_session
from portal.domain import get_owned
from portal.forms import ConfirmForm, commit_or_show, form_status
from portal.models import Product, Vendor
from portal.tenancy import vendor_blueprint
from portal.urls import absolute_url
from portal.web import client_ip

blueprint = vendor_blueprint("billing", __name__, "/vendor")


def _access() -> StripeAccess:
    return current_app.extensions["stripe_access"]


def _stripe_page(connect_form=None, policy_form=None, status: int = 200):
    session = get_session()
    connection = stripe_connection.connection_of(session, vendor_id=g.vendor_id)
    policy_form = policy_form or StripePolicyForm(obj=connection, formdata=None)
    slug = session.exec(select(Vendor.slug).where(Vendor.id == g.vendor_id)).one()
    return render_template(
        "billing/settings.html", connection=connection, connect_form=connect_form or ConnectStripeForm(formdata=None),
        policy_form=policy_form, events=WEBHOOK_EVENTS,
        webhook_url=absolute_url("webhooks.stripe_webhook", slug=slug)), status


@blueprint.route("/settings/stripe")
def stripe_settings():
    return _stripe_page()


@blueprint.route("/settings/stripe/connect", methods=["POST"])
def connect():
    form = ConnectStripeForm()
    if form.validate_on_submit():
        session = get_session()
        done, row = commit_or_show(session, form, lambda: stripe_connection.connect(
            session, _access(), vendor_id=g.vendor_id, secret_key=form.secret_key.data,
            webhook_secret=form.webhook_secret.data, actor=current_user.actor, ip=client_ip()))
        if done:
            flash(f"Stripe is connected to {stripe_connection.connected_to(row)}.", "success")
            return redirect(url_for("billing.stripe_settings"), code=303)
    return _stripe_page(connect_form=form, status=form_status(form) if form.errors or form.form_errors else 400)


@blueprint.route("/settings/stripe/test", methods=["POST"])
def test_connection():
    if ConfirmForm().validate_on_submit():
        session = get_session()
        result = stripe_connection.test_connection(session, _access(), vendor_id=g.vendor_id)
        session.commit()
        flash(result.message, "success" if result.ok else "error")
    return redirect(url_for("billing.stripe_settings"), code=303)


@blueprint.route("/settings/stripe/disconnect", methods=["POST"])
def disconnect():
    if ConfirmForm().validate_on_submit():
        session = get_session()
        stripe_connection.disconnect(session, vendor_id=g.vendor_id, actor=current_user.actor, ip=client_ip())
        session.commit()
        flash("Stripe is disconnected: both secrets are forgotten. Webhooks are refused until you connect again.",
              "success")
    return redirect(url_for("billing.stripe_settings"), code=303)


@blueprint.route("/settings/stripe/policy", methods=["POST"])
def policy():
    form = StripePolicyForm()
    if form.validate_on_submit():
        session = get_session()
        done, _ = commit_or_show(session, form, lambda: stripe_connection.set_policy(
            session, vendor_id=g.vendor_id, grace_days=form.grace_days.data, on_cancel=form.on_cancel.data,
            actor=current_user.actor, ip=client_ip()))
        if done:
            flash("Subscription settings saved.", "success")
            return redirect(url_for("billing.stripe_settings"), code=303)
    return _stripe_page(policy_form=form, status=form_status(form))


# A product's plans


def _product(product_id: int) -> Product:
    return get_owned(get_session(), Product, product_id, vendor_id=g.vendor_id)


def _back_to(product: Product):
    return redirect(url_for("products.show", product_id=product.id, _anchor="plans-heading"), code=303)


def _to_key_settings(product: Product, row, done: str):
    """A price just linked or created is not offered yet: its key settings come first (a linked price of Stripe's has
    none, and offering it as it is would give subscribers keys with no features and no machine limit)."""
    flash(f"Price {row.stripe_price_id} ({plans.price_label(row)}) {done}, not yet offered in the customer portal. "
          "Choose the key settings it gives, then offer it on the product's page.", "success")
    return redirect(url_for("billing.price_settings", product_id=product.id, price_id=row.id), code=303)


def _price_form_page(template: str, product: Product, form, **context):
    return render_template(template, product=product, form=form, **context), form_status(form)


@blueprint.route("/products/<int:product_id>/prices/link", methods=["GET", "POST"])
def link_price(product_id: int):
    product, form = _product(product_id), LinkPriceForm()
    if form.validate_on_submit():
        session = get_session()
        done, row = commit_or_show(session, form, lambda: plans.link_price(
            session, _access(), vendor_id=g.vendor_id, product_id=product.id,
            stripe_price_id=form.stripe_price_id.data, actor=current_user.actor, ip=client_ip()))
        if done:
            return _to_key_settings(product, row, f"is linked to {product.name}")
    choices, linked, problem = plans.linkable_prices(get_session(), _access(), vendor_id=g.vendor_id)
    return _price_form_page("billing/link_price.html", product, form, choices=choices, linked_already=linked,
                            choices_problem=problem)


@blueprint.route("/products/<int:product_id>/prices/new", methods=["GET", "POST"])
def new_price(product_id: int):
    product, form = _product(product_id), NewPriceForm()
    if form.validate_on_submit():
        session = get_session()
        done, row = commit_or_show(session, form, lambda: plans.create_price(
            session, _access(), vendor_id=g.vendor_id, product_id=product.id, amount=form.amount.data,
            currency=form.currency.data, interval=form.interval.data, actor=current_user.actor, ip=client_ip(),
            name=form.name.data or ""))
        if done:
            return _to_key_settings(product, row, "is created in Stripe")
    return _price_form_page("billing/new_price.html", product, form)


@blueprint.route("/products/<int:product_id>/prices/<int:price_id>/settings", methods=["GET", "POST"])
def price_settings(product_id: int, price_id: int):
    session = get_session()
    product = _product(product_id)
    row = plans.linked_price(session, vendor_id=g.vendor_id, product_id=product.id, price_id=price_id)
    kept, problem = parse_skm(row.skm)
    form = PriceSettingsForm()
    form.name_features(product)
    if form.validate_on_submit():
        done, _ = commit_or_show(session, form, lambda: plans.change_settings(
            session, _access(), vendor_id=g.vendor_id, product_id=product.id, price_id=row.id, skm=form.skm(kept),
            actor=current_user.actor, ip=client_ip(), name=form.name.data or ""))
        if done:
            flash(f"{plans.plan_name(row)} ({plans.price_label(row)}) saved in Stripe." + (
                "" if row.offered else " It is not offered yet: Offer it below to show it in the customer portal."),
                "success")
            return _back_to(product)
    elif not form.is_submitted():
        form.fill(kept)
        form.fill_name(row)
    return _price_form_page("billing/price_settings.html", product, form, price=row, problem=problem,
                            label=f"{plans.plan_name(row)} ({plans.price_label(row)})")


@blueprint.route("/products/<int:product_id>/prices/refresh", methods=["POST"])
def refresh_prices(product_id: int):
    product = _product(product_id)
    form = ConfirmForm()
    if form.validate_on_submit():
        session = get_session()
        done, count = commit_or_show(session, form, lambda: plans.refresh_prices(
            session, _access(), vendor_id=g.vendor_id, product_id=product.id))
        flash(f"Read {count} price{'s' if count != 1 else ''} again from Stripe." if done else
              " ".join(form.form_errors), "success" if done else "error")
    return _back_to(product)


@blueprint.route("/products/<int:product_id>/prices/<int:price_id>/offer", methods=["POST"])
def offer_price(product_id: int, price_id: int):
    product = _product(product_id)
    form = ConfirmForm()
    if form.validate_on_submit():
        session = get_session()
        offered = request.form.get("offered") == "1"
        done, row = commit_or_show(session, form, lambda: plans.set_offered(
            session, vendor_id=g.vendor_id, product_id=product.id, price_id=price_id, offered=offered,
            actor=current_user.actor, ip=client_ip()))
        if done:
            named = f"{plans.plan_name(row)} ({plans.price_label(row)})"
            flash(f"{named} is {'offered' if offered else 'no longer offered'} in the portal.", "success")
            twins = plans.namesakes(session, vendor_id=g.vendor_id, row=row) if offered else []
            if twins:
                alike = any(plans.price_label(twin) == plans.price_label(row) for twin in twins)
                flash(f"Another plan of {product.name} on offer is also named {plans.plan_name(row)}" + (
                      ", at the same price: customers cannot tell them apart." if alike else
                      ": customers tell them apart by their price alone.") +
                      (" Rename one of them" if row.nickname else " Give one a plan name") + " in its settings.",
                      "warning")
        else:
            flash(" ".join(form.form_errors), "error")
    return _back_to(product)


@blueprint.route("/products/<int:product_id>/prices/<int:price_id>/unlink", methods=["POST"])
def unlink_price(product_id: int, price_id: int):
    product = _product(product_id)
    if ConfirmForm().validate_on_submit():
        session = get_session()
        plans.unlink_price(session, vendor_id=g.vendor_id, product_id=product.id, price_id=price_id,
                           actor=current_user.actor, ip=client_ip())
        session.commit()
        flash("The price is unlinked here; Stripe keeps it, and its subscriptions keep their keys.", "success")
    return _back_to(product)


def init_app(app: Flask) -> None:
    app.extensions["stripe_access"] = StripeAccess(app.extensions["encryptor"], app.config["STRIPE_API_BASE"] or None)
    app.register_blueprint(blueprint)
    app.register_blueprint(subscription_routes.blueprint)
    webhooks.init_app(app)
