"""One way to render: a full page, or the fragment of it an htmx request asked for."""

from collections.abc import Callable

from flask import make_response, redirect, render_template, request
from markupsafe import Markup
from werkzeug.wrappers import Response


def is_htmx() -> bool:
    return request.headers.get("HX-Request") == "true" and request.headers.get("HX-Boosted") != "true"


def render(page: str, fragment: str | None = None, /, *, status: int = 200, **context) -> Response:
    """Render `fragment` for an htmx request that targets it, else the page that includes it."""
    template = fragment if fragment and is_htmx() else page
    response = make_response(render_template(template, **context), status)
    response.vary.add("HX-Request")
    return response


class FragmentCache:
    """HTML fragments rendered once per content, then reused: bounded, per process, emptied when full.

    The key is everything the fragment shows (plain tuples, which hash and compare in C), so a changed row or
    setting makes a different key and a fragment is never stale.
    """

    def __init__(self, size: int = 1024):
        self.size = size
        self._fragments: dict[tuple, Markup] = {}

    def get(self, content: tuple, render: Callable[[], Markup]) -> Markup:
        fragment = self._fragments.get(content)
        if fragment is None:
            if len(self._fragments) >= self.size:
                self._fragments.clear()
            fragment = self._fragments[content] = render()
        return fragment


def redirect_to(url: str) -> Response:
    """A redirect that htmx follows as a full page load (`HX-Redirect`), and a browser as a 303."""
    if is_htmx():
        response = make_response("", 200)
        response.headers["HX-Redirect"] = url
        return response
    return redirect(url, code=303)


CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "object-src 'none'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
    "form-action 'self'",
])


def add_security_headers(response: Response) -> Response:
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "same-origin")
    if response.mimetype == "text/html":
        headers.setdefault("Cache-Control", "no-store")
    return response
