"""Findings 6 and 8 of the security test: HSTS in production, and no cache keeps a response that carries keys."""

import pytest

from portal import create_app


@pytest.fixture
def production_client(app, monkeypatch):
    monkeypatch.delenv("PORTAL_FAST_HASHING", raising=False)
    production = create_app({
        "ENV_NAME": "production", "SECRET_KEY": "s" * 48,
        "ENCRYPTION_KEY": "bWFkZS11cC1mb3ItdGhlLXRlc3Qtb2YtaHN0cy0xMjM=", "DATABASE_URL": app.config["DATABASE_URL"],
        "MAIL_BACKEND": "smtp", "REDIS_URL": "redis://127.0.0.1:6379/14", "SESSION_COOKIE_SECURE": True,
        "PORTAL_BASE_URL": "https://licenses.example.com", "JOBS_IMMEDIATE": False, "TESTING": True,
        "RATELIMIT_ENABLED": False})
    yield production.test_client()
    create_app({"DATABASE_URL": app.config["DATABASE_URL"], "JOBS_IMMEDIATE": True})  # the queue back inline


@pytest.mark.skipif("postgresql" not in __import__("os").environ.get("PORTAL_TEST_DATABASE", "sqlite"),
                    reason="production refuses SQLite")
def test_production_answers_carry_hsts(production_client):
    for path in ("/vendor/login", "/static/portal.css", "/no-such-page"):
        response = production_client.get(path, base_url="https://licenses.example.com")
        assert response.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains", path


def test_development_answers_carry_no_hsts(client):
    assert "Strict-Transport-Security" not in client.get("/vendor/login").headers


def test_the_key_export_is_never_cached(vendor_client, make, vendor):
    product = make.product(vendor)
    make.key(product)
    response = vendor_client.get(f"/vendor/products/{product.id}/keys.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.headers["Cache-Control"] == "no-store"
    response.close()


def test_a_revealed_key_is_never_cached(portal_client, make, vendor, customer):
    key = make.key(make.product(vendor), customer=customer)
    response = portal_client.get(f"/Portal/@{vendor.slug}/Licenses/{key.id}/Key", headers={"HX-Request": "true"})
    assert key.key in response.get_data(as_text=True) and response.headers["Cache-Control"] == "no-store"
