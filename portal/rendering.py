"""One way to render: a full page, or the fragment of it an htmx request asked for."""

from urllib.parse import urlsplit

from flask import current_app, make_response, redirect, render_template, request
from jinja2 import pass_eval_context
from markupsafe import Markup, escape
from werkzeug.wrappers import Response

from portal.words import possessive


def is_htmx() -> bool:
    return request.headers.get("HX-Request") == "true" and request.headers.get("HX-Boosted") != "true"


def render(page: str, fragment: str | None = None, /, *, status: int = 200, **context) -> Response:
    """Render `fragment` for an htmx request that targets it, else the page that includes it."""
    template = fragment if fragment and is_htmx() else page
    response = make_response(render_template(template, **context), status)
    response.vary.add("HX-Request")
    return response


def redirect_to(url: str) -> Response:
    """A redirect that htmx follows as a full page load (`HX-Redirect`), and a browser as a 303."""
    if is_htmx():
        response = make_response("", 200)
        response.headers["HX-Redirect"] = url
        return response
    return redirect(url, code=303)


# Forms post to the portal only; "Subscribe" and "Manage billing" answer a POST with a redirect to Stripe's pages,
# which `form-action` governs too: Stripe's Checkout and Billing Portal origins, and the local stand-in's in its
# place when STRIPE_API_BASE names one.
STRIPE_PAGES = ("https://checkout.stripe.com", "https://billing.stripe.com")


def content_security_policy(stripe_api_base: str = "") -> str:
    origins = [*STRIPE_PAGES, *([urlsplit(stripe_api_base)._replace(path="").geturl()] if stripe_api_base else [])]
    return "; ".join([
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
        "form-action 'self' " + " ".join(origins),
    ])


# A year, as browsers' preload lists ask: once seen over HTTPS, the portal is never reached over plain HTTP.
STRICT_TRANSPORT_SECURITY = "max-age=31536000; includeSubDomains"


def add_security_headers(response: Response) -> Response:
    headers = response.headers
    headers.setdefault("Content-Security-Policy", current_app.config["CONTENT_SECURITY_POLICY"])
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "same-origin")
    # Pages, fragments, exports and API answers carry keys and customers' data: no cache keeps a copy. Static
    # files set their own caching, which stays.
    headers.setdefault("Cache-Control", "no-store")
    if current_app.config["ENV_NAME"] == "production":  # production serves HTTPS only (config refuses otherwise)
        headers.setdefault("Strict-Transport-Security", STRICT_TRANSPORT_SECURITY)
    return response


@pass_eval_context
def possessive_filter(eval_context, name) -> str:
    """`possessive` in a template: in an HTML one the name is escaped and the apostrophe stays one (not &#39;)."""
    made = possessive(name)
    if not eval_context.autoescape:
        return made
    return escape(name) + (Markup("'") if made.endswith("'") else Markup("'s"))
