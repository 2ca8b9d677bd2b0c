"""The licensing portal: `create_app` reads config, binds extensions, registers blueprints and commands."""

from pathlib import Path

from flask import Flask
from flask_login import current_user
from werkzeug.middleware.proxy_fix import ProxyFix

from portal import config, db, errors, jobs
from portal.extensions import csrf, limiter, login_manager
from portal.fragment_cache import cached_fragment
from portal.models import utcnow
from portal.rendering import add_security_headers, content_security_policy, possessive_filter
from portal.security import Encryptor, keep_queries_out_of_the_request_log
from portal.urls import DatabaseIdConverter
from portal.words import customer_name, plural


def create_app(test_config: dict | None = None) -> Flask:
    app = Flask(__name__)
    app.config.from_mapping(config.from_environment(app.instance_path))
    if test_config:
        app.config.from_mapping(test_config)
    config.refuse_unsafe_production(app.config)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)

    app.config.setdefault("RATELIMIT_STORAGE_URI", app.config["REDIS_URL"] or "memory://")
    app.extensions["encryptor"] = (
        Encryptor(app.config["ENCRYPTION_KEY"]) if app.config["ENCRYPTION_KEY"]
        else Encryptor.for_development(app.config["SECRET_KEY"])
    )
    jobs.init_app(app)

    app.url_map.converters["int"] = DatabaseIdConverter
    db.init_app(app)
    csrf.init_app(app)
    limiter.init_app(app)
    # `current_user` in templates is Flask-Login's lazy proxy: Flask-Login's own context processor would load the
    # vendor user for every template rendered, portal pages and mail included, which never show it (a mail rendered
    # by a job inside a request's commit could not even read it).
    login_manager.init_app(app, add_context_processor=False)
    app.jinja_env.globals["current_user"] = current_user
    app.config["CONTENT_SECURITY_POLICY"] = content_security_policy(app.config["STRIPE_API_BASE"])
    app.after_request(add_security_headers)
    app.jinja_env.globals.update(utcnow=utcnow, cached_fragment=cached_fragment)
    app.jinja_env.filters.update(plural=plural, possessive=possessive_filter, customer_name=customer_name)
    errors.init_app(app)
    keep_queries_out_of_the_request_log()

    # Imported here, not at the top: the web layer and the commands sit above this wiring, and importing `portal`
    # (as every module below it does) must not load them.
    from portal import cli
    from portal.accounts import routes as accounts
    from portal.activity import routes as activity
    from portal.api import routes as api
    from portal.billing import plans
    from portal.billing import routes as billing
    from portal.branding import routes as branding
    from portal.customers import routes as customers
    from portal.dashboard import routes as dashboard
    from portal.dataobjects import routes as dataobjects
    from portal.health import routes as health
    from portal.keys import routes as keys
    from portal.licenses import routes as licenses
    from portal.outbox import routes as outbox
    from portal.products import routes as products
    from portal.signup import routes as signup
    from portal.subscriptions import routes as subscriptions
    from portal.terms import routes as terms
    from portal.vendors import routes as vendors

    app.jinja_env.filters.update(plan_name=plans.plan_name, price_label=plans.price_label)  # a StripePrice in words
    for module in (vendors, customers, products, keys, billing, dataobjects, accounts, signup, terms, licenses,
                   subscriptions, dashboard, activity, api, health, cli, branding):
        module.init_app(app)
    if app.config["MAIL_BACKEND"] == "console":
        outbox.init_app(app)
    if app.config["TRUSTED_PROXIES"]:  # outermost: the portal's pages and the Web API's application see its result
        hops = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops)
    return app
