"""Every form, htmx endpoint and page of the vendor and portal sides, found in `app.url_map` (a new form is fuzzed
without editing this file), sent random, huge, malformed and hostile values and other tenants' ids, in the path
and in the body: never a 5xx, and an answer that refuses (4xx) wrote nothing. The Web API's methods are fuzzed the
same way in tests/api/test_any_input.py; Stripe's webhook is fuzzed here too (it must refuse without a signature).

A bounded run in `make test`; `FUZZ_EXAMPLES` (2000) examples under the `long` marker.
"""

import os
import re
import urllib.parse

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portal.billing.connection import StripeAccess
from tests.support.pages import csrf_token
from tests.support.world import db_rows
from tests.test_access import NO_SUCH_IDS, form_for, routes_of

# Leaving would end the fuzzing client's login and leave the rest of the run on the login page.
NOT_FUZZED = {"vendors.logout", "accounts.logout", "terms.decline"}
_FIELD = re.compile(r'<(?:input|select|textarea)[^>]*?\sname="([^"]+)"')
HOSTILE = ["", " ", "0", "-1", "1", "2147483648", "-9223372036854775809", "9" * 400, "1e309", "NaN", "y", "on",
           "<script>alert(1)</script>", "\"><img src=x onerror=alert(1)>", "' OR 1=1 --", "\x00", "a\r\nb",
           "../../etc/passwd", "https://evil.example/", "//evil.example", "ünï©ødé 🎉", "\ud800", "x" * 70_000]


def values(world) -> st.SearchStrategy[str]:
    ids = sorted({str(v) for v in [*world.own.values(), *world.foreign.values(), *NO_SUCH_IDS.values()]})
    return st.one_of(st.sampled_from(HOSTILE), st.sampled_from(ids), st.text(max_size=60),
                     st.integers(min_value=-(2**70), max_value=2**70).map(str))


class Fuzzer:
    """The routes, each side's logged-in client and CSRF token, and the fields each page's form shows."""

    def __init__(self, app, world, vendor_client, portal_client):
        # Stripe is a closed port here: a form that calls Stripe must answer its outage, never a 5xx.
        app.config["STRIPE_API_BASE"] = "http://127.0.0.1:9"
        app.extensions["stripe_access"] = StripeAccess(app.extensions["encryptor"], "http://127.0.0.1:9")
        self.app, self.world = app, world
        self.routes = [(route, method) for route in routes_of(app) if route.endpoint not in NOT_FUZZED
                       for method in route.methods]
        self.clients = {"vendor": vendor_client, "portal": portal_client}
        self.tokens = {"vendor": csrf_token(vendor_client, "/vendor/settings"),
                       "portal": csrf_token(portal_client, f"/Portal/@{world.slug}/")}
        self.anonymous = app.test_client()
        self.anonymous_token = csrf_token(self.anonymous, "/vendor/login")
        self.fields: dict[str, list[str]] = {}

    def fields_of(self, route, client) -> list[str]:
        if route.endpoint not in self.fields:
            found = set(form_for(route))
            page = client.get(self.world.url(route)) if "GET" in route.methods else None
            if page is not None and page.mimetype == "text/html":  # not the logo's image
                found |= set(_FIELD.findall(page.get_data(as_text=True)))
            self.fields[route.endpoint] = sorted(found - {"csrf_token"})
        return self.fields[route.endpoint]


def _fuzz_one(fuzzer: Fuzzer, data) -> None:
    world = fuzzer.world
    route, method = data.draw(st.sampled_from(fuzzer.routes), label="route")
    client, token = ((fuzzer.anonymous, fuzzer.anonymous_token) if route.public
                     else (fuzzer.clients[route.side], fuzzer.tokens[route.side]))
    ids = {kind: data.draw(st.sampled_from([world.own[kind], world.foreign[kind], *NO_SUCH_IDS.values()]),
                           label=kind) for kind in route.kinds}
    url = world.url(route, ids={**world.own, **ids})
    body = data.draw(st.dictionaries(st.sampled_from(fuzzer.fields_of(route, client)), values(world), max_size=8),
                     label="fields")
    encoded = urllib.parse.urlencode(body, encoding="utf-8", errors="surrogatepass")
    before = db_rows(fuzzer.app)
    if method == "GET":
        response = client.get(url.split("?")[0] + "?" + encoded, headers=data.draw(
            st.sampled_from([{}, {"HX-Request": "true"}]), label="htmx"))
    else:
        encoded += "&" + urllib.parse.urlencode({"csrf_token": token})
        response = client.post(url, data=encoded, content_type="application/x-www-form-urlencoded",
                               headers=data.draw(st.sampled_from([{}, {"HX-Request": "true"}]), label="htmx"))
    assert response.status_code < 500, (method, url, body, response.status_code)
    if response.status_code >= 400:
        assert db_rows(fuzzer.app) == before, ("a refused request wrote", method, url, body)


# A header value cannot hold a line break (the HTTP client refuses to send one).
SIGNATURES = st.one_of(st.text(st.characters(exclude_characters="\r\n", exclude_categories=("Cs",)), max_size=80),
                       st.sampled_from(["t=1,v1=00", "t=,v1=", "v1=" + "0" * 64, "t=99999999999,v1=zz"]))


def _webhook_one(app, data) -> None:
    body = data.draw(st.one_of(st.binary(max_size=2000), st.text(max_size=500).map(str.encode)), label="body")
    before = db_rows(app)
    response = app.test_client().post(f"/stripe/webhook/{data.draw(st.sampled_from(['acme.io', 'globex', 'x']))}",
                                      data=body, headers={"Stripe-Signature": data.draw(SIGNATURES, label="signature")})
    assert response.status_code == 400 and db_rows(app) == before


def _fuzz_test(examples: int):
    @settings(max_examples=examples, deadline=None, derandomize=examples <= 400,
              suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                     HealthCheck.data_too_large])
    @given(data=st.data())
    def test(app, world, vendor_client, portal_client, data):
        if not hasattr(app, "_fuzzer"):
            app._fuzzer = Fuzzer(app, world, vendor_client, portal_client)
        if data.draw(st.integers(0, 19), label="webhook?") == 0:
            _webhook_one(app, data)
        else:
            _fuzz_one(app._fuzzer, data)

    return test


test_every_form_and_fragment_survives_any_input = _fuzz_test(150)
test_every_form_and_fragment_survives_any_input_at_length = pytest.mark.long(
    _fuzz_test(int(os.environ.get("FUZZ_EXAMPLES", "2000"))))
