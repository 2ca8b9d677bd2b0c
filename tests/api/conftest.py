"""The Web API's fixtures: a served app the official `licensing` client talks to, tokens, the public key."""

import json
import urllib.parse

import pytest
from licensing.internal import HelperMethods
from sqlmodel import select

from portal.api import signing, tokens
from portal.api_models import ApiToken
from tests.support.live import served


@pytest.fixture
def api_app(app):
    app.config["RATELIMIT_ENABLED"] = False
    return app


@pytest.fixture
def server(api_app):
    """The app on a free port, with the official client pointed at it."""
    with served(api_app) as base:
        previous = HelperMethods.server_address
        HelperMethods.server_address = base + "/api/"
        yield base
        HelperMethods.server_address = previous


class Api:
    """Makes tokens and reads public keys for a test; `post` calls a method through the Flask test client."""

    def __init__(self, app, db):
        self.app, self.db, self.made = app, db, 0

    def token(self, vendor, *scopes: str, product=None, name: str = "") -> str:
        """A live token; unnamed, "test token", then "test token 2"... (two live tokens never share a name)."""
        self.made += 1
        name = name or ("test token" if self.made == 1 else f"test token {self.made}")
        _token, text = tokens.create_token(self.db, vendor_id=vendor.id, name=name, scopes=list(scopes),
                                           product_id=product.id if product else None, actor="test")
        self.db.commit()
        return text

    def actor(self, name: str = "test token") -> str:
        """What the audit trail records for changes made with the live token of this name."""
        return tokens.actor_of(self.db.exec(select(ApiToken).where(ApiToken.name == name,
                                                                   ApiToken.revoked_at.is_(None))).one())

    def public_key(self, vendor) -> str:
        key = signing.ensure_key(self.db, vendor_id=vendor.id, encryptor=self.app.extensions["encryptor"])
        self.db.commit()
        return signing.public_key_xml(key.modulus)

    def post(self, path: str, **params):
        response = self.app.test_client().post(f"/api/{path}", data=urllib.parse.urlencode(params),
                                               content_type="application/x-www-form-urlencoded")
        return response.status_code, json.loads(response.get_data(as_text=True))


@pytest.fixture
def api(api_app, db):
    return Api(api_app, db)


@pytest.fixture
def product(make, vendor):
    return make.product(vendor)
