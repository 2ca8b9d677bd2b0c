"""The vendor's subscription pages: every subscription (filter, search, pages), and "Needs attention" with its
one-click repairs, "Check now" and attaching a key by hand."""

from flask import current_app, flash, g, redirect, render_template, request, url_for
from flask_login import current_user
from sqlmodel import select

from portal.billing import reconcile, records
from portal.billing.connection import connected, connection_of
from portal.billing.gateway import StripeRefused, StripeUnavailable
from portal.billing.scope import hidden_note
from portal.billing_models import UNDELIVERED, UNSEEN, StripeDrift, Subscription, stripe_dashboard_url
from portal.db import get_session
from portal.domain import DomainError, get_owned
from portal.forms import ConfirmForm, form_status
from portal.models import ID_MAX, LicenseKey, Vendor, utcnow
from portal.rules import is_single_line
from portal.tenancy import vendor_blueprint
from portal.urls import absolute_url
from portal.web import id_arg
from portal.words import customer_name

blueprint = vendor_blueprint("subscriptions_admin", __name__, "/vendor/subscriptions")


def _access():
    return current_app.extensions["stripe_access"]


def _portal_link(session) -> str:
    slug = session.exec(select(Vendor.slug).where(Vendor.id == g.vendor_id)).one()
    return absolute_url("dashboard.index", vendor_slug=slug)


@blueprint.route("/")
def index():
    session = get_session()
    status, query = request.args.get("status", ""), request.args.get("q", "")[:255]
    unknown_status = status if status and status not in records.STATUSES else ""
    status = "" if unknown_status else status
    page = records.list_subscriptions(session, vendor_id=g.vendor_id, status=status, query=query,
                                      before=id_arg("before"), limit=current_app.config["PAGE_SIZE"])
    connection = connection_of(session, vendor_id=g.vendor_id)
    return render_template("billing/subscriptions.html", page=page, status=status, query=query,
                           unknown_status=unknown_status[:40],
                           statuses=records.STATUSES, hidden=hidden_note(session, connection, Subscription,
                                                                         "subscription"),
                           dashboard_url=stripe_dashboard_url, before=id_arg("before"),
                           attention=reconcile.attention_count(session, vendor_id=g.vendor_id))


@blueprint.route("/attention")
def attention():
    session = get_session()
    connection = connected(session, vendor_id=g.vendor_id)
    return render_template("billing/attention.html", findings=reconcile.needs_attention(session, vendor_id=g.vendor_id),
                           connection=connection)


def _repairing(action, done: str):
    """Run a repair for a POST with a valid CSRF token; say what happened; back to Needs attention."""
    session = get_session()
    connection = connected(session, vendor_id=g.vendor_id)
    if not ConfirmForm().validate_on_submit() or connection is None:
        flash("Connect Stripe first." if connection is None else "The form expired; try again.", "error")
        return redirect(url_for("subscriptions_admin.attention"), code=303)
    try:
        said = action(session, connection)
        flash(said if isinstance(said, str) else done, "success")
    except (DomainError, StripeRefused, StripeUnavailable) as error:
        session.rollback()
        flash(f"Not repaired: {getattr(error, 'message', error)}", "error")
    return redirect(url_for("subscriptions_admin.attention"), code=303)


@blueprint.route("/attention/check", methods=["POST"])
def check_now():
    return _repairing(lambda session, connection: reconcile.check_now(session, _access(), connection=connection),
                      "Checked Stripe: the list below is up to date.")


@blueprint.route("/<int:subscription_id>/repair", methods=["POST"])
def repair(subscription_id: int):
    row = get_owned(get_session(), Subscription, subscription_id, vendor_id=g.vendor_id)
    # Only "Unblock" unblocks: a key the vendor blocked by hand stays so through "Write the metadata" and the rest.
    fix_key, unblock = request.form.get("remake") == "1", request.form.get("unblock") == "1"
    return _repairing(lambda session, connection: reconcile.repair_subscription(
        session, _access(), connection=connection, stripe_subscription_id=row.stripe_subscription_id,
        actor=current_user.actor, portal_link=_portal_link(session), fix_key=fix_key, unblock=unblock),
        f"Repaired {row.stripe_subscription_id}.")


@blueprint.route("/drift/<int:drift_id>/repair", methods=["POST"])
def repair_drift(drift_id: int):
    session = get_session()
    drift = get_owned(session, StripeDrift, drift_id, vendor_id=g.vendor_id)
    if drift.kind in (UNSEEN, UNDELIVERED):  # nothing to repair in Stripe: dismissed, connected or not
        if ConfirmForm().validate_on_submit():
            reconcile.dismiss_unseen(session, vendor_id=g.vendor_id, stripe_id=drift.stripe_id, kind=drift.kind)
            session.commit()
            flash(f"Dismissed {drift.stripe_id}.", "success")
        else:
            flash("The form expired; try again.", "error")
        return redirect(url_for("subscriptions_admin.attention"), code=303)

    started = utcnow()

    def action(session, connection):
        if drift.kind == "customer_unlinked":
            customer = reconcile.repair_customer(session, _access(), connection=connection,
                                                 stripe_customer_id=drift.stripe_id, actor=current_user.actor)
            made = customer.origin == "stripe" and customer.created >= started
            return (f"Linked {drift.stripe_id} to {'a new customer' if made else 'the customer'} "
                    f"{customer_name(customer)} (#{customer.id}).")
        else:
            reconcile.repair_subscription(session, _access(), connection=connection,
                                          stripe_subscription_id=drift.stripe_id, actor=current_user.actor,
                                          portal_link=_portal_link(session))

    return _repairing(action, f"Repaired {drift.stripe_id}.")


@blueprint.route("/<int:subscription_id>/attach", methods=["GET", "POST"])
def attach(subscription_id: int):
    session = get_session()
    row = get_owned(session, Subscription, subscription_id, vendor_id=g.vendor_id)
    form = ConfirmForm()
    typed = request.form.get("key", "").strip()[:40]
    if form.validate_on_submit():
        key_id = _key_named(session, typed)
        if key_id is None:
            form.form_errors.append(f"No key of yours is {typed or 'blank'}: paste the key (XXXXX-XXXXX-XXXXX-XXXXX) "
                                    "or its GlobalId.")
        else:
            connection = connected(session, vendor_id=g.vendor_id)
            try:
                if connection is None:
                    raise DomainError("Connect Stripe first.")
                reconcile.attach_key(session, _access(), connection=connection, subscription_id=row.id,
                                     key_id=key_id, actor=current_user.actor)
                flash(f"{_key_words(session.get(LicenseKey, key_id))} is attached to {row.stripe_subscription_id}, "
                      "and Stripe is told.", "success")
                return redirect(url_for("subscriptions_admin.attention"), code=303)
            except (DomainError, StripeRefused, StripeUnavailable) as error:
                session.rollback()
                form.form_errors.append(getattr(error, "message", str(error)))
    current = session.get(LicenseKey, row.key_id) if row.key_id else None
    return render_template("billing/attach.html", subscription=row, form=form, typed=typed,
                           current=_key_words(current) if current else ""), form_status(form)


def _key_words(key: LicenseKey) -> str:
    """A key as the vendor tells it from the others: its ID, GlobalId and text ("Key ID 52 (GlobalId 64,
    GPLZL-…)")."""
    return f"Key ID {key.key_number} (GlobalId {key.id}, {key.key})"


def _key_named(session, typed: str) -> int | None:
    """A key of the vendor's by its text or its GlobalId."""
    if not is_single_line(typed):
        return None  # no key has a control character (and PostgreSQL refuses a NUL byte with an error)
    if typed.isdecimal() and len(typed) <= 10 and int(typed) <= ID_MAX:
        found = session.exec(select(LicenseKey.id).where(LicenseKey.vendor_id == g.vendor_id,
                                                         LicenseKey.id == int(typed))).first()
    else:
        found = session.exec(select(LicenseKey.id).where(LicenseKey.vendor_id == g.vendor_id,
                                                         LicenseKey.key == typed.upper())).first()
    return found

