"""The terms-of-use gate before every portal page, and the pages to accept or decline the terms."""

from flask import Flask, flash, g, redirect, render_template, request, url_for

from portal.accounts import sessions
from portal.db import get_session
from portal.forms import ConfirmForm
from portal.rendering import redirect_to
from portal.tenancy import is_public_endpoint, portal_blueprint
from portal.terms import services, settings_routes
from portal.urls import is_safe_next
from portal.web import client_ip, user_agent

blueprint = portal_blueprint("terms", __name__)
# Pages a customer who has not accepted yet may still use: a subscriber asked to accept new terms can still see
# and manage (cancel) what they pay for.
_OPEN_BEFORE_ACCEPTANCE = {"terms.accept", "terms.decline", "accounts.logout", "subscriptions.index",
                           "subscriptions.refresh", "subscriptions.manage_billing"}


def require_acceptance():
    """Before every portal request of a logged-in account: the current terms must have been accepted."""
    if not g.get("is_portal") or g.get("account") is None or is_public_endpoint():
        return None
    if request.endpoint in _OPEN_BEFORE_ACCEPTANCE:
        return None
    if not services.still_to_accept(get_session(), account_id=g.account.id, state=g.terms):
        return None
    target = request.full_path.rstrip("?") if request.method == "GET" and not request.headers.get(
        "HX-Request") else None
    return redirect_to(url_for("terms.accept", next=target))


@blueprint.route("/Terms", methods=["GET", "POST"])
def accept():
    session = get_session()
    url = services.current_terms_url(session, vendor_id=g.vendor.id)
    target = request.args.get("next")
    destination = target if is_safe_next(target) else url_for("dashboard.index")
    if url is None or services.has_accepted(session, account_id=g.account.id, url=url):
        return redirect(destination, code=303)
    form = ConfirmForm()
    if form.validate_on_submit():
        services.accept_terms(session, account=g.account, url=url, ip=client_ip(), user_agent=user_agent())
        session.commit()
        flash("Thank you for accepting the terms of use.", "success")
        return redirect(destination, code=303)
    return render_template("terms/accept.html", form=form, url=url, vendor=g.vendor,
                           changed=services.has_accepted(session, account_id=g.account.id),
                           subscriber=services.has_subscriptions(session, customer_id=g.customer.id))


@blueprint.route("/Terms/Decline", methods=["POST"])
def decline():
    form = ConfirmForm()
    if form.validate_on_submit():
        sessions.end_login()
        flash("You declined the terms of use, so you have been logged out.", "info")
    return redirect(url_for("accounts.login"), code=303)


def init_app(app: Flask) -> None:
    app.before_request(require_acceptance)
    app.register_blueprint(blueprint)
    settings_routes.init_app(app)
