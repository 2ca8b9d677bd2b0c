"""The vendor's Web API page and `flask api ...`: a token shown once and stored as a hash, revoked, the public key."""

import pytest
from sqlmodel import select

from portal.api_models import ApiToken
from portal.security import token_digest
from tests.support.pages import csrf_token


def test_a_token_is_shown_once_stored_hashed_and_revoked(vendor_client, api, vendor, db):
    page = vendor_client.get("/vendor/api-tokens/").get_data(as_text=True)
    assert "No access tokens yet" in page
    posted = vendor_client.post("/vendor/api-tokens/", data={
        "csrf_token": csrf_token(vendor_client, "/vendor/api-tokens/"), "name": "Build server",
        "scopes": ["activation", "keys"], "product_id": "0"})
    assert posted.status_code == 303  # then shown once by the page it goes to: reloading that makes no second token
    made = vendor_client.get(posted.headers["Location"])
    token = db.exec(select(ApiToken)).one()
    text = made.get_data(as_text=True)
    shown = text.split('id="new-token" type="text" readonly value="')[1].split('"')[0]
    assert token.token_hash == token_digest(shown) and token.scopes == "activation keys"
    assert "&lt;RSAKeyValue&gt;&lt;Modulus&gt;" in text and "BEGIN PUBLIC KEY" in text
    assert shown not in vendor_client.get("/vendor/api-tokens/").get_data(as_text=True)
    assert api.post("key/GetKey", token=shown)[1]["message"] == "The parameter ProductId is missing."
    listing = vendor_client.get("/vendor/api-tokens/").get_data(as_text=True)
    assert '<small class="tag">Activation</small> <small class="tag">Keys</small>' in listing  # in words
    revoked = vendor_client.post("/vendor/api-tokens/revoke", follow_redirects=True, data={
        "csrf_token": csrf_token(vendor_client, "/vendor/api-tokens/"), "token_id": token.id})
    assert "The token Build server is revoked" in revoked.get_data(as_text=True)
    assert api.post("key/GetKey", token=shown)[0] == 401


def test_two_live_tokens_cannot_share_a_name(vendor_client, vendor, db):
    def make(name: str):
        return vendor_client.post("/vendor/api-tokens/", data={
            "csrf_token": csrf_token(vendor_client, "/vendor/api-tokens/"), "name": name, "scopes": ["activation"],
            "product_id": "0"})

    assert make("Desktop app").status_code == 303
    again = make("Desktop app")
    assert again.status_code == 422 and "A token named Desktop app is in use" in again.get_data(as_text=True)
    assert len(db.exec(select(ApiToken)).all()) == 1
    token = db.exec(select(ApiToken)).one()
    vendor_client.post("/vendor/api-tokens/revoke", data={
        "csrf_token": csrf_token(vendor_client, "/vendor/api-tokens/"), "token_id": token.id})
    assert make("Desktop app").status_code == 303  # once that one is revoked, its name is free


def test_of_two_namesakes_made_at_one_moment_the_database_keeps_one(db, vendor, monkeypatch):
    from portal.api import tokens
    from portal.domain import DomainError

    kept, _text = tokens.create_token(db, vendor_id=vendor.id, name="CI", actor="test")
    monkeypatch.setattr(tokens, "live_tokens_named", lambda *args, **kwargs: [])  # both passed the check
    with pytest.raises(DomainError, match="A token named CI is in use"):
        tokens.create_token(db, vendor_id=vendor.id, name="CI", actor="test")
    db.commit()  # the refusal undid only its own insert
    assert [(token.id, token.name) for token in db.exec(select(ApiToken))] == [(kept.id, "CI")]


def test_a_token_limited_to_a_product_names_it_and_revoking_asks_first(vendor_client, make, vendor, db):
    product = make.product(vendor, name="Photo Editor")
    vendor_client.post("/vendor/api-tokens/", data={
        "csrf_token": csrf_token(vendor_client, "/vendor/api-tokens/"), "name": "Shop", "scopes": ["keys"],
        "product_id": str(product.id)})
    page = vendor_client.get("/vendor/api-tokens/").get_data(as_text=True)
    assert 'data-label="Product">Photo Editor</td>' in page and 'data-confirm="Revoke the token Shop?' in page


def test_another_vendors_token_cannot_be_revoked(vendor_client, api, other_vendor, db):
    api.token(other_vendor)
    token = db.exec(select(ApiToken)).one()
    response = vendor_client.post("/vendor/api-tokens/revoke", data={
        "csrf_token": csrf_token(vendor_client, "/vendor/api-tokens/"), "token_id": token.id})
    assert response.status_code == 404
    db.expire_all()
    assert db.get(ApiToken, token.id).revoked_at is None


def test_the_commands_make_a_token_and_print_the_public_key(runner, api, vendor, db):
    made = runner.invoke(args=["api", "create-token", "--vendor", vendor.slug, "--name", "CI", "--scope", "products"])
    assert made.exit_code == 0, made.output
    text = made.output.strip().splitlines()[-1]
    assert api.post("product/GetProducts", token=text)[1] == {"result": 0, "message": "", "products": []}
    assert db.exec(select(ApiToken.scopes)).one() == "products"
    key = runner.invoke(args=["api", "public-key", "--vendor", vendor.slug])
    assert key.exit_code == 0 and key.output.count("\n") == 1
    assert key.output.startswith("<RSAKeyValue><Modulus>") and key.output.strip() == api.public_key(vendor)
    assert runner.invoke(args=["api", "public-key", "--vendor", "nobody"]).exit_code != 0


def test_a_choice_not_on_offer_is_answered_in_words(vendor_client, db):
    for fields in ({"scopes": ["activation"], "product_id": "abc"}, {"scopes": ["nonsense"], "product_id": "0"}):
        answer = vendor_client.post("/vendor/api-tokens/", data={
            "csrf_token": csrf_token(vendor_client, "/vendor/api-tokens/"), "name": "Shop", **fields})
        page = answer.get_data(as_text=True)
        assert answer.status_code == 422 and "Choose one of the options." in page, fields
        assert "could not coerce" not in page and "not a valid choice" not in page
    assert db.exec(select(ApiToken)).all() == []
