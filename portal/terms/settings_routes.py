"""The vendor's terms-of-use setting: the address in `cryptolens_customtosurl`, with a confirmation step before a new
address asks every customer again (a page of its own, so it works without JavaScript)."""

from flask import Flask, flash, g, redirect, render_template, url_for
from flask_login import current_user

from portal.db import get_session
from portal.forms import commit_or_show, form_status
from portal.tenancy import vendor_blueprint
from portal.terms import services
from portal.terms.forms import TermsForm
from portal.web import client_ip

blueprint = vendor_blueprint("terms_settings", __name__, "/vendor/settings/terms")
_DONE = {
    services.UNCHANGED: "The terms of use are unchanged.",
    services.SAVED: "Terms of use saved: each customer is asked to accept them at their next visit.",
    services.REMOVED: "Terms of use removed: customers are no longer asked to accept any.",
}


@blueprint.route("", methods=["GET", "POST"])
def edit():
    session = get_session()
    form = TermsForm()
    if form.validate_on_submit():
        done, outcome = commit_or_show(session, form, lambda: services.change_terms_url(
            session, vendor_id=g.vendor_id, url=form.url.data or "", confirmed=form.confirmed.data,
            actor=current_user.actor, ip=client_ip()))
        if done and outcome != services.NEEDS_CONFIRMATION:
            flash(_DONE[outcome], "success")
            return redirect(url_for("vendors.settings", _anchor="terms"), code=303)
        if done:
            terms = services.terms_settings(session, vendor_id=g.vendor_id)
            return render_template("terms/confirm_change.html", form=form, terms=terms)
    terms = services.terms_settings(session, vendor_id=g.vendor_id)
    if not form.is_submitted():
        form.url.data = terms.stored or ""
    return render_template("terms/settings.html", form=form, terms=terms), form_status(form)


def init_app(app: Flask) -> None:
    app.register_blueprint(blueprint)
