"""The portal's ways in: the generic sign-up page and the association link."""

from flask import Flask, abort, current_app, flash, g, redirect, render_template, request, url_for

from portal.accounts import services as accounts
from portal.accounts import sessions
from portal.customers.services import LinkNotValid, check_association_link
from portal.db import get_session
from portal.domain import DomainError, show_on_form
from portal.extensions import limiter
from portal.forms import form_status
from portal.signup import services
from portal.signup.forms import AssociateExistingForm, AssociateNewForm, SignUpForm
from portal.tenancy import portal_blueprint, public
from portal.throttle import throttled
from portal.urls import absolute_url
from portal.web import client_ip

blueprint = portal_blueprint("signup", __name__)


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
    if not g.vendor.signup_enabled:
        abort(404)
    form = SignUpForm()
    if form.validate_on_submit():
        session = get_session()
        pages = services.SignUpPages(verify_page=absolute_url("accounts.verify_email"),
                                     login_page=absolute_url("accounts.login"),
                                     forgot_page=absolute_url("accounts.forgot_password"))
        services.request_sign_up(session, vendor_id=g.vendor.id, name=form.name.data, email=form.email.data,
                                 company_name=form.company_name.data or "", password=form.password.data,
                                 pages=pages, ip=client_ip())
        session.commit()
        return render_template("accounts/check_mail.html", vendor=g.vendor, email=form.email.data)
    status = form_status(form)
    return render_template("signup/sign_up.html", form=form, vendor=g.vendor), status


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
    except LinkNotValid:
        return render_template("signup/link_not_valid.html", vendor=g.vendor), 404
    new_form, existing_form = AssociateNewForm(prefix="new"), AssociateExistingForm(prefix="existing")
    which = request.form.get("which")
    form = new_form if which == "new" else existing_form
    if request.method == "POST" and form.validate_on_submit():
        try:
            if which == "new":
                account = services.associate_new_account(
                    session, vendor=g.vendor, customer=customer, email=form.email.data, name=form.name.data,
                    password=form.password.data, ip=client_ip())
            else:
                account = throttled(f"portal:{g.vendor.id}", form.email.data, lambda: accounts.authenticate(
                    session, vendor_id=g.vendor.id, email=form.email.data, password=form.password.data))
                if account is None:
                    raise DomainError("That e-mail and password do not match an account.")
                services.associate_existing_account(session, customer=customer, account=account, ip=client_ip())
        except LinkNotValid:
            session.rollback()
            return render_template("signup/link_not_valid.html", vendor=g.vendor), 404
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


def init_app(app: Flask) -> None:
    app.register_blueprint(blueprint)
