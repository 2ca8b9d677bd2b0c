"""The vendor's Web API page: make an access token (shown once), revoke one, see the public key."""

from flask import Flask, current_app, g, redirect, render_template, request, url_for
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from portal.api import signing, tokens
from portal.api.forms import TokenForm
from portal.db import get_session
from portal.forms import commit_or_show, form_status
from portal.keys.services import products_to_choose
from portal.tenancy import vendor_blueprint
from portal.web import client_ip

blueprint = vendor_blueprint("api_tokens", __name__, "/vendor/api-tokens")


@blueprint.route("/", methods=["GET", "POST"])
def index():
    session = get_session()
    form = TokenForm()
    form.product_id.choices = [SelectChoice(0, "All products")] + [
        SelectChoice(p.id, p.name) for p in products_to_choose(session, vendor_id=g.vendor_id)]
    made = None
    if form.validate_on_submit():
        def make():
            signing.ensure_key(session, vendor_id=g.vendor_id, encryptor=_encryptor())
            return tokens.create_token(session, vendor_id=g.vendor_id, name=form.name.data, scopes=form.scopes.data,
                                       product_id=form.product_id.data or None, actor=current_user.actor,
                                       ip=client_ip())

        _done, made = commit_or_show(session, form, make)
    modulus = signing.modulus_of(session, vendor_id=g.vendor_id)
    page = render_template(
        "api/tokens.html", form=form, made=made, tokens=tokens.list_tokens(session, vendor_id=g.vendor_id),
        public_xml=signing.public_key_xml(modulus) if modulus else None,
        public_pem=signing.public_key_pem(modulus) if modulus else None,
        api_base=request.host_url + "api/")
    return page, form_status(form)


@blueprint.route("/revoke", methods=["POST"])
def revoke():
    session = get_session()
    token_id = request.form.get("token_id", type=int)
    if token_id is not None and 0 < token_id < 2**31:
        tokens.revoke_token(session, vendor_id=g.vendor_id, token_id=token_id, actor=current_user.actor,
                            ip=client_ip())
        session.commit()
    return redirect(url_for("api_tokens.index"), code=303)


def _encryptor():
    return current_app.extensions["encryptor"]


def init_app(app: Flask) -> None:
    app.register_blueprint(blueprint)
