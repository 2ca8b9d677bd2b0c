"""The vendor's brand: its settings page, and the logo and stylesheet each portal serves under its own address."""

from flask import Flask, abort, flash, g, make_response, redirect, render_template, request, url_for
from flask_login import current_user

from portal.brand import brand_of
from portal.branding import services
from portal.branding.forms import BrandForm
from portal.branding.images import LOGO_MAX_BYTES
from portal.db import get_session
from portal.forms import commit_or_show, form_status
from portal.tenancy import portal_blueprint, public, vendor_blueprint
from portal.vendors.services import get_vendor
from portal.web import client_ip

blueprint = vendor_blueprint("branding", __name__, "/vendor/settings/brand")
assets = portal_blueprint("brand_assets", __name__)
# An address with the current version never changes its answer; one without it (or an old one) may at any time.
_FOREVER = "max-age=31536000, immutable"
_REVALIDATE = "max-age=300"


@blueprint.route("", methods=["GET", "POST"])
def edit():
    session = get_session()
    vendor = get_vendor(session, vendor_id=g.vendor_id)
    form = BrandForm(obj=vendor)
    if form.validate_on_submit():
        upload = form.logo.data
        logo = upload.stream.read(LOGO_MAX_BYTES + 1) if upload and upload.filename else None
        done, _vendor = commit_or_show(session, form, lambda: services.update_brand(
            session, vendor=vendor, accent_color=form.accent_color.data or "",
            support_contact=form.support_contact.data or "", site_url=form.site_url.data or "", logo=logo,
            remove_logo=form.remove_logo.data, actor=current_user.actor, ip=client_ip()))
        if done:
            flash("Your portal's look is saved.", "success")
            return redirect(url_for("branding.edit"), code=303)
        vendor = get_vendor(session, vendor_id=g.vendor_id)
    return render_template("branding/edit.html", form=form, vendor=vendor), form_status(form)


@assets.route("/logo")
@public
def logo():
    return _logo(g.vendor, shared=True)


@blueprint.route("/logo")
def logo_preview():
    """The logo on the settings page, which shows it even while the portal is off (kept by the browser only)."""
    return _logo(get_vendor(get_session(), vendor_id=g.vendor_id), shared=False)


def _logo(vendor, *, shared: bool):
    stored = services.logo_of(get_session(), vendor_id=vendor.id) if vendor.logo_version else None
    if stored is None:
        abort(404)
    response = make_response(stored.data)
    response.headers["Content-Type"] = stored.content_type
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Disposition"] = "inline"
    return _cached(response, version=vendor.logo_version, shared=shared)


@assets.route("/brand.css")
@public
def stylesheet():
    accent = g.vendor.accent_color
    colors = services.accent_colors(accent) if accent else None
    response = make_response(render_template("branding/brand.css", colors=colors))
    response.headers["Content-Type"] = "text/css; charset=utf-8"
    return _cached(response, version=accent.lstrip("#"), shared=True)


def _cached(response, *, version: str, shared: bool):
    """Kept for a year under the current version's address, revalidated (by its ETag, the version) under any
    other; a new logo or colour is a new address, so no cache shows the old one."""
    current = request.args.get("v", "") == version
    response.headers["Cache-Control"] = ("public, " if shared else "private, ") + (_FOREVER if current
                                                                                  else _REVALIDATE)
    response.set_etag(version or "none")
    return response.make_conditional(request)


def init_app(app: Flask) -> None:
    app.register_blueprint(blueprint)
    app.register_blueprint(assets)
    app.jinja_env.globals["portal_brand"] = _portal_brand


def _portal_brand(vendor):
    """A portal page's brand (its logo's address relative to this site), worked out once per request."""
    brand = g.get("portal_brand")
    if brand is None or brand.name != vendor.name:
        brand = g.portal_brand = brand_of(
            vendor, portal_url=url_for("dashboard.index", vendor_slug=vendor.slug))
    return brand
