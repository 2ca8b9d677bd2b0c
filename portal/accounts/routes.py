"""The portal's account pages: log in and out, forgotten password, e-mail confirmation, password change, the
customer's own details."""

from flask import Flask, abort, flash, g, redirect, render_template, request, url_for

from portal.accounts import services, sessions
from portal.accounts.forms import ChangePasswordForm, ForgotPasswordForm, ResetPasswordForm
from portal.db import get_session
from portal.domain import DomainError
from portal.extensions import limiter
from portal.forms import ConfirmForm, LoginForm, commit_or_show, form_status, reset_from_link
from portal.tenancy import portal_blueprint, public
from portal.throttle import check_current_password_tries, mail_if_allowed, throttled, wrong_current_password
from portal.urls import absolute_url, is_safe_next
from portal.web import client_ip

blueprint = portal_blueprint("accounts", __name__)


@blueprint.route("/Login", methods=["GET", "POST"])
@public
@limiter.limit("20 per minute", methods=["POST"])
def login():
    form = LoginForm()
    target = request.args.get("next")
    if g.account and request.method == "GET" and is_safe_next(target):
        return redirect(target, code=303)  # logged in already: on to the page that asked for a login
    if form.validate_on_submit():
        session = get_session()
        account = throttled(f"portal:{g.vendor.id}", form.email.data, lambda: services.authenticate(
            session, vendor_id=g.vendor.id, email=form.email.data, password=form.password.data))
        if account is None:
            form.form_errors.append("That e-mail and password do not match an account.")
        elif account.email_verified_at is None:
            services.send_verification_mail(session, account=account, vendor=g.vendor,
                                            verify_page=absolute_url("accounts.verify_email"))
            session.commit()
            form.form_errors.append("Confirm your e-mail first: we have sent you a new link.")
        else:
            services.record_login(session, account=account)
            session.commit()
            sessions.log_in(account)
            return redirect(target if is_safe_next(target) else url_for("dashboard.index"), code=303)
    return render_template("accounts/login.html", form=form, vendor=g.vendor), form_status(form)


@blueprint.route("/Logout", methods=["POST"])
def logout():
    sessions.end_login()
    flash("You are logged out.", "success")
    return redirect(url_for("accounts.login"), code=303)


@blueprint.route("/ForgotPassword", methods=["GET", "POST"])
@public
@limiter.limit("10 per minute", methods=["POST"])
def forgot_password():
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        mail_if_allowed("reset", g.vendor.id, form.email.data, lambda session: services.request_password_reset(
            session, vendor_id=g.vendor.id, email=form.email.data, reset_page=absolute_url("accounts.reset_password")))
        return render_template("accounts/check_mail.html", vendor=g.vendor, email=form.email.data)
    return render_template("accounts/forgot_password.html", form=form, vendor=g.vendor), form_status(form)


@blueprint.route("/ResetPassword", methods=["GET", "POST"])
@public
@limiter.limit("30 per minute", deduct_when=lambda response: response.status_code == 404)
def reset_password():
    token, session, form = request.args.get("token", ""), get_session(), ResetPasswordForm()
    try:
        services.peek_token(session, vendor_id=g.vendor.id, purpose=services.RESET_PASSWORD, token=token)
        account = reset_from_link(session, form, used=services.TokenNotValid, reset=lambda password:
                                  services.reset_password(session, vendor_id=g.vendor.id, token=token,
                                                          password=password, ip=client_ip()))
    except services.TokenNotValid:
        return _reset_link_not_valid()
    if account is not None:
        sessions.log_in(account)
        flash("Your password is changed.", "success")
        return redirect(url_for("dashboard.index"), code=303)
    response = render_template("accounts/reset_password.html", form=form, vendor=g.vendor), form_status(form)
    return response


def _reset_link_not_valid():
    """A used, expired or mistyped reset link: the way to a new one, as a 404 (the rate limit counts those)."""
    return render_template("accounts/reset_link_not_valid.html", vendor=g.vendor), 404


@blueprint.route("/VerifyEmail", methods=["GET", "POST"])
@public
@limiter.limit("30 per minute", deduct_when=lambda response: response.status_code == 404)
def verify_email():
    token = request.args.get("token", "")
    session = get_session()
    form = ConfirmForm()
    try:
        if form.validate_on_submit():
            account = services.verify_email(session, vendor_id=g.vendor.id, token=token, ip=client_ip())
            session.commit()
            sessions.log_in(account)
            flash("Your e-mail is confirmed. Welcome!", "success")
            return redirect(url_for("dashboard.index"), code=303)
        account = services.peek_token(session, vendor_id=g.vendor.id, purpose=services.VERIFY_EMAIL, token=token)
    except DomainError:
        session.rollback()
        abort(404)
    return render_template("accounts/verify_email.html", form=form, vendor=g.vendor, email=account.email)


@blueprint.route("/ChangePassword", methods=["GET", "POST"])
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        check_current_password_tries(f"portal:{g.vendor.id}", g.account.id)
        session = get_session()
        done, account = commit_or_show(session, form, lambda: services.change_password(
            session, account_id=g.account.id, current=form.current_password.data, new=form.password.data,
            ip=client_ip()))
        if form.current_password.errors:
            wrong_current_password(f"portal:{g.vendor.id}", g.account.id)
        if done:
            sessions.log_in(account)
            flash("Your password is changed. Other devices have been logged out.", "success")
            return redirect(url_for("dashboard.index"), code=303)
    return render_template("accounts/change_password.html", form=form, vendor=g.vendor), form_status(form)


def init_app(app: Flask) -> None:
    sessions.init_app(app)
    app.register_blueprint(blueprint)
