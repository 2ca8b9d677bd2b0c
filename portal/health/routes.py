"""`GET /healthz`: 200 `{"status": "ok"}`, or 503 naming the checks that failed and nothing else.

Outside both sides of the site (no login, no vendor, no session cookie, no CSRF), never rate-limited: a proxy or a
process manager asks it every few seconds."""

from flask import Blueprint, Flask, current_app, jsonify

from portal.extensions import csrf, limiter
from portal.health import services

blueprint = Blueprint("health", __name__)


@blueprint.route("/healthz", methods=["GET", "HEAD"])
@limiter.exempt
def healthz():
    failed = services.failed_checks(current_app.extensions["db_page_engine"])
    if failed:
        return jsonify(status="unavailable", failed=failed), 503
    return jsonify(status="ok")


def init_app(app: Flask) -> None:
    csrf.exempt(blueprint)
    app.register_blueprint(blueprint)
