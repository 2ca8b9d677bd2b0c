"""Any parameters to any method: never a 5xx, always JSON, and a refused call writes nothing."""

import json
import urllib.parse

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portal.api.calls import METHODS
from tests.support.world import db_rows

NAMES = ["ProductId", "Key", "MachineCode", "CustomerId", "Id", "Name", "IntValue", "StringValue", "NoOfDays",
         "Feature", "Notes", "NumberOfMachines", "FieldsToReturn", "FloatingTimeInterval", "MaxOverdraft", "Sign",
         "metadata", "Page", "OrderBy", "SearchQuery", "Secret", "Period", "NoOfKeys", "EnableBound", "Bound",
         "ReferencerType", "ReferencerId", "Email", "Floating", "Limit"]
# Tables a successful call may touch besides its own records: the token's "last used" and the signing key.
NOT_COMPARED = {"api_token", "signing_key"}


def _values(product_id: int, key: str, customer_id: int):
    good = st.sampled_from([str(product_id), key, str(customer_id), "m-1", "True", "False", "None", "1", "0", ""])
    bad = st.one_of(st.text(max_size=30), st.integers(min_value=-(2**70), max_value=2**70).map(str),
                    st.sampled_from(["2147483648", "-1", "1e9", "\x00", "\ud800", "ID descending", "f1 =="]))
    return st.one_of(good, bad)


def _rows(app) -> dict:
    return {table: rows for table, rows in db_rows(app).items() if table not in NOT_COMPARED}


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                   HealthCheck.too_slow])
@given(data=st.data())
def test_any_call_answers_json_below_500_and_a_refusal_writes_nothing(api_app, api, make, vendor, data):
    if not hasattr(api_app, "_world"):
        product = make.product(vendor)
        key = make.key(product, machines=("m-1",), max_no_of_machines=2)
        customer = make.customer(vendor)
        api_app._world = (api.token(vendor), _values(product.id, key.key, customer.id))
    token, values = api_app._world
    method = data.draw(st.sampled_from(sorted(METHODS)))
    params = data.draw(st.dictionaries(st.sampled_from(NAMES), values, max_size=6))
    before = _rows(api_app)
    response = api_app.test_client().post(f"/api/{method}", data=urllib.parse.urlencode(
        {"token": token, **params}, encoding="utf-8", errors="surrogatepass"),
        content_type="application/x-www-form-urlencoded")
    answer = json.loads(response.get_data(as_text=True))
    assert response.status_code < 500 and answer["result"] in (0, 1), (method, params, answer)
    if answer["result"] == 1:
        assert _rows(api_app) == before, (method, params, answer)
