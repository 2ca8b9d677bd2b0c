"""The portal's subscription pages: the list (also a section of the dashboard), Subscribe, Manage billing, and
the page Checkout returns to, which shows the new key as soon as it exists."""


from flask import Flask, current_app, flash, g, redirect, render_template, request, url_for
from limits import parse

from portal.db import get_session
from portal.domain import DomainError
from portal.forms import ConfirmForm
from portal.licenses.services import licenses_of
from portal.models import utcnow
from portal.rendering import redirect_to, render
from portal.rules import is_stripe_id
from portal.subscriptions import services
from portal.tenancy import portal_blueprint
from portal.terms.services import still_to_accept
from portal.throttle import spend
from portal.urls import absolute_url
from portal.web import requester

blueprint = portal_blueprint("subscriptions", __name__)
# How long the page Checkout returns to waits for the key before it says what to do.
WAIT_SECONDS = 60
# A customer's clicks that call Stripe do so with the vendor's key, whose requests Stripe limits: per login and per
# address, so that no customer can use up the vendor's share (its webhooks' write-backs, other customers' Checkouts).
STRIPE_CALLS_PER_LOGIN = (parse("10 per minute"), parse("60 per hour"))
STRIPE_CALLS_PER_ADDRESS = (parse("30 per minute"), parse("300 per hour"))
SLOW_DOWN = "You have asked a lot of Stripe in a short time; wait a minute and try again."


def _access():
    return current_app.extensions["stripe_access"]


def _actor() -> str:
    return f"account:{g.account.id} {g.account.email}"


def _stripe_call_allowed() -> bool:
    by_login = spend(STRIPE_CALLS_PER_LOGIN, "portal-stripe", "login", str(g.account.id))
    by_address = spend(STRIPE_CALLS_PER_ADDRESS, "portal-stripe", "address", str(g.vendor.id), requester())
    return by_address and by_login


def section_context(session) -> dict:
    return services.section(session, vendor_id=g.vendor.id, customer_id=g.customer.id) | {
        "terms_pending": _terms_pending(session)}


def _terms_pending(session) -> bool:
    """The customer is yet to accept the vendor's new terms (the terms gate leaves them this page): billing opens
    for cancelling and paying only."""
    return still_to_accept(session, account_id=g.account.id, state=g.terms)


@blueprint.route("/Subscriptions")
def index():
    if request.args.get("canceled"):
        flash("Checkout was cancelled: nothing was charged.", "success")
    # Back from Stripe's Billing Portal: what the customer changed there (a cancellation, another plan) is read from
    # Stripe at once (the section asks with a Refresh as it loads; a GET writes nothing), not only when its events
    # have arrived.
    return render_template("subscriptions/index.html", vendor=g.vendor,
                           refresh_now=bool(request.args.get("from_billing")), **section_context(get_session()))


@blueprint.route("/Subscriptions/Refresh", methods=["POST"])
def refresh():
    session = get_session()
    message = None
    if ConfirmForm().validate_on_submit():
        try:
            if not _stripe_call_allowed():
                raise DomainError(SLOW_DOWN)
            services.refresh(session, _access(), vendor_id=g.vendor.id, customer_id=g.customer.id, actor=_actor(),
                             portal_link=absolute_url("dashboard.index"))
            # Not a count: Stripe's of the current Stripe customer, not the lines shown (which keep ended ones).
            message = "Your subscriptions are up to date."
        except DomainError as error:
            session.rollback()
            message = error.message
    if not request.headers.get("HX-Request"):
        flash(message or "Nothing was refreshed.", "success")
        return redirect(url_for("subscriptions.index"), code=303)
    answer = render("subscriptions/_section.html", vendor=g.vendor, message=message, **section_context(session))
    if "from_billing=" in request.headers.get("HX-Current-URL", ""):  # a reload asks Stripe no more
        answer.headers["HX-Replace-Url"] = url_for("subscriptions.index")
    return answer


def _leave_for_stripe(make_url):
    """Send the customer to a Stripe page (Checkout, Billing Portal), or back with why not."""
    session = get_session()
    if not ConfirmForm().validate_on_submit():
        flash("The form expired; try again.", "error")
        return redirect_to(url_for("subscriptions.index"))
    try:
        if not _stripe_call_allowed():
            raise DomainError(SLOW_DOWN)
        return redirect_to(make_url(session))
    except DomainError as error:
        session.rollback()
        flash(error.message, "error")
        return redirect_to(url_for("subscriptions.index"))


@blueprint.route("/Subscriptions/ManageBilling", methods=["POST"])
def manage_billing():
    return _leave_for_stripe(lambda session: services.billing_portal_url(
        session, _access(), vendor_id=g.vendor.id, customer_id=g.customer.id,
        return_url=absolute_url("subscriptions.index", from_billing=1), terms_accepted=not _terms_pending(session)))


@blueprint.route("/Subscriptions/Subscribe", methods=["POST"])
def subscribe():
    price_id = request.form.get("price", type=int) or 0
    welcome = absolute_url("subscriptions.welcome") + "?session_id={CHECKOUT_SESSION_ID}"
    return _leave_for_stripe(lambda session: services.start_checkout(
        session, _access(), vendor_id=g.vendor.id, customer=g.customer, email=g.account.email, price_id=price_id,
        success_url=welcome, cancel_url=absolute_url("subscriptions.index", canceled=1)))


def _stripe_id(name: str, prefix: str) -> str:
    """A Stripe id from the address, or "" for anything that is none."""
    value = request.args.get(name, "")
    return value if is_stripe_id(value, prefix) else ""


def _checkout_id() -> str:
    return _stripe_id("session_id", "cs_")


def _subscription_id() -> str:
    return _stripe_id("subscription", "sub_")


@blueprint.route("/Subscriptions/Welcome")
def welcome():
    """Where Checkout returns: "Setting up your license…", then the key's card as soon as the key exists. Without a
    Checkout named, there is nothing to wait for: the subscriptions page."""
    if not _checkout_id():
        return redirect(url_for("subscriptions.index"), code=303)
    return render_template("subscriptions/welcome.html", vendor=g.vendor, checkout_id=_checkout_id(),
                           started=int(utcnow().timestamp()), first_ask=True)


@blueprint.route("/Subscriptions/Welcome/Status")
def welcome_status():
    """Asked every two seconds: Stripe once, for the subscription the Checkout made (then named in the next ask's
    address), and from then on only the customer's own records, for its key."""
    session = get_session()
    started = request.args.get("started", type=int) or int(utcnow().timestamp())
    waited = int(utcnow().timestamp()) - started
    subscription_id, record, error, unpaid = _subscription_id(), None, None, None
    try:
        if not subscription_id and _checkout_id():
            if not _stripe_call_allowed():
                raise DomainError(SLOW_DOWN)
            subscription_id = services.checkout_subscription_id(
                session, _access(), vendor_id=g.vendor.id, customer_id=g.customer.id,
                checkout_session_id=_checkout_id()) or ""
        if subscription_id:
            record = services.subscription_record(session, vendor_id=g.vendor.id, customer_id=g.customer.id,
                                                  stripe_subscription_id=subscription_id)
    except services.NoFinishedCheckout as refusal:
        unpaid = refusal.message
    except DomainError as problem:
        error = problem.message
    licenses = [found for found in licenses_of(session, customer_id=g.customer.id)
                if record is not None and found.key.id == record.key_id]
    return render("subscriptions/_welcome_status.html", vendor=g.vendor, customer=g.customer, licenses=licenses,
                  checkout_id=_checkout_id(), subscription_id=subscription_id, started=started,
                  late=waited >= WAIT_SECONDS, error=error, unpaid=unpaid, now=utcnow())


def init_app(app: Flask) -> None:
    app.register_blueprint(blueprint)
