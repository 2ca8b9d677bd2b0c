"""The portal's ways in: the generic sign-up page and the association link."""

from flask import Flask, current_app, flash, g, redirect, render_template, request, url_for

from portal.accounts import services as accounts
from portal.accounts import sessions
from portal.customers.services import LinkNotValid, OneLoginOnly, check_association_link, has_login
from portal.db import get_session
from portal.domain import DomainError, show_on_form
from portal.extensions import limiter
from portal.forms import form_status
from portal.signup import pending, services
from portal.signup.forms import AssociateExistingForm, AssociateNewForm, ConfirmLoginForm, SignUpForm
from portal.tenancy import portal_blueprint, public
from portal.throttle import may_mail, throttled
from portal.urls import absolute_url
from portal.web import client_ip

blueprint = portal_blueprint("signup", __name__)


def _pages() -> pending.Pages:
    return pending.Pages(confirm_page=absolute_url("signup.confirm"), login_page=absolute_url("accounts.login"),
                         forgot_page=absolute_url("accounts.forgot_password"))


def _link_guess_failed(response) -> bool:
    return response.status_code == 404


@blueprint.after_request
def _no_referrer(response):
    # The association link carries its secret in the query string: never leak it to another site.
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@blueprint.route("/SignUp", methods=["GET", "POST"])
@public
@limiter.limit("10 per minute; 100 per hour", methods=["POST"])
def sign_up():
    if not g.vendor.signup_enabled:  # an old sign-up link says so, and who to ask (not found: there is no sign-up)
        return render_template("signup/closed.html", vendor=g.vendor), 404
    form = SignUpForm()
    if form.validate_on_submit():
        session = get_session()
        if may_mail("signup", g.vendor.id, form.email.data):
            pending.request_login(session, vendor_id=g.vendor.id, name=form.name.data, email=form.email.data,
                                  company_name=form.company_name.data or "", password=form.password.data,
                                  pages=_pages())
            session.commit()
        # Every sign-up is mailed: a link, or a note to the owner of a login with this e-mail.
        return render_template("accounts/check_mail.html", vendor=g.vendor, email=form.email.data,
                               always_mailed=True)
    status = form_status(form)
    return render_template("signup/sign_up.html", form=form, vendor=g.vendor), status


def _link_not_valid(refusal: LinkNotValid):
    """A used, replaced or mistyped link is a 404 (the rate limit counts it as a guess); a valid one to a customer
    that has the one login it may have says so, as a 409."""
    if isinstance(refusal, OneLoginOnly):
        return render_template("signup/link_not_valid.html", vendor=g.vendor, one_login_only=True), 409
    return render_template("signup/link_not_valid.html", vendor=g.vendor), 404


@blueprint.route("/Associate", methods=["GET", "POST"])
@public
@limiter.limit("20 per minute; 200 per day", deduct_when=_link_guess_failed)
@limiter.limit("20 per minute", methods=["POST"])
def associate():
    session = get_session()
    encryptor = current_app.extensions["encryptor"]
    try:
        customer = check_association_link(session, vendor_id=g.vendor.id, customer_id=request.args.get("id", ""),
                                          auth=request.args.get("auth", ""), encryptor=encryptor)
    except LinkNotValid as refusal:
        return _link_not_valid(refusal)
    new_form, existing_form = AssociateNewForm(prefix="new"), AssociateExistingForm(prefix="existing")
    if request.method == "GET" and not has_login(session, customer):
        # The invited customer's own details, as the vendor has them, to keep or change; a second login of a
        # customer that may have several is someone else's, whose details are their own to give.
        new_form.name.data, new_form.email.data = customer.name, customer.email
    which = request.form.get("which")
    form = new_form if which == "new" else existing_form
    if request.method == "POST" and which == "new" and form.validate_on_submit():
        # The same answer for any e-mail: the mailed link makes the login and joins it (pending.py).
        if may_mail("signup", g.vendor.id, form.email.data):
            pending.request_login(session, vendor_id=g.vendor.id, name=form.name.data, email=form.email.data,
                                  password=form.password.data, customer=customer, pages=_pages())
            session.commit()
        # Every sign-up is mailed: a link, or a note to the owner of a login with this e-mail.
        return render_template("accounts/check_mail.html", vendor=g.vendor, email=form.email.data,
                               always_mailed=True)
    if request.method == "POST" and form.validate_on_submit():
        account = throttled(f"portal:{g.vendor.id}", form.email.data, lambda: accounts.authenticate(
            session, vendor_id=g.vendor.id, email=form.email.data, password=form.password.data))
        try:
            if account is None:
                raise DomainError("That e-mail and password do not match an account.")
            services.associate_existing_account(session, customer=customer, account=account, ip=client_ip())
        except LinkNotValid as refusal:
            session.rollback()
            return _link_not_valid(refusal)
        except DomainError as error:
            session.rollback()
            show_on_form(form, error)
        else:
            accounts.record_login(session, account=account)
            session.commit()
            sessions.log_in(account)
            flash(f"Your login is now linked to {customer.name or customer.company_name or 'your account'}.",
                  "success")
            return redirect(url_for("dashboard.index"), code=303)
    status = 422 if request.method == "POST" else 200
    return render_template("signup/associate.html", vendor=g.vendor, customer=customer, new_form=new_form,
                           existing_form=existing_form, which=which), status


def _wrong_password(response) -> bool:
    return response.status_code == 422 and g.get("wrong_password", False)


@blueprint.route("/Confirm", methods=["GET", "POST"])
@public
@limiter.limit("30 per minute", deduct_when=_link_guess_failed)
@limiter.limit("10 per 15 minutes", methods=["POST"], deduct_when=_wrong_password)  # each try costs a hash
def confirm():
    """The mailed link of a sign-up or of an association's new login: confirming makes the login and logs in."""
    token = request.args.get("token", "")
    session = get_session()
    form = ConfirmLoginForm()
    try:
        if form.validate_on_submit():
            account = pending.confirm(session, vendor_id=g.vendor.id, token=token, password=form.password.data,
                                      ip=client_ip())
            accounts.record_login(session, account=account)
            session.commit()
            sessions.log_in(account)
            flash("Your e-mail is confirmed. Welcome!", "success")
            return redirect(url_for("dashboard.index"), code=303)
        found = pending.peek(session, vendor_id=g.vendor.id, token=token)
    except accounts.TokenNotValid:  # used, expired or mistyped: a 404 (counted as a guess), saying what to do
        session.rollback()
        return render_template("signup/confirm_link_not_valid.html", vendor=g.vendor), 404
    except LinkNotValid as refusal:
        session.rollback()
        return _link_not_valid(refusal)
    except DomainError as refusal:
        session.rollback()
        if refusal.field != "password":  # the e-mail got a login meanwhile
            flash(refusal.message, "info")
            return redirect(url_for("accounts.login"), code=303)
        g.wrong_password = True  # counted: each costs a password hash
        show_on_form(form, refusal)  # another password: the link stays unused
        found = pending.peek(session, vendor_id=g.vendor.id, token=token)
    return render_template("signup/confirm.html", form=form, vendor=g.vendor, email=found.email), form_status(form)


def init_app(app: Flask) -> None:
    app.register_blueprint(blueprint)
