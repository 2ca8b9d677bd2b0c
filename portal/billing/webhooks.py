"""`POST /stripe/webhook/<slug>`: Stripe's events for one vendor, proven by that vendor's signing secret.

400 and nothing written for a bad, stale or missing signature, an unknown slug, a vendor without Stripe or an event
of the other mode than the connected key's (portal/billing/events.py, refusal_of); 2xx only once the event's work
is committed and written back to Stripe; 5xx for any failure, so that Stripe delivers again. Answers are JSON and
name no secret.
"""

import logging

from flask import Blueprint, Flask, current_app, jsonify, request
from werkzeug.exceptions import RequestEntityTooLarge

from portal.billing.connection import connected_vendors
from portal.billing.events import handle_event, note_failure, refusal_of
from portal.billing.gateway import BadSignature, StripeRefused, StripeUnavailable, verify_event
from portal.db import get_session
from portal.extensions import csrf, limiter
from portal.rules import normalize_slug
from portal.urls import absolute_url

blueprint = Blueprint("webhooks", __name__)
log = logging.getLogger(__name__)
# A Stripe event is a few kilobytes; a body far larger is no event of Stripe's.
BODY_MAX = 1024 * 1024


def _refused(message: str, status: int = 400):
    return jsonify(error=message), status


@blueprint.route("/stripe/webhook/<slug>", methods=["POST"])
@csrf.exempt
@limiter.exempt
def stripe_webhook(slug: str):
    # At most one byte more than BODY_MAX is read, whether the length is announced (a larger one is refused unread)
    # or the body comes in chunks with none (werkzeug then stops reading at the limit): nothing unproven is held in
    # memory beyond that.
    request.max_content_length = BODY_MAX + 1
    try:
        payload = request.get_data(cache=False)
    except RequestEntityTooLarge:
        payload = None
    if payload is None or len(payload) > BODY_MAX:
        return _refused("The body is too large for a Stripe event.", 413)
    session = get_session()
    # One query for the vendor and its connection (the vendor stays loaded for the new key's mail). Nothing is written
    # before the signature is proven; handle_event ends this transaction before it calls Stripe. It only reads, so on
    # SQLite it does not take the write lock (a POST's transactions do): it no longer waits for another worker's
    # event to commit. (PostgreSQL's transactions take no lock to begin: the option means nothing there.)
    session.connection(execution_options={"sqlite_begin": "DEFERRED"})
    found = connected_vendors(session, normalize_slug(slug))
    vendor_id, connection = (found[0][0].id, found[0][1]) if found else (None, None)
    access = current_app.extensions["stripe_access"]
    secret = access.webhook_secret(connection)
    if secret is None:
        return _refused("No portal with Stripe connected has this address.")
    try:
        event = verify_event(payload, request.headers.get("Stripe-Signature"), secret)
    except BadSignature as error:
        return _refused(f"The Stripe-Signature does not match this portal's signing secret ({error}).")
    refusal = refusal_of(connection, event)
    if refusal is not None:
        log.warning("Stripe event %s for vendor %s refused: %s", event["id"], vendor_id, refusal)
        return _refused(refusal)
    try:
        outcome = handle_event(session, access, connection=connection, event=event,
                               portal_link=absolute_url("dashboard.index", vendor_slug=normalize_slug(slug)))
    except Exception as error:
        # Stripe's own words (it masks keys in them), else only the kind of failure: never a secret.
        reason = str(error) if isinstance(error, StripeUnavailable | StripeRefused) else type(error).__name__
        log.warning("Stripe event %s for vendor %s not done, Stripe will deliver it again: %s",
                    event["id"], vendor_id, reason)
        note_failure(session, vendor_id=vendor_id, event_id=event["id"], error=reason)
        return _refused("The event could not be processed now; deliver it again.", 503)
    return jsonify(received=True, outcome=outcome)


def init_app(app: Flask) -> None:
    app.register_blueprint(blueprint)
