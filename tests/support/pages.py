"""Reading pages as a browser does: the CSRF token a form carries, the links a page offers, the pages a list spans."""

import re
from html.parser import HTMLParser
from urllib.parse import urlsplit

# A form's hidden field (`name="csrf_token" ... value="..."`), or the token htmx sends (`hx-headers` on <body>).
_CSRF = re.compile(r'name="csrf_token"[^>]*?\svalue="([^"]+)"|"X-CSRFToken": "([^"]+)"')
REDIRECTS = {301, 302, 303, 307, 308}


def csrf_token(client, url: str) -> str:
    """The CSRF token of the page at `url`, opened by `client` (so the token is that client's session's)."""
    return csrf_in(client.get(url).get_data(as_text=True), url)


def csrf_in(html: str, url: str = "the page") -> str:
    """The CSRF token a page's HTML carries."""
    found = _CSRF.search(html)
    assert found, f"no CSRF token on {url}"
    return found.group(1) or found.group(2)


def post_form(client, url: str, data: dict, *, page: str | None = None, **kwargs):
    """Submit a form as a browser does: read the CSRF token from the page (`url` unless given), then post."""
    return client.post(url, data={"csrf_token": csrf_token(client, page or url), **data}, **kwargs)


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.links: list[dict] = []

    def handle_starttag(self, tag, attrs):
        if tag == "a" and dict(attrs).get("href") is not None:
            self.links.append(dict(attrs))


def links_in(html: str) -> list[dict]:
    """The attributes of each `<a href>` of the page, in order (`href` unescaped, as a browser follows it)."""
    parser = _Links()
    parser.feed(html)
    return parser.links


def walk_pages(client, url: str, **get_kwargs) -> list[str]:
    """The HTML of `url` and of each page after it, following the `rel="next"` link until there is none."""
    pages = []
    while url:
        assert len(pages) < 100, f"more than 100 pages from {url}: does the next link lead back?"
        response = client.get(url, **get_kwargs)
        assert response.status_code == 200, f"{url} → {response.status_code}"
        pages.append(response.get_data(as_text=True))
        url = next((link["href"] for link in links_in(pages[-1]) if link.get("rel") == "next"), None)
    return pages


def redirect_path(response) -> str | None:
    """Where a redirect leads (the path of its `Location`); None for any answer that is not a redirect."""
    if response.status_code not in REDIRECTS:
        return None
    return urlsplit(response.headers["Location"]).path
