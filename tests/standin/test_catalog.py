"""Customers, products and prices: metadata merging, lists, search, expansion, idempotency and errors."""

import pytest
import stripe


def test_customer_metadata_merges_and_an_empty_value_removes_a_key(sdk):
    customer = sdk.v1.customers.create(params={"email": "ann@example.com", "metadata": {"a": "1", "b": "2"}})

    updated = sdk.v1.customers.update(customer.id, params={"metadata": {"b": "", "c": "3"}, "name": "Ann"})

    assert updated.metadata.to_dict() == {"a": "1", "c": "3"}
    assert updated.name == "Ann"
    event = sdk.v1.events.list(params={"type": "customer.updated"}).data[0]
    assert event.data.previous_attributes["metadata"].to_dict() == {"b": "2", "c": None}


def test_customers_are_found_by_metadata_and_by_email(sdk):
    ann = sdk.v1.customers.create(params={"email": "ann@example.com", "metadata": {"skm_customer_id": "12"}})
    sdk.v1.customers.create(params={"email": "bob@example.com", "metadata": {"skm_customer_id": "13"}})

    by_metadata = sdk.v1.customers.search(params={"query": "metadata['skm_customer_id']:'12'"})
    by_email = sdk.v1.customers.search(params={"query": "email:'ann@example.com'"})
    listed = sdk.v1.customers.list(params={"email": "ann@example.com"})

    assert [c.id for c in by_metadata.data] == [ann.id]
    assert [c.id for c in by_email.data] == [ann.id]
    assert [c.id for c in listed.data] == [ann.id]


def test_a_deleted_customer_is_a_tombstone(sdk):
    customer = sdk.v1.customers.create(params={"email": "ann@example.com"})

    sdk.v1.customers.delete(customer.id)

    assert sdk.v1.customers.retrieve(customer.id).deleted is True
    assert sdk.v1.customers.list().data == []


def test_lists_page_newest_first(sdk):
    ids = [sdk.v1.customers.create(params={"name": str(n)}).id for n in range(5)]

    first = sdk.v1.customers.list(params={"limit": 2})
    second = sdk.v1.customers.list(params={"limit": 2, "starting_after": first.data[-1].id})

    assert [c.id for c in first.data + second.data] == ids[::-1][:4]
    assert first.has_more is True


def test_a_price_has_stripes_shape_and_expands_its_product(sdk, catalog):
    product, price, _ = catalog

    found = sdk.v1.prices.retrieve(price.id, params={"expand": ["product"]})

    assert price.id.startswith("price_")
    assert (found.type, found.unit_amount, found.currency, found.active) == ("recurring", 1000, "usd", True)
    assert found.recurring.interval == "month" and found.recurring.interval_count == 1
    assert found.product.id == product.id and found.product.metadata["skm_product_id"] == "5"


def test_prices_update_list_and_search(sdk, catalog):
    product, price, _ = catalog
    yearly = sdk.v1.prices.create(
        params={"product_data": {"name": "Pro yearly"}, "unit_amount": 9000, "currency": "usd",
                "recurring": {"interval": "year", "interval_count": 1}, "nickname": "Yearly",
                "metadata": {"skm": '{"F1":true}'}}
    )

    sdk.v1.prices.update(price.id, params={"active": False, "nickname": "Old", "metadata": {"skm": "{}"}})
    sdk.v1.prices.update(price.id, params={"metadata": {"skm": ""}})

    assert sdk.v1.prices.retrieve(price.id).metadata.to_dict() == {}
    assert [p.id for p in sdk.v1.prices.list(params={"product": product.id}).data] == [price.id]
    assert [p.id for p in sdk.v1.prices.list(params={"active": True}).data] == [yearly.id]
    assert [p.id for p in sdk.v1.prices.search(params={"query": f"product:'{product.id}'"}).data] == [price.id]
    assert yearly.product.startswith("prod_") and yearly.nickname == "Yearly"


def test_products_are_found_by_metadata(sdk, catalog):
    product, _, _ = catalog
    sdk.v1.products.update(product.id, params={"metadata": {"extra": "x"}})

    found = sdk.v1.products.search(params={"query": "metadata['skm_product_id']:'5'"})

    assert [p.id for p in found.data] == [product.id]
    assert found.data[0].metadata.to_dict() == {"skm_product_id": "5", "extra": "x"}


def test_the_same_idempotency_key_returns_the_first_answer(sdk):
    first = sdk.v1.customers.create(params={"email": "ann@example.com"}, options={"idempotency_key": "signup-1"})
    again = sdk.v1.customers.create(params={"email": "ann@example.com"}, options={"idempotency_key": "signup-1"})

    assert again.id == first.id
    assert len(sdk.v1.customers.list().data) == 1
    with pytest.raises(stripe.IdempotencyError):
        sdk.v1.customers.create(params={"email": "bob@example.com"}, options={"idempotency_key": "signup-1"})


def test_an_idempotency_key_is_forgotten_after_a_day_as_stripes_are(sdk, monkeypatch):
    from devtools.stripe_standin import store

    first = sdk.v1.customers.create(params={"email": "ann@example.com"}, options={"idempotency_key": "signup-1"})
    later = store.time.time() + store.IDEMPOTENCY_SECONDS + 1
    monkeypatch.setattr(store.time, "time", lambda: later)
    again = sdk.v1.customers.create(params={"email": "bob@example.com"}, options={"idempotency_key": "signup-1"})
    assert again.id != first.id and again.email == "bob@example.com"  # a new request, not a mismatch


def test_errors_are_shaped_as_stripes(sdk):
    with pytest.raises(stripe.InvalidRequestError) as unknown:
        sdk.v1.customers.create(params={"emial": "typo@example.com"})
    with pytest.raises(stripe.InvalidRequestError) as bad_interval:
        sdk.v1.prices.create(params={"product_data": {"name": "X"}, "unit_amount": 1, "currency": "usd",
                                     "recurring": {"interval": "fortnight"}})

    assert unknown.value.code == "parameter_unknown" and unknown.value.param == "emial"
    assert bad_interval.value.param == "recurring[interval]"
