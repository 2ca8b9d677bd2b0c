"""The Web API as a WSGI application of its own beside the portal's.

A call carries an access token, never a cookie, so it runs none of the pages' machinery: no cookie session opened
and saved, no CSRF check, no Flask-Limiter pass (the per-token limit is counted in portal/api/routes.py, with the
`limits` strategy Flask-Limiter uses), no remember-me cookie, no portal looked up. In one application with the
pages, those hooks ran on every call and cost about a sixth of an activation's CPU (bench/RESULTS.md, 2026-12-04
evening). The two applications share one configuration, one set of extensions (the database engines, the encryptor),
one URL map and one template environment, so a call's mail and links (a customer's portal link, "a new license is
waiting") are built and rendered as the pages build them.
"""

from flask import Flask
from flask.sessions import SessionInterface

from portal.db import close_session
from portal.rendering import add_security_headers


class NoSessions(SessionInterface):
    """No cookie session: Flask gives each call its null session, which refuses to be written."""

    def open_session(self, app, request):
        return None

    def save_session(self, app, session, response):
        return None


def create_api_app(portal: Flask, blueprint) -> Flask:
    """The application that serves `blueprint` (the Web API's methods) with `portal`'s configuration and extensions,
    registered into `portal`'s URL map."""
    api = Flask(portal.import_name, static_folder=None)
    api.config = portal.config
    api.extensions = portal.extensions
    api.session_interface = NoSessions()
    api.url_map = portal.url_map
    api.jinja_env = portal.jinja_env
    api.register_blueprint(blueprint)
    api.after_request(add_security_headers)
    api.teardown_appcontext(close_session)
    return api
