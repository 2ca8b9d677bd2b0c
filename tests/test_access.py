"""Who gets what, checked on every route in `app.url_map`: a route the table cannot classify fails the suite."""

import itertools
import re
from dataclasses import dataclass
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from flask import abort, g
from werkzeug.routing import AnyConverter

from portal.tenancy import PORTAL_PREFIX, portal_blueprint
from tests.support.factories import CUSTOMER_PASSWORD, VENDOR_PASSWORD
from tests.support.pages import csrf_token, post_form, redirect_path
from tests.support.world import World, db_rows

# root only redirects to /vendor/ (tested in tests/vendors); Stripe's webhook takes a signature, not a login, and is
# refused without one (tests/billing/test_webhook_endpoint.py); /healthz says only "ok" or which check failed
# (tests/test_health.py).
OUTSIDE_ENDPOINTS = {"static", "root", "webhooks.stripe_webhook", "health.healthz"}
# /dev/outbox is registered only with MAIL_BACKEND=console (tests send mail by SMTP); the Web API under /api/ takes
# an access token, not a login, and tests/api covers who may call what with which token.
OUTSIDE_PREFIXES = ("/dev/outbox", "/api")
# The records a route may name by id. `<any(product, key):owner_type>/<int:owner_id>` names a product or a key.
ID_KINDS = {"customer_id", "account_id", "object_id", "product_id", "key_id", "machine_id", "batch_id", "price_id",
            "subscription_id", "drift_id"}
# A record that lives under another: under its parent's id in a route, another parent's child is not there.
PARENT_OF = {"account_id": "customer_id", "machine_id": "key_id", "price_id": "product_id"}
# Pages anyone may open. A view newly marked `@public` must be reviewed and added here.
PUBLIC_ENDPOINTS = {
    "vendors.register", "vendors.finish_registration", "vendors.login", "vendors.forgot_password",
    "vendors.reset_password",
    "accounts.login", "accounts.forgot_password", "accounts.reset_password", "accounts.verify_email",
    "signup.sign_up", "signup.associate", "signup.confirm",
    "brand_assets.logo", "brand_assets.stylesheet",  # the portal's look, on its login page too
}
# What a portal account that has not accepted the current terms may still use.
# A subscriber asked to accept new terms can still see and manage (cancel) what they pay for.
OPEN_BEFORE_TERMS = {"terms.accept", "terms.decline", "accounts.logout", "subscriptions.index",
                     "subscriptions.refresh", "subscriptions.manage_billing"}
# Ids that name nothing: the largest 32-bit id, and ids beyond what an INTEGER column can hold.
NO_SUCH_IDS = {"missing": 2**31 - 1, "beyond-int32": 2**31, "beyond-int64": 2**64}

# Everything a POST to any vendor or portal form could take: sent where a request must be refused, so a
# missing check would show up as a changed database.
VENDOR_FORM = {
    "name": "Changed", "slug": "changed", "email": "changed@example.test", "password": VENDOR_PASSWORD,
    "company_name": "Changed", "notes": "changed", "max_no_of_devices": "5", "string_value": "changed",
    "int_value": "7", "action": "disable", "signup_enabled": "y", "description": "changed", "period": "30",
    "days": "30", "count": "2", "block": "1", "max_no_of_machines": "1", "f1": "y",
}
PORTAL_FORM = {
    "name": "Changed", "email": "ada@example.test", "company_name": "Changed", "password": "changed-password-1",
    "confirm": "changed-password-1", "current_password": CUSTOMER_PASSWORD, "which": "new",
    "new-name": "Changed", "new-email": "new@example.test", "new-password": "changed-password-1",
}


@dataclass(frozen=True)
class Route:
    endpoint: str
    rule: str
    methods: tuple[str, ...]
    side: str  # "vendor" or "portal"
    public: bool
    ids: tuple[tuple[str, str], ...]  # (parameter, the kind of record it names)
    fixed: tuple[tuple[str, str], ...] = ()  # a parameter of an `any(...)` converter, and the value taken

    @property
    def kinds(self) -> tuple[str, ...]:
        return tuple(kind for _parameter, kind in self.ids)

    def path(self, slug: str, ids: dict[str, int]) -> str:
        values = {"vendor_slug": slug, **dict(self.fixed), **{p: ids[kind] for p, kind in self.ids}}
        return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", lambda m: str(values[m.group(1)]), self.rule)


def _variants(rule) -> list[tuple[tuple, dict]]:
    """One (fixed values, id aliases) per value of each `<any(...):x>`; of an `<any(...):x_type>`, `x_id` then names
    that kind."""
    variants = [((), {})]
    for parameter, converter in rule._converters.items():  # noqa: SLF001 - werkzeug keeps them only there
        if isinstance(converter, AnyConverter):
            stem = parameter.removesuffix("_type")
            variants = [(fixed + ((parameter, item),),
                         {**aliases, f"{stem}_id": f"{item}_id"} if parameter.endswith("_type") else aliases)
                        for fixed, aliases in variants for item in sorted(converter.items)]
    return variants


def routes_of(app) -> list[Route]:
    routes, unclassified = [], []
    for rule in app.url_map.iter_rules():
        if rule.endpoint in OUTSIDE_ENDPOINTS or rule.rule.startswith(OUTSIDE_PREFIXES):
            continue
        methods = tuple(sorted(rule.methods - {"HEAD", "OPTIONS"}))
        if rule.rule.startswith(PORTAL_PREFIX + "/"):
            side = "portal"
        elif rule.rule.startswith("/vendor/") and "vendor_slug" not in rule.arguments:
            side = "vendor"
        else:
            side = None
        public = getattr(app.view_functions[rule.endpoint], "is_public", False)
        for fixed, aliases in _variants(rule):
            parameters = rule.arguments - {"vendor_slug"} - {name for name, _value in fixed}
            ids = tuple(sorted((name, aliases.get(name, name)) for name in parameters))
            if side is None or not set(methods) <= {"GET", "POST"} or not {k for _, k in ids} <= ID_KINDS:
                unclassified.append(f"{rule.rule} {sorted(rule.methods)} ({rule.endpoint})")
                break
            routes.append(Route(rule.endpoint, rule.rule, methods, side, public, ids, fixed))
    assert not unclassified, "routes the access table does not classify: " + "; ".join(unclassified)
    return routes


def send(client, method: str, url: str, *, token: str | None = None, data: dict | None = None,
         headers: dict | None = None):
    if method == "GET":
        return client.get(url, headers=headers)
    form = dict(data or {})
    if token is not None:
        form["csrf_token"] = token
    return client.post(url, data=form, headers=headers)


def outcome(response) -> str:
    location = response.headers.get("Location") or response.headers.get("HX-Redirect") or ""
    return f"{response.status_code} {location}".strip()


def form_for(route: Route) -> dict:
    return VENDOR_FORM if route.side == "vendor" else PORTAL_FORM


def test_every_route_is_classified(app):
    routes = routes_of(app)
    assert {r.side for r in routes} == {"vendor", "portal"}
    assert not [r.rule for r in app.url_map.iter_rules() if r.rule.startswith("/dev/outbox")], (
        "the development outbox must not be served when mail goes out by SMTP")


def test_public_pages_are_the_known_ones(app):
    assert {r.endpoint for r in routes_of(app) if r.public} == PUBLIC_ENDPOINTS


def test_a_stranger_is_sent_to_log_in(app, world):
    client = app.test_client()
    token = csrf_token(client, "/vendor/login")
    before = db_rows(app)
    problems = []
    for route in routes_of(app):
        for method in route.methods:
            url = world.url(route)
            if route.public:
                # Public forms are tried with bad and good input in test_bad_input.py; here: they open.
                if method == "GET" and (response := client.get(url)).status_code != 200:
                    problems.append(f"GET {url} → {outcome(response)}, expected the page")
                continue
            response = send(client, method, url, token=token, data=form_for(route))
            expected = world.login_url(route)
            if redirect_path(response) != expected:
                problems.append(f"{method} {url} → {outcome(response)}, expected a redirect to {expected}")
            elif method == "GET":
                back = parse_qs(urlsplit(response.headers["Location"]).query).get("next")
                if back != [url]:
                    problems.append(f"GET {url} → next={back}, expected to come back to {url}")
    assert not problems, "\n".join(problems)
    assert db_rows(app) == before


def _choices(route: Route, world: World, *, portal: bool) -> list[dict]:
    """Ways to name records that are not the requester's: one dict of ids (by kind) each."""
    options = []
    for kind in route.kinds:
        names = {"own": world.own[kind], "foreign": world.foreign[kind], **NO_SUCH_IDS}
        # A portal account's neighbour is another customer; a vendor's, a child under another parent.
        if kind in world.neighbour and (portal or PARENT_OF.get(kind) in route.kinds):
            names["neighbour"] = world.neighbour[kind]
        options.append([(label, kind, value) for label, value in names.items()])
    return [{kind: value for _label, kind, value in picked} for picked in itertools.product(*options)
            if any(label != "own" for label, _kind, _value in picked)]


def _not_theirs_problems(app, world: World, client, token: str, side: str) -> tuple[int, list[str]]:
    checked, problems = 0, []
    for route in routes_of(app):
        if route.side != side or not route.ids:
            continue
        for ids in _choices(route, world, portal=side == "portal"):
            for method in route.methods:
                url = world.url(route, ids={**world.own, **ids})
                response = send(client, method, url, token=token, data=form_for(route))
                checked += 1
                if response.status_code != 404:
                    problems.append(f"{method} {url} → {outcome(response)}, expected 404")
    return checked, problems


def test_a_vendor_cannot_name_records_that_are_not_theirs(app, world, vendor_client):
    token = csrf_token(vendor_client, "/vendor/settings")
    before = db_rows(app)
    checked, problems = _not_theirs_problems(app, world, vendor_client, token, "vendor")
    assert checked, "no vendor route takes an id: the check ran on nothing"
    assert not problems, "\n".join(problems)
    assert db_rows(app) == before


def test_a_portal_account_cannot_name_another_customers_records(app, world, portal_client):
    # Written for whichever portal routes take ids (today a license's key and machine), present and future.
    token = csrf_token(portal_client, f"/Portal/@{world.slug}/ChangePassword")
    before = db_rows(app)
    _checked, problems = _not_theirs_problems(app, world, portal_client, token, "portal")
    assert not problems, "\n".join(problems)
    assert db_rows(app) == before


def test_the_portal_ownership_check_catches_a_route_that_leaks(app, request):
    probe = portal_blueprint("probe", __name__)

    @probe.route("/Leaky/<int:customer_id>")
    def leaky(customer_id: int):
        return "any customer's record"

    @probe.route("/Careful/<int:customer_id>")
    def careful(customer_id: int):
        if customer_id != g.customer.id:
            abort(404)
        return "your record"

    app.register_blueprint(probe)
    world, client = request.getfixturevalue("world"), request.getfixturevalue("portal_client")
    token = csrf_token(client, f"/Portal/@{world.slug}/ChangePassword")
    _checked, problems = _not_theirs_problems(app, world, client, token, "portal")
    flagged = {problem.split(" →")[0] for problem in problems}
    assert all("/Leaky/" in url for url in flagged), problems
    for owner in (world.neighbour, world.foreign):
        assert f"GET /Portal/@{world.slug}/Leaky/{owner['customer_id']}" in flagged


def test_no_page_shows_another_owners_records(app, world, vendor_client, portal_client):
    # A page on our records shows nothing of another vendor's; a portal page nothing of another customer's.
    problems = []
    for route in routes_of(app):
        if route.public or "GET" not in route.methods:
            continue
        client, owners = (vendor_client, ["foreign"]) if route.side == "vendor" else (portal_client, world.texts)
        url = world.url(route)
        for headers in ({}, {"HX-Request": "true"}):
            response = client.get(url, headers=headers)
            if response.mimetype.startswith("image/"):  # the vendor's own logo: pixels, no records
                continue
            html = response.get_data(as_text=True)
            problems += [f"GET {url} {headers or ''}shows {owner} {kind} {text!r}" for owner in owners
                         for kind, text in world.texts[owner].items() if text in html]
    assert not problems, "\n".join(problems)


def test_a_portal_login_means_nothing_on_another_vendors_portal(app, world, portal_client):
    token = csrf_token(portal_client, f"/Portal/@{world.slug}/ChangePassword")
    before = db_rows(app)
    problems = []
    for route in routes_of(app):
        if route.side != "portal" or route.public:
            continue
        for method in route.methods:
            url = world.url(route, slug=world.other_slug, ids=world.foreign)
            response = send(portal_client, method, url, token=token, data=PORTAL_FORM)
            expected = world.login_url(route, world.other_slug)
            if redirect_path(response) != expected:
                problems.append(f"{method} {url} → {outcome(response)}, expected a redirect to {expected}")
    assert not problems, "\n".join(problems)
    assert db_rows(app) == before
    assert portal_client.get(f"/Portal/@{world.slug}/").status_code == 200, "the own portal's login was lost"


def test_dashboard_and_portal_logins_do_not_open_each_other(app, world, vendor_client, portal_client):
    tokens = {vendor_client: csrf_token(vendor_client, "/vendor/settings"),
              portal_client: csrf_token(portal_client, f"/Portal/@{world.slug}/ChangePassword")}
    before = db_rows(app)
    problems = []
    for route in routes_of(app):
        if route.public:
            continue
        client = portal_client if route.side == "vendor" else vendor_client
        for method in route.methods:
            url = world.url(route)
            response = send(client, method, url, token=tokens[client], data=form_for(route))
            if redirect_path(response) != world.login_url(route):
                problems.append(f"{method} {url} → {outcome(response)}, expected {world.login_url(route)}")
    assert not problems, "\n".join(problems)
    assert db_rows(app) == before


@pytest.mark.parametrize("htmx", [False, True], ids=["page", "htmx"])
def test_the_current_terms_must_be_accepted_first(app, make, vendor, world, portal_client, htmx):
    endpoints = {r.endpoint for r in routes_of(app)}
    assert OPEN_BEFORE_TERMS <= endpoints, f"stale names: {OPEN_BEFORE_TERMS - endpoints}"
    token = csrf_token(portal_client, f"/Portal/@{world.slug}/ChangePassword")
    make.terms(vendor)
    terms_page = f"/Portal/@{world.slug}/Terms"
    headers = {"HX-Request": "true"} if htmx else None
    before = db_rows(app)
    problems = []
    for route in routes_of(app):
        if route.side != "portal" or route.public or route.endpoint in OPEN_BEFORE_TERMS:
            continue
        for method in route.methods:
            url = world.url(route)
            response = send(portal_client, method, url, token=token, data=PORTAL_FORM, headers=headers)
            if htmx:
                sent_on = urlsplit(response.headers.get("HX-Redirect", "")).path
                ok = response.status_code == 200 and sent_on == terms_page
            else:
                ok = response.status_code == 303 and redirect_path(response) == terms_page
            if not ok:
                problems.append(f"{method} {url} → {outcome(response)}, expected to be sent to {terms_page}")
    assert not problems, "\n".join(problems)
    assert db_rows(app) == before
    assert portal_client.get(terms_page).status_code == 200


def _neutral(html: str) -> str:
    return re.sub(r'"X-CSRFToken": "[^"]*"', '"X-CSRFToken": ""', html)


@pytest.mark.parametrize("case", ["unknown slug", "portal off"])
def test_a_portal_that_is_not_there_is_a_neutral_404(app, world, vendor_client, portal_client, case):
    stranger = app.test_client()
    tokens = {stranger: csrf_token(stranger, "/vendor/login"),
              portal_client: csrf_token(portal_client, f"/Portal/@{world.slug}/ChangePassword")}
    slug = "no-such-vendor" if case == "unknown slug" else world.slug
    if case == "portal off":
        response = post_form(vendor_client, "/vendor/settings", {"signup_enabled": "y"})
        assert response.status_code == 303 and response.headers["Location"] == "/vendor/settings"
    not_found = _neutral(stranger.get("/no/such/page").get_data(as_text=True))
    before = db_rows(app)
    problems = []
    for client in (stranger, portal_client):
        for route in routes_of(app):
            if route.side != "portal":
                continue
            for method in route.methods:
                url = world.url(route, slug=slug)
                response = send(client, method, url, token=tokens[client], data=PORTAL_FORM)
                if response.status_code != 404 or _neutral(response.get_data(as_text=True)) != not_found:
                    problems.append(f"{method} {url} → {outcome(response)}, expected the plain 404 page")
    assert not problems, "\n".join(problems)
    assert db_rows(app) == before

    if case == "portal off":
        response = post_form(vendor_client, "/vendor/settings", {"portal_enabled": "y", "signup_enabled": "y"})
        assert response.status_code == 303 and response.headers["Location"] == "/vendor/settings"
        back = portal_client.get(f"/Portal/@{world.slug}/")
        assert redirect_path(back) == f"/Portal/@{world.slug}/Login", "turning the portal off must end sessions"


@pytest.mark.parametrize("token", [None, "not-the-token"], ids=["missing", "wrong"])
def test_a_post_without_the_csrf_token_is_refused(app, world, vendor_client, portal_client, token):
    before = db_rows(app)
    problems = []
    for route in routes_of(app):
        if "POST" not in route.methods:
            continue
        client = vendor_client if route.side == "vendor" else portal_client
        url = world.url(route)
        response = send(client, "POST", url, token=token, data=form_for(route))
        if response.status_code != 400:
            problems.append(f"POST {url} → {outcome(response)}, expected 400")
    assert not problems, "\n".join(problems)
    assert db_rows(app) == before
    assert vendor_client.get("/vendor/").status_code == 200, "a refused logout must not log out"
    assert portal_client.get(f"/Portal/@{world.slug}/").status_code == 200, "a refused logout must not log out"


def _header_problems(response) -> list[str]:
    policy = response.headers.get("Content-Security-Policy", "")
    directives = {part.split()[0]: part.split()[1:] for part in policy.split(";") if part.strip()}
    problems = [f"{name} is {directives.get(name)}" for name in ("object-src", "base-uri", "frame-ancestors")
                if directives.get(name) != ["'none'"]]
    problems += [f"CSP allows {word}" for word in ("'unsafe-inline'", "'unsafe-eval'") if word in policy]
    if response.headers.get("X-Content-Type-Options") != "nosniff":
        problems.append("no X-Content-Type-Options: nosniff")
    return problems


@pytest.mark.parametrize("role", ["stranger", "vendor user", "portal account"])
def test_get_requests_change_nothing_and_carry_security_headers(app, world, request, role):
    client = {"stranger": app.test_client, "vendor user": lambda: request.getfixturevalue("vendor_client"),
              "portal account": lambda: request.getfixturevalue("portal_client")}[role]()
    before = db_rows(app)
    problems = []
    for route in routes_of(app):
        if "GET" not in route.methods:
            continue
        url = world.url(route)
        response = client.get(url)
        if response.status_code >= 500:
            problems.append(f"GET {url} → {response.status_code}")
        problems += [f"GET {url}: {problem}" for problem in _header_problems(response)]
    response = client.get("/no/such/page")
    problems += [f"404 page: {problem}" for problem in _header_problems(response)]
    assert not problems, "\n".join(problems)
    assert db_rows(app) == before


OFF_SITE = ["https://evil.example", "//evil.example", "/\\evil.example"]


def _log_in_with_next(side: str, target: str, *, app, make, vendor, account, request) -> tuple:
    """Log in (or accept the terms) with `next=target`; the response and where it should land by default."""
    if side == "terms":
        client = request.getfixturevalue("portal_client")
        make.terms(vendor)
        url = f"/Portal/@{vendor.slug}/Terms?{urlencode({'next': target})}"
        data = {}
        home = f"/Portal/@{vendor.slug}/"
    elif side == "portal":
        client = app.test_client()
        url = f"/Portal/@{vendor.slug}/Login?{urlencode({'next': target})}"
        data = {"email": account.email, "password": CUSTOMER_PASSWORD}
        home = f"/Portal/@{vendor.slug}/"
    else:
        client = app.test_client()
        url = f"/vendor/login?{urlencode({'next': target})}"
        data = {"email": make.owner(vendor).email, "password": VENDOR_PASSWORD}
        home = "/vendor/"
    response = client.post(url, data={"csrf_token": csrf_token(client, url), **data})
    return response, home


@pytest.mark.parametrize("target", OFF_SITE)
@pytest.mark.parametrize("side", ["vendor", "portal", "terms"])
def test_next_pointing_off_site_is_ignored(app, make, vendor, account, request, side, target):
    response, home = _log_in_with_next(side, target, app=app, make=make, vendor=vendor, account=account,
                                       request=request)
    assert response.status_code == 303
    location = response.headers["Location"]
    assert "evil.example" not in location
    assert urlsplit(location).netloc in ("", "localhost")
    assert urlsplit(location).path == home


@pytest.mark.parametrize("side", ["vendor", "portal", "terms"])
def test_next_on_this_site_is_followed(app, make, vendor, account, request, side):
    target = "/vendor/customers/?q=ada" if side == "vendor" else f"/Portal/@{vendor.slug}/ChangePassword"
    response, _home = _log_in_with_next(side, target, app=app, make=make, vendor=vendor, account=account,
                                        request=request)
    assert response.status_code == 303
    assert response.headers["Location"] == target
