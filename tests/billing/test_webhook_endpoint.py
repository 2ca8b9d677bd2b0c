"""`POST /stripe/webhook/<slug>`: only a body signed with the vendor's own secret, fresh, is taken; nothing else
writes a thing; answers are JSON and name no secret."""

import hashlib
import hmac
import io
import json
import time

import pytest
from sqlmodel import select

from portal.billing_models import StripeDrift, StripeEvent
from tests.billing.conftest import SIGNING_SECRET, connect_vendor, roll_key
from tests.support.pages import post_form
from tests.support.world import db_rows


def signed(body: bytes, secret: str = SIGNING_SECRET, at: int | None = None) -> dict:
    at = int(time.time()) if at is None else at
    signature = hmac.new(secret.encode(), f"{at}.".encode() + body, hashlib.sha256).hexdigest()
    return {"Stripe-Signature": f"t={at},v1={signature}", "Content-Type": "application/json"}


def event(kind: str = "product.created", event_id: str = "evt_test_1") -> bytes:
    return json.dumps({"id": event_id, "object": "event", "type": kind,
                       "data": {"object": {"id": "prod_1", "object": "product"}}}).encode()


@pytest.fixture
def connected(app, db, stripe_standin, vendor):
    return connect_vendor(app, db, stripe_standin, vendor, webhook_url=None)


def test_an_event_of_no_interest_is_recorded_and_answered_2xx(client, connected, vendor, db):
    answer = client.post(f"/stripe/webhook/{vendor.slug}", data=event(), headers=signed(event()))
    assert answer.status_code == 200 and answer.json["outcome"] == "ignored"
    recorded = db.exec(select(StripeEvent)).one()
    assert (recorded.event_id, recorded.type, recorded.vendor_id) == ("evt_test_1", "product.created", vendor.id)
    assert recorded.done_at is not None
    again = client.post(f"/stripe/webhook/{vendor.slug}", data=event(), headers=signed(event()))
    assert again.json["outcome"] == "duplicate"


@pytest.mark.parametrize(("headers", "reason"), [
    ({}, "no signature"),
    (signed(event(), secret="whsec_someone_else"), "another secret"),
    (signed(event(), at=int(time.time()) - 301), "stale"),
    ({"Stripe-Signature": "t=abc,v1=zz"}, "malformed"),
])
def test_a_bad_stale_or_missing_signature_gets_400_and_nothing_is_written(app, client, connected, vendor, headers,
                                                                          reason):
    before = db_rows(app)
    answer = client.post(f"/stripe/webhook/{vendor.slug}", data=event(), headers=headers)
    assert answer.status_code == 400, reason
    assert "error" in answer.json and SIGNING_SECRET not in answer.get_data(as_text=True)
    assert db_rows(app) == before


def test_an_unknown_slug_or_a_vendor_without_stripe_gets_400(app, client, connected, vendor, other_vendor):
    before = db_rows(app)
    for slug in ("no-such-vendor", other_vendor.slug):
        answer = client.post(f"/stripe/webhook/{slug}", data=event(), headers=signed(event()))
        assert answer.status_code == 400
    assert db_rows(app) == before


def test_another_vendors_signature_is_refused_and_event_ids_are_per_vendor(app, db, client, stripe_standin,
                                                                          connected, vendor, other_vendor):
    from portal.billing import connection

    connection.connect(db, app.extensions["stripe_access"], vendor_id=other_vendor.id,
                       secret_key=stripe_standin.create_account(name="Globex").secret_key,
                       webhook_secret="whsec_globex_secret", actor="test")
    db.commit()
    body = event(event_id="evt_shared")
    assert client.post(f"/stripe/webhook/{vendor.slug}", data=body,
                       headers=signed(body, secret="whsec_globex_secret")).status_code == 400
    for slug, secret in ((vendor.slug, SIGNING_SECRET), (other_vendor.slug, "whsec_globex_secret")):
        assert client.post(f"/stripe/webhook/{slug}", data=body, headers=signed(body, secret=secret)).json[
            "outcome"] == "ignored"
    assert len(db.exec(select(StripeEvent).where(StripeEvent.event_id == "evt_shared")).all()) == 2


def test_an_event_naming_a_subscription_of_another_account_changes_nothing_and_is_told(
        app, client, connected, vendor, db, vendor_client):
    body = json.dumps({"id": "evt_x", "type": "customer.subscription.created",
                       "data": {"object": {"id": "sub_not_in_this_account"}}}).encode()
    answer = client.post(f"/stripe/webhook/{vendor.slug}", data=body, headers=signed(body))
    assert answer.status_code == 200 and answer.json["outcome"] == "ignored"
    assert "No such subscription" in db.exec(select(StripeEvent)).one().last_error
    # The vendor is told, once for the subscription, until they dismiss it or connect Stripe again.
    again = json.dumps({"id": "evt_y", "type": "customer.subscription.updated",
                        "data": {"object": {"id": "sub_not_in_this_account"}}}).encode()
    client.post(f"/stripe/webhook/{vendor.slug}", data=again, headers=signed(again))
    page = vendor_client.get("/vendor/subscriptions/attention").get_data(as_text=True)
    assert page.count("sub_not_in_this_account</code>") == 1 and "different Stripe accounts" in page
    assert "Dismiss" in page and SIGNING_SECRET not in page
    (unseen,) = db.exec(select(StripeDrift).where(StripeDrift.kind == "unseen")).all()
    # Two events handled at once may each note it: still shown once, and dismissed together.
    db.add(StripeDrift(vendor_id=vendor.id, kind="unseen", stripe_id=unseen.stripe_id, detail=unseen.detail))
    db.commit()
    page = vendor_client.get("/vendor/subscriptions/attention").get_data(as_text=True)
    assert page.count("sub_not_in_this_account</code>") == 1
    post_form(vendor_client, f"/vendor/subscriptions/drift/{unseen.id}/repair", {},
              page="/vendor/subscriptions/attention")
    assert db.exec(select(StripeDrift)).all() == []
    client.post(f"/stripe/webhook/{vendor.slug}", data=body, headers=signed(body))  # a duplicate: nothing new
    assert db.exec(select(StripeDrift)).all() == []


def test_the_webhook_needs_no_csrf_token_and_refuses_get(client, connected, vendor):
    assert client.get(f"/stripe/webhook/{vendor.slug}").status_code == 405


def test_no_secret_reaches_a_page_a_log_line_or_an_error(app, db, client, vendor_client, stripe_standin, vendor,
                                                         caplog):
    import logging

    from portal.audit import events_for

    caplog.set_level(logging.DEBUG)
    secret_key = connect_vendor(app, db, stripe_standin, vendor, webhook_url=None)
    body = json.dumps({"id": "evt_down", "type": "customer.subscription.created",
                       "data": {"object": {"id": "sub_any"}}}).encode()
    with stripe_standin.unavailable():
        answer = client.post(f"/stripe/webhook/{vendor.slug}", data=body, headers=signed(body))
    assert answer.status_code == 503
    pages = [answer.get_data(as_text=True)]
    pages += [vendor_client.get(path).get_data(as_text=True) for path in ("/vendor/settings/stripe", "/vendor/")]
    trail = [(e.before or "") + (e.after or "") for e in events_for(db, vendor_id=vendor.id, subject_type="vendor",
                                                                    subject_id=vendor.id)]
    recorded = db.exec(select(StripeEvent)).one().last_error
    for secret in (secret_key, SIGNING_SECRET):
        assert not any(secret in text for text in [*pages, *trail, recorded, caplog.text])


def test_a_key_stripe_refuses_leaves_the_event_to_be_delivered_again(app, db, client, stripe_standin, vendor):
    """A rolled or under-privileged key: Stripe answers 401, and the event is not done (503), never dropped."""
    connect_vendor(app, db, stripe_standin, vendor, webhook_url=None)
    roll_key(app, db, vendor, "sk_test_rolled_9999")
    body = json.dumps({"id": "evt_rolled", "type": "customer.subscription.created",
                       "data": {"object": {"id": "sub_any"}}}).encode()
    answer = client.post(f"/stripe/webhook/{vendor.slug}", data=body, headers=signed(body))
    assert answer.status_code == 503
    recorded = db.exec(select(StripeEvent)).one()
    assert recorded.done_at is None and "Invalid API Key" in recorded.last_error and "rolled_9999" not in \
        recorded.last_error.replace("****9999", "")


@pytest.mark.parametrize("chunked", [False, True], ids=["announced", "chunked"])
def test_a_body_over_a_megabyte_gets_413_unread_whether_announced_or_chunked(app, client, connected, vendor,
                                                                             monkeypatch, chunked):
    from portal.billing import webhooks

    looked_up = []
    monkeypatch.setattr(webhooks, "connected_vendors", lambda *args: looked_up.append(args) or [])
    body = b" " * (webhooks.BODY_MAX + 1)
    before = db_rows(app)
    if chunked:  # no Content-Length: the server marks the stream as ending by itself (gunicorn, werkzeug)
        answer = client.post(f"/stripe/webhook/{vendor.slug}", input_stream=io.BytesIO(body),
                             headers={"Transfer-Encoding": "chunked", **signed(body)},
                             environ_overrides={"wsgi.input_terminated": True, "CONTENT_LENGTH": ""})
    else:
        answer = client.post(f"/stripe/webhook/{vendor.slug}", data=body, headers=signed(body))
    assert answer.status_code == 413 and answer.json == {"error": "The body is too large for a Stripe event."}
    assert looked_up == [] and db_rows(app) == before


@pytest.mark.skipif(__import__("os").environ.get("PORTAL_TEST_DATABASE", "sqlite") != "sqlite",
                    reason="SQLite's write lock; PostgreSQL's transactions take no lock to begin")
def test_the_lookup_before_the_signature_does_not_wait_for_another_writer(app, client, connected, vendor):
    """The webhook's first transaction only reads: on SQLite it begins DEFERRED, so a delivery is not held up by
    another worker's write (before, it took the write lock and waited up to the 30 s busy timeout)."""
    import sqlite3

    writer = sqlite3.connect(app.config["DATABASE_URL"].removeprefix("sqlite:///"), isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    try:
        answer = client.post(f"/stripe/webhook/{vendor.slug}", data=event(), headers=signed(event(), secret="whsec_x"))
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    assert answer.status_code == 400 and "Stripe-Signature does not match" in answer.json["error"]
