"""The Web API is an application of its own beside the portal's (portal/api/application.py): no cookie session, the
portal's security headers, the same trusted proxies, links into the portal built as the pages build them."""

from sqlmodel import select
from werkzeug.middleware.proxy_fix import ProxyFix

from portal import create_app
from portal.models import ActivatedMachine


def test_a_call_neither_reads_nor_writes_a_cookie_session_and_carries_the_security_headers(
        api_app, api, make, vendor, product):
    key = make.key(product)
    client = api_app.test_client()
    client.set_cookie("session", "a portal login's cookie, sent along by a browser")
    response = client.post("/api/key/GetKey", data={"token": api.token(vendor), "ProductId": product.id,
                                                    "Key": key.key})
    assert response.status_code == 200 and response.json["result"] == 0
    assert "Set-Cookie" not in response.headers and "Cookie" not in response.headers.get("Vary", "")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Content-Security-Policy"] == api_app.config["CONTENT_SECURITY_POLICY"]


def test_behind_trusted_proxies_a_call_sees_the_clients_address_as_the_pages_do(api_app, api, make, vendor,
                                                                                 product, db):
    proxied = create_app({**api_app.config, "TRUSTED_PROXIES": 1})
    assert isinstance(proxied.wsgi_app, ProxyFix)  # outermost: in front of the pages and of the Web API alike
    key = make.key(product)
    response = proxied.test_client().post(
        "/api/key/Activate", data={"token": api.token(vendor), "ProductId": product.id, "Key": key.key,
                                   "MachineCode": "behind-a-proxy"},
        headers={"X-Forwarded-For": "203.0.113.9"}, environ_base={"REMOTE_ADDR": "127.0.0.1"})
    assert response.status_code == 200 and response.json["result"] == 0
    machine = db.exec(select(ActivatedMachine).where(ActivatedMachine.key_id == key.id)).one()
    assert machine.ip == "203.0.113.9"
