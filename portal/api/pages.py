"""The vendor's Web API page: make an access token (shown once), revoke one, see the public key."""

from flask import Flask, current_app, flash, g, redirect, render_template, request, session, url_for
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from portal.api import signing, tokens
from portal.api.forms import TokenForm
from portal.api_models import ApiToken
from portal.db import get_session
from portal.domain import find_owned
from portal.forms import commit_or_show, form_status
from portal.keys.services import products_to_choose
from portal.tenancy import vendor_blueprint
from portal.web import client_ip

blueprint = vendor_blueprint("api_tokens", __name__, "/vendor/api-tokens")


NEW_TOKEN = "new_api_token"  # noqa: S105 - the session key of a token just made (encrypted), kept till shown once


@blueprint.route("/", methods=["GET", "POST"])
def index():
    db = get_session()
    form = TokenForm()
    products = {p.id: p.name for p in products_to_choose(db, vendor_id=g.vendor_id)}
    form.product_id.choices = [SelectChoice(0, "All products")] + [SelectChoice(i, n) for i, n in products.items()]
    if form.validate_on_submit():
        def make():
            signing.ensure_key(db, vendor_id=g.vendor_id, encryptor=_encryptor())
            return tokens.create_token(db, vendor_id=g.vendor_id, name=form.name.data, scopes=form.scopes.data,
                                       product_id=form.product_id.data or None, actor=current_user.actor,
                                       ip=client_ip())

        done, made = commit_or_show(db, form, make)
        if done:  # shown by the page this redirects to, so that reloading it makes no second token
            session[NEW_TOKEN] = _encryptor().encrypt(f"{made[0].id}:{made[1]}")
            return redirect(url_for("api_tokens.index"), code=303)
    made = _token_just_made(db)
    modulus = signing.modulus_of(db, vendor_id=g.vendor_id)
    page = render_template(
        "api/tokens.html", form=form, made=made, tokens=tokens.list_tokens(db, vendor_id=g.vendor_id),
        products=products, group_names=tokens.GROUP_NAMES,
        public_xml=signing.public_key_xml(modulus) if modulus else None,
        public_pem=signing.public_key_pem(modulus) if modulus else None,
        api_base=request.host_url + "api/")
    return page, form_status(form)


def _token_just_made(db):
    """The token made by the post before this page, and its text, once: (token, text) or None."""
    kept = session.pop(NEW_TOKEN, None)
    if not kept:
        return None
    token_id, _, text = _encryptor().decrypt(kept).partition(":")
    token = find_owned(db, ApiToken, int(token_id), vendor_id=g.vendor_id)
    return (token, text) if token is not None else None


@blueprint.route("/revoke", methods=["POST"])
def revoke():
    session = get_session()
    token_id = request.form.get("token_id", type=int)
    if token_id is not None and 0 < token_id < 2**31:
        token = tokens.revoke_token(session, vendor_id=g.vendor_id, token_id=token_id, actor=current_user.actor,
                                    ip=client_ip())
        session.commit()
        flash(f"The token {token.name} is revoked: software that uses it is refused from now on.", "success")
    return redirect(url_for("api_tokens.index"), code=303)


def _encryptor():
    return current_app.extensions["encryptor"]


def init_app(app: Flask) -> None:
    app.register_blueprint(blueprint)
