"""The vendor dashboard's own pages: registration, login, logout, the home page, password and settings."""

from flask import Flask, abort, current_app, flash, g, redirect, render_template, request, url_for
from flask_login import current_user, logout_user

from portal.billing.connection import connected, connected_to
from portal.billing.reconcile import attention_count
from portal.db import get_session
from portal.extensions import limiter
from portal.forms import (
    ChangePasswordForm,
    ForgotPasswordForm,
    LoginForm,
    ResetPasswordForm,
    commit_or_show,
    form_status,
    reset_from_link,
)
from portal.tenancy import public, vendor_blueprint
from portal.terms.forms import TermsForm
from portal.terms.services import terms_settings
from portal.throttle import check_current_password_tries, mail_if_allowed, throttled, wrong_current_password
from portal.urls import absolute_url, is_safe_next
from portal.vendors import password_reset, registration, services, sessions
from portal.vendors.forms import (
    CompanyNameForm,
    FinishRegistrationForm,
    RegisterForm,
    ReminderSettingsForm,
    SettingsForm,
)
from portal.vendors.home import overview
from portal.web import client_ip

blueprint = vendor_blueprint("vendors", __name__, "/vendor")


@blueprint.route("/register", methods=["GET", "POST"])
@public
@limiter.limit("10 per hour", methods=["POST"], deduct_when=lambda response: response.status_code == 200)
def register():
    """A registration's first step: the answer is "check your mail" for any e-mail, known here or not."""
    if not current_app.config["VENDOR_REGISTRATION"]:
        abort(404)
    form = RegisterForm()
    if form.validate_on_submit():
        session = get_session()
        done, asked = commit_or_show(session, form, lambda: registration.checked(
            session, name=form.name.data, slug=form.slug.data, email=form.email.data))
        if done:
            pages = registration.Pages(absolute_url("vendors.finish_registration"), absolute_url("vendors.login"),
                                       absolute_url("vendors.forgot_password"))
            mail_if_allowed("vendor-register", 0, asked.email, lambda session: registration.request_registration(
                session, asked=asked, pages=pages))
            return render_template("vendors/registration_check_mail.html", email=asked.email)
    return render_template("vendors/register.html", form=form), form_status(form)


@blueprint.route("/register/finish", methods=["GET", "POST"])
@public
@limiter.limit("30 per minute", deduct_when=lambda response: response.status_code == 404)
def finish_registration():
    """The mailed link: the company and its address again (taken meanwhile, say), the password, and the vendor is
    made."""
    if not current_app.config["VENDOR_REGISTRATION"]:
        abort(404)
    token, session = request.args.get("token", ""), get_session()
    try:
        asked = registration.asked_of_link(session, token=token)
    except registration.RegistrationLinkNotValid:  # used, expired or mistyped (the rate limit counts these 404s)
        return render_template("vendors/registration_link_not_valid.html"), 404
    form = FinishRegistrationForm(data={"name": asked.name, "slug": asked.slug} if request.method == "GET" else None)
    if form.validate_on_submit():
        done, user = commit_or_show(session, form, lambda: registration.finish(
            session, token=token, name=form.name.data, slug=form.slug.data, password=form.password.data))
        if done:
            sessions.log_in(user)
            flash("Welcome! Your portal is ready.", "success")
            return redirect(url_for("vendors.home"), code=303)
    return render_template("vendors/register_finish.html", form=form, email=asked.email), form_status(form)


@blueprint.route("/login", methods=["GET", "POST"])
@public
@limiter.limit("20 per minute", methods=["POST"])
def login():
    form = LoginForm()
    target = request.args.get("next")
    if current_user.is_authenticated and request.method == "GET" and is_safe_next(target):
        return redirect(target, code=303)  # logged in already: on to the page that asked for a login
    if form.validate_on_submit():
        session = get_session()
        user = throttled("vendor", form.email.data, lambda: services.authenticate_vendor_user(
            session, email=form.email.data, password=form.password.data))
        if user is not None:
            session.commit()  # a password hash made with older parameters has been upgraded
            sessions.log_in(user)
            return redirect(target if is_safe_next(target) else url_for("vendors.home"), code=303)
        form.form_errors.append("That e-mail and password do not match an account.")
    return render_template("vendors/login.html", form=form,
                           registration=current_app.config["VENDOR_REGISTRATION"]), form_status(form)


@blueprint.route("/forgot-password", methods=["GET", "POST"])
@public
@limiter.limit("10 per minute", methods=["POST"])
def forgot_password():
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        mail_if_allowed("vendor-reset", 0, form.email.data, lambda session: password_reset.request_reset(
            session, email=form.email.data, reset_page=absolute_url("vendors.reset_password"),
            login_page=absolute_url("vendors.login")))
        return render_template("vendors/check_mail.html", email=form.email.data)
    return render_template("vendors/forgot_password.html", form=form), form_status(form)


@blueprint.route("/reset-password", methods=["GET", "POST"])
@public
@limiter.limit("30 per minute", deduct_when=lambda response: response.status_code == 404)
def reset_password():
    token, session, form = request.args.get("token", ""), get_session(), ResetPasswordForm()
    try:
        password_reset.user_of_link(session, token=token)
        user = reset_from_link(session, form, used=password_reset.ResetLinkNotValid, reset=lambda password:
                               password_reset.reset_password(session, token=token, password=password, ip=client_ip()))
    except password_reset.ResetLinkNotValid:  # used, expired or mistyped (the rate limit counts these 404s)
        return render_template("vendors/reset_link_not_valid.html"), 404
    if user is not None:
        sessions.log_in(user)
        flash("Your password is changed. Your other sessions have been logged out.", "success")
        return redirect(url_for("vendors.home"), code=303)
    return render_template("vendors/reset_password.html", form=form), form_status(form)


@blueprint.route("/logout", methods=["POST"])
def logout():
    session = get_session()
    services.end_sessions_of_vendor_user(session, user_id=current_user.id)
    session.commit()
    logout_user()
    flash("You are logged out.", "success")
    return redirect(url_for("vendors.login"), code=303)


@blueprint.route("/")
def home():
    session = get_session()
    vendor = services.get_vendor(session, vendor_id=g.vendor_id)
    return render_template("vendors/home.html", vendor=vendor, summary=overview(session, vendor_id=g.vendor_id),
                           attention=attention_count(session, vendor_id=g.vendor_id),
                           signup_url=absolute_url("signup.sign_up", vendor_slug=vendor.slug))


@blueprint.route("/password", methods=["GET", "POST"])
def password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        check_current_password_tries("vendor", current_user.id)
        session = get_session()
        done, user = commit_or_show(session, form, lambda: services.change_vendor_password(
            session, user_id=current_user.id, current=form.current_password.data, new=form.password.data,
            actor=current_user.actor, ip=client_ip()))
        if form.current_password.errors:
            wrong_current_password("vendor", current_user.id)
        if done:
            sessions.log_in(user)
            flash("Your password is changed. Your other sessions have been logged out.", "success")
            return redirect(url_for("vendors.home"), code=303)
    return render_template("vendors/password.html", form=form), form_status(form)


@blueprint.route("/settings", methods=["GET", "POST"])
def settings():
    session = get_session()
    vendor = services.get_vendor(session, vendor_id=g.vendor_id)
    form = SettingsForm(obj=vendor)
    if form.validate_on_submit():
        services.update_settings(session, vendor=vendor, portal_enabled=form.portal_enabled.data,
                                 signup_enabled=form.signup_enabled.data,
                                 block_expired_keys=form.block_expired_keys.data,
                                 mail_new_licenses=form.mail_new_licenses.data, actor=current_user.actor,
                                 ip=client_ip())
        session.commit()
        flash("Settings saved.", "success")
        return redirect(url_for("vendors.settings"), code=303)
    return _settings_page(vendor, form=form)


def _settings_page(vendor, *, status: int = 200, **forms):
    # The forms not posted show what is saved, not the post of another form (formdata=None).
    forms.setdefault("form", SettingsForm(obj=vendor, formdata=None))
    forms.setdefault("reminders", ReminderSettingsForm(obj=vendor, formdata=None))
    forms.setdefault("company", CompanyNameForm(obj=vendor, formdata=None))
    signup_url = absolute_url("signup.sign_up", vendor_slug=vendor.slug)
    terms = terms_settings(get_session(), vendor_id=vendor.id)
    return render_template("vendors/settings.html", vendor=vendor, signup_url=signup_url, terms=terms,
                           terms_form=TermsForm(formdata=None, url=terms.stored or ""),
                           **_stripe_status(get_session(), vendor.id), **forms), status


def _stripe_status(session, vendor_id: int) -> dict:
    stripe = connected(session, vendor_id=vendor_id)
    return {"stripe": stripe, "stripe_connected_to": connected_to(stripe) if stripe else ""}


@blueprint.route("/settings/reminders", methods=["POST"])
def reminders():
    """The expiry reminder's own small form on the settings page."""
    session = get_session()
    vendor = services.get_vendor(session, vendor_id=g.vendor_id)
    form = ReminderSettingsForm()
    if form.validate_on_submit() and commit_or_show(session, form, lambda: services.set_expiry_reminder(
            session, vendor=vendor, days=form.remind_days_before_expiry.data or 0, actor=current_user.actor,
            ip=client_ip()))[0]:
        days = vendor.remind_days_before_expiry
        flash(f"Customers are reminded {days} day{'s' if days != 1 else ''} before a key expires." if days
              else "Expiry reminders are off.", "success")
        return redirect(url_for("vendors.settings", _anchor="reminders"), code=303)
    return _settings_page(vendor, reminders=form, status=422)


@blueprint.route("/settings/name", methods=["POST"])
def company_name():
    """The company's name, its own small form on the settings page (registration gave it first)."""
    session = get_session()
    vendor = services.get_vendor(session, vendor_id=g.vendor_id)
    form = CompanyNameForm()
    if form.validate_on_submit() and commit_or_show(session, form, lambda: services.rename_vendor(
            session, vendor=vendor, name=form.name.data, actor=current_user.actor, ip=client_ip()))[0]:
        flash(f"Your company's name is {vendor.name}.", "success")
        return redirect(url_for("vendors.settings"), code=303)
    return _settings_page(vendor, company=form, status=422)


# The navigation's section of each page: a key's pages and a product's prices are under Products; Stripe, the brand
# and the terms under Settings.
_SECTIONS = {"customers": "customers", "products": "products", "keys": "products", "billing": "settings",
             "subscriptions_admin": "subscriptions", "activity": "activity", "dataobjects": "dataobjects",
             "api_tokens": "api", "branding": "settings", "terms_settings": "settings"}
_PRODUCT_PAGES = {"billing.link_price", "billing.new_price", "billing.price_settings", "billing.offer_price",
                  "billing.unlink_price", "billing.refresh_prices"}


def section_of(endpoint: str | None) -> str:
    endpoint = endpoint or ""
    if endpoint in _PRODUCT_PAGES:
        return "products"
    if endpoint in ("vendors.settings", "vendors.reminders", "vendors.company_name"):
        return "settings"
    if endpoint in ("vendors.home", "keys.standing"):  # the home's counts open the keys by standing
        return "home"
    return _SECTIONS.get(endpoint.partition(".")[0], "")


def _root():
    """The site's address leads to the vendor dashboard (customers arrive by their vendor's portal links)."""
    return redirect(url_for("vendors.home"))


def init_app(app: Flask) -> None:
    app.jinja_env.globals["vendor_section"] = section_of
    sessions.init_app(app)
    app.register_blueprint(blueprint)
    app.add_url_rule("/", "root", _root)
