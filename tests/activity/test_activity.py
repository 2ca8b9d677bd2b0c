"""The audit trail in words, a record's latest five changes, and the vendor-wide activity page with its filters."""

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import select

from portal.activity.services import Filters, activity, history_of
from portal.activity.words import ACTIONS, browser_of, changes_of
from portal.dataobjects import services as dataobjects
from portal.keys import services as keys
from portal.models import AuditEvent
from portal.terms.services import accept_terms
from tests.support.pages import post_form

CHROME = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 "
          "Safari/537.36")


@pytest.fixture
def product(make, vendor):
    return make.product(vendor, name="Studio", f3_name="Voice")


def _newest(db, action: str, subject_type: str = "key") -> AuditEvent:
    return db.exec(select(AuditEvent).where(AuditEvent.action == action, AuditEvent.subject_type == subject_type)
                   .order_by(AuditEvent.id.desc())).first()


def test_changes_are_told_in_words_with_feature_names_and_days(db, make, product):
    key = make.key(product, period=30)
    key.expires = datetime(2027, 1, 1, 12, 0, tzinfo=UTC)
    db.add(key)
    db.commit()
    keys.set_blocked(db, key=key, blocked=True, actor="owner@acme.io")
    keys.extend_key(db, key=key, days=31, actor="owner@acme.io")
    keys.change_details(db, key=key, features={"f3": True}, actor="owner@acme.io")
    db.commit()
    products = {product.id: product, ("key", key.id): product}
    assert changes_of(_newest(db, "key.blocked"), products) == []  # "Blocked" says it all
    extended = changes_of(_newest(db, "key.extended"), products)
    assert ("Expiry", "2027-01-01", "2027-02-01") in extended and ("Period (days)", "30", "61") in extended
    assert changes_of(_newest(db, "key.changed"), products) == [("Voice", "off", "on")]
    created = changes_of(_newest(db, "key.created"), products)
    assert ("Key", None, key.key) in created and not any(label in ("Id", "Created") for label, _, _ in created)


def test_a_prices_key_settings_are_told_in_words_not_json():
    event = AuditEvent(vendor_id=1, actor="owner", action="stripe_price.changed", subject_type="product", subject_id=1,
                       before='{"skm": "{\\"MaxNoOfMachines\\": 0}"}',
                       after='{"skm": "{\\"F1\\": true, \\"MaxNoOfMachines\\": 3, \\"TrialDays\\": 14}"}')
    assert changes_of(event, {}) == [
        ("Key settings (skm)", "MaxNoOfMachines 0", "F1 on, MaxNoOfMachines 3, TrialDays 14")]


def test_a_user_agent_is_summarised(db, make, vendor, customer, account):
    assert browser_of(CHROME) == "Chrome 120 on Windows 10"
    assert browser_of("curl/8.5.0") == "curl 8"
    accept_terms(db, account=account, url="https://acme.example/terms", user_agent=CHROME)
    db.commit()
    lines = changes_of(_newest(db, "account.terms_accepted", "customer"), {})
    assert ("Browser", None, "Chrome 120 on Windows 10") in lines


def test_a_data_objects_owner_is_named_not_numbered(db, make, vendor, product, vendor_client):
    key = make.key(product)
    dataobjects.add_object(db, vendor_id=vendor.id, name="seats", int_value=3, referencer_type=dataobjects.KEY,
                           referencer_id=key.id, actor="owner@acme.io")
    dataobjects.add_object(db, vendor_id=vendor.id, name="channel", string_value="beta",
                           referencer_type=dataobjects.PRODUCT, referencer_id=product.id, actor="owner@acme.io")
    kept = dataobjects.add_object(db, vendor_id=vendor.id, name="region", string_value="eu", actor="owner@acme.io")
    dataobjects.delete_object(db, data_object=kept, actor="owner@acme.io")
    db.commit()
    page = vendor_client.get("/vendor/activity/?type=data_object").get_data(as_text=True)
    assert "Belongs to" in page and "A key of Studio" in page and "Product Studio" in page
    assert "The vendor&#39;s account" in page and "Referencer" not in page
    edited = dataobjects.find_by_name(db, vendor_id=vendor.id, name="channel", referencer_type=dataobjects.PRODUCT,
                                      referencer_id=product.id)
    dataobjects.update_object(db, data_object=edited, name="channel", string_value="stable", int_value=0,
                              actor="owner@acme.io")
    db.commit()
    assert changes_of(_newest(db, "data_object.updated", "data_object"), {}) == [("Text", "beta", "stable")]


def test_history_shows_the_latest_five_and_links_to_all(vendor_client, db, make, vendor, product):
    key = make.key(product)
    for days in range(1, 7):
        keys.extend_key(db, key=key, days=days, actor="owner@acme.io")
    db.commit()
    history = history_of(db, vendor_id=vendor.id, subject_type="key", subject_id=key.id)
    assert len(history.events) == 5 and history.more
    page = vendor_client.get(f"/vendor/keys/{key.id}").get_data(as_text=True)
    assert page.count(">Expiry changed<") == 5 and ">Key created<" not in page
    assert f'href="/vendor/activity/?type=key&amp;id={key.id}">Show all' in page
    assert '<time datetime="' in page and "+00:00" not in page
    everything = vendor_client.get(f"/vendor/activity/?type=key&id={key.id}").get_data(as_text=True)
    assert everything.count(">Expiry changed<") == 6 and ">Key created<" in everything


def test_activity_is_the_vendors_own_newest_first_by_keyset_pages(app, db, make, vendor, other_vendor,
                                                                   vendor_client, product):
    theirs = make.key(make.product(other_vendor, name="Theirs"))
    keys.set_blocked(db, key=theirs, blocked=True, actor="owner@globex")
    made = [make.key(product) for _ in range(4)]
    for key in made[:3]:
        keys.set_blocked(db, key=key, blocked=True, actor="owner@acme.io")
    db.commit()
    page = activity(db, vendor_id=vendor.id, filters=Filters(action="key.blocked"), limit=2)
    assert [e.subject_id for e in page.events] == [made[2].id, made[1].id]
    rest = activity(db, vendor_id=vendor.id, filters=Filters(action="key.blocked"), before=page.next_before, limit=2)
    assert [e.subject_id for e in rest.events] == [made[0].id] and rest.next_before is None
    assert page.labels[("key", made[2].id)] == f"Key {made[2].key_number} of Studio"
    week = Filters(action="key.blocked", actor="owner@acme.io",
                                  since=(datetime.now(UTC) - timedelta(days=7)).date())
    assert len(activity(db, vendor_id=vendor.id, filters=week).events) == 3
    assert activity(db, vendor_id=vendor.id, filters=Filters(until=week.since - timedelta(days=1))).events == []
    shown = vendor_client.get("/vendor/activity/?action=key.blocked").get_data(as_text=True)
    assert shown.count(">Blocked<") == 3 and "Theirs" not in shown and "owner@globex" not in shown
    assert f'href="/vendor/keys/{made[0].id}"' in shown
    # Another vendor's event as the page mark is no page of this vendor's.
    foreign = db.exec(select(AuditEvent.id).where(AuditEvent.vendor_id == other_vendor.id)).first()
    assert vendor_client.get(f"/vendor/activity/?before={foreign}").status_code == 404


def test_who_is_found_as_the_trail_shows_them(db, make, vendor, other_vendor, vendor_client, product):
    key = make.key(product)
    for actor in ("vendor_user:1 owner@demo.test", "API token Demo token", "account:3 ada@example.com"):
        keys.extend_key(db, key=key, days=1, actor=actor)
    keys.extend_key(db, key=make.key(make.product(other_vendor, name="Theirs")), days=1, actor="API token Demo token")
    db.commit()

    def who(typed):
        return [event.actor for event in activity(db, vendor_id=vendor.id, filters=Filters(actor=typed)).events
                if event.action == "key.extended"]

    assert who("owner@demo.test") == ["vendor_user:1 owner@demo.test"]
    assert who("demo TOKEN") == ["API token Demo token"]  # the other vendor's token is not this vendor's
    assert who("ada@example.com (portal login)") == ["account:3 ada@example.com"]
    assert who("vendor_user:1 owner@demo.test") == ["vendor_user:1 owner@demo.test"]
    assert who("nobody@example.com") == []
    assert who("100%_") == []  # a LIKE's wildcards are letters here
    keys.extend_key(db, key=key, days=1, actor="stripe evt_1Abc")
    db.commit()
    assert who("Stripe (event evt_1Abc)") == who("evt_1a") == ["stripe evt_1Abc"]
    # A token by its name and id (as the suggestions show it), or by its name: then also as recorded before ids.
    for actor in ("api_token:7 Demo token", "api_token:17 Demo token"):
        keys.extend_key(db, key=key, days=1, actor=actor)
    db.commit()
    assert who("API token Demo token (#7)") == ["api_token:7 Demo token"]
    assert who("api token demo token") == ["api_token:17 Demo token", "api_token:7 Demo token", "API token Demo token"]
    assert who("API token Demo token (#1)") == []
    keys.extend_key(db, key=key, days=1, actor="account:4 demo token@example.test")  # not a token's
    db.commit()
    assert "account:4 demo token@example.test" not in who("API token Demo token")
    # The start of what the list shows finds them all: every token, every portal login, every Stripe event.
    assert set(who("API token")) == set(who("api token demo token"))
    assert who("(portal login)") == who("portal login") == ["account:4 demo token@example.test",
                                                           "account:3 ada@example.com"]
    assert who("Stripe (event") == who("stripe") == ["stripe evt_1Abc"]
    page = vendor_client.get("/vendor/activity/").get_data(as_text=True)
    assert '<option value="ada@example.com (portal login)">' in page and '<option value="account:3' not in page


def test_bad_filters_are_refused_at_the_field(vendor_client):
    for query, message in [
        ("id=abc&type=key", "Give a whole number, like 3."),
        (f"id={10 ** 400}&type=key", "A record id is a whole number from 1 to 2,147,483,647."),  # no float overflow
        ("id=0&type=key", "A record id is a whole number from 1 to 2,147,483,647."),
        ("id=5", "Choose the kind of record this id belongs to."),
        ("since=2026-12-05&until=2026-12-01", "The last day comes before the first."),
        ("since=yesterday", "Give a date that exists, as YYYY-MM-DD"),
        ("action=key.exploded", "Choose one of the options."),
    ]:
        response = vendor_client.get(f"/vendor/activity/?{query}")
        assert response.status_code == 400, query
        page = response.get_data(as_text=True)
        assert message in page and 'class="field-error"' in page


def test_every_change_the_portal_records_can_be_chosen_in_the_what_filter(vendor_client, customer):
    """A newcomer's find: turning association on or off, the brand, a vendor's password reset and the keys' data
    objects set back were recorded but not in the filter, which refused them as "Choose one of the options"."""
    page = f"/vendor/customers/{customer.id}"
    post_form(vendor_client, f"{page}/association", {"action": "enable"}, page=page)
    response = vendor_client.get("/vendor/activity/?action=customer.association_enabled")
    shown = response.get_data(as_text=True)
    assert response.status_code == 200 and "Association link made (Customer)</option>" in shown
    assert '<td data-label="What">Association link made</td>' in shown and "Ada Lovelace</a>" in shown
    assert "Keys&#39; data objects set back (Data object)</option>" in shown
    # Every string in the code that reads as a change of a kind of record (passed as action= or through a variable
    # or argument), but for the foreign keys' "table.id".
    kinds = "|".join(("key", "key_batch", "customer", "account", "product", "data_object", "data_objects", "stripe",
                      "stripe_price", "subscription", "api_token", "vendor", "vendor_user"))
    recorded = set()
    for source in (Path(__file__).parents[2] / "portal").rglob("*.py"):
        text = source.read_text()
        recorded |= set(re.findall(rf'"((?:{kinds})\.[a-z_]+)"', text)) - {f"{kind}.id" for kind in kinds.split("|")}
        recorded |= {f"customer.association_{verb}d" for verb in ("enable", "regenerate", "disable")
                     if 'action=f"customer.association_{action}d"' in text}
    assert {"vendor.brand_changed", "key.renewed", "account.password_reset"} <= recorded
    assert recorded - set(ACTIONS) == set()


def test_who_did_it_reads_as_a_person_reads_it():
    from portal.activity.words import actor_words

    assert actor_words("account:7 ada@example.com") == "ada@example.com (portal login)"
    assert actor_words("vendor_user:1 owner@acme.test") == "owner@acme.test"
    assert actor_words("vendor_user:3") == "Vendor user 3"
    assert actor_words("stripe evt_1Abc") == "Stripe (event evt_1Abc)"
    assert actor_words("signup grace@example.test") == "grace@example.test (sign-up)"
    assert actor_words("api_token:7 Build server") == "API token Build server (#7)"
    assert actor_words("API token Build server") == "API token Build server"  # as changes were recorded before ids
