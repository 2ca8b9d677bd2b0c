"""The vendor's home: counts with the right words, a getting-started list that ticks itself, few questions asked."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import func
from sqlmodel import select

from portal.dataobjects.services import TERMS_URL, add_object
from portal.keys import services as keys
from portal.models import LicenseKey, utcnow
from portal.vendors.home import overview
from tests.support.queries import counted_queries


@pytest.fixture
def product(make, vendor):
    return make.product(vendor, name="Studio")


def _figure(page: str, name: str) -> str:
    start = page.index(f'data-testid="{name}">') + len(f'data-testid="{name}">')
    return page[start:page.index("</article>", start)].replace("</span>", "").replace("</a>", "").strip()


def test_counts_that_matter(vendor_client, db, make, vendor, other_vendor, customer, product):
    now = utcnow()
    make.key(product, customer=customer, machines=("m-1", "m-2"))  # active
    make.key(product, period=10)  # active and expiring within 14 days
    make.key(product, period=10, trial_activation=True, max_no_of_machines=1)  # its period starts at activation
    keys.set_blocked(db, key=make.key(product), blocked=True, actor="owner")
    expired = make.key(product)
    expired.expires = now - timedelta(days=1)
    db.add(expired)
    renewing = make.key(product, period=5)
    renewing.renews_on = renewing.expires
    db.add(renewing)
    db.commit()
    make.key(make.product(other_vendor), period=5, machines=("theirs",))  # another vendor's: counted nowhere
    counts = overview(db, vendor_id=vendor.id).counts
    assert (counts.customers, counts.keys_active, counts.keys_expiring, counts.keys_blocked,
            counts.machines_activated) == (1, 4, 1, 1, 2)
    page = vendor_client.get("/vendor/").get_data(as_text=True)
    assert _figure(page, "customer-count") == "1 customer"
    assert _figure(page, "active-count") == "4 keys active"
    assert _figure(page, "machine-count") == "2 machines activated in 7 days"


def test_each_key_count_opens_the_keys_it_counts_across_products(vendor_client, db, make, vendor, other_vendor,
                                                                   customer, product):
    other_product = make.product(vendor, name="Mixer")
    soon = make.key(product, period=5, customer=customer)
    later = make.key(other_product, period=300)
    unstarted = make.key(product, period=5, trial_activation=True, max_no_of_machines=1)
    blocked = make.key(other_product)
    keys.set_blocked(db, key=blocked, blocked=True, actor="owner")
    db.commit()
    theirs = make.key(make.product(other_vendor), period=5)
    page = vendor_client.get("/vendor/").get_data(as_text=True)
    for standing in ("active", "expiring", "blocked"):
        assert f'href="/vendor/keys/{standing}"' in page
    assert 'href="/vendor/activity/?action=key.machine_activated&amp;since=' in page

    def listed(standing: str, **args) -> list[str]:
        answer = vendor_client.get(f"/vendor/keys/{standing}", query_string=args)
        assert answer.status_code == 200 and theirs.key not in answer.get_data(as_text=True)
        text = answer.get_data(as_text=True)
        return sorted((text.index(k.key), k.key) for k in (soon, later, unstarted, blocked) if k.key in text)

    assert [k for _, k in listed("active")] == [soon.key, unstarted.key, later.key]  # soonest expiry first
    assert [k for _, k in listed("expiring")] == [soon.key]
    assert [k for _, k in listed("blocked")] == [blocked.key]
    text = vendor_client.get("/vendor/keys/expiring").get_data(as_text=True)
    assert "Mixer" not in text and "Studio" in text and 'aria-current="page"' in text
    text = vendor_client.get("/vendor/keys/expiring").get_data(as_text=True)
    assert "once a machine has started it" in text  # why a key that starts at activation is not listed
    for after in (theirs.id, "x", "99999999999", "9" * 18 + ".1"):  # not a place a page gave: the first page
        assert soon.key in vendor_client.get("/vendor/keys/active", query_string={"after": after}).get_data(
            as_text=True)
    assert vendor_client.get("/vendor/keys/overdue").status_code == 404


def _next_after(page: str) -> str | None:
    found = re.search(r'href="/vendor/keys/active\?after=([0-9.]+)" rel="next"', page)
    return found.group(1) if found else None


def test_the_key_lists_page_by_expiry_and_id_whatever_changes_between_pages(vendor_client, db, make, product):
    """The next page starts after the last key's expiry and id as they were shown: keys that share an expiry are
    neither skipped nor repeated, and a key renewed (a subscription does) or deleted between pages moves no other."""
    made = [make.key(product, period=30) for _ in range(5)]
    same = made[0].expires
    for key in made[1:4]:
        key.expires = same  # three keys after the first with the same expiry
        db.add(key)
    db.commit()
    vendor_client.application.config["PAGE_SIZE"] = 2
    seen, after = [], None
    while True:
        page = vendor_client.get("/vendor/keys/active", query_string={"after": after} if after else {}).get_data(
            as_text=True)
        seen += [key.id for key in made if key.key in page]
        after = _next_after(page)
        if after is None:
            break
        if len(seen) == 2:  # between two pages, the last key shown is renewed and the first deleted
            last = db.get(LicenseKey, seen[-1])
            keys.renew_key(db, key=last, expires=last.expires + timedelta(days=365), renews_on=None, actor="stripe")
            keys.delete_key(db, key=db.get(LicenseKey, seen[0]), actor="owner")
            db.commit()
    # None skipped (the renewed one shows again at its new place, later: it expires later now).
    assert set(seen) == {key.id for key in made} and seen.count(seen[1]) == 2 and len(seen) == len(made) + 1


def test_the_key_lists_say_when_they_are_empty(vendor_client):
    assert "No key is blocked." in vendor_client.get("/vendor/keys/blocked").get_data(as_text=True)
    assert "No key expires in the next 14 days." in vendor_client.get("/vendor/keys/expiring").get_data(
        as_text=True)


def test_getting_started_ticks_itself(vendor_client, db, make, vendor):
    steps = overview(db, vendor_id=vendor.id).steps
    assert (steps.product, steps.terms, steps.signup, steps.invited) == (False, False, False, False)
    page = vendor_client.get("/vendor/").get_data(as_text=True)
    assert page.count('data-done="false"') == 4 and f"/Portal/@{vendor.slug}/SignUp" in page
    make.product(vendor)
    add_object(db, vendor_id=vendor.id, name=TERMS_URL, string_value="https://acme.example/terms", actor="owner")
    db.commit()
    make.customer(vendor, name="Invited", association=True)
    steps = overview(db, vendor_id=vendor.id).steps
    assert (steps.product, steps.terms, steps.signup, steps.invited) == (True, True, False, True)
    make.customer(vendor, name="Signed up", origin="signup")
    assert overview(db, vendor_id=vendor.id).steps.done
    assert "Getting started" not in vendor_client.get("/vendor/").get_data(as_text=True)


def test_a_sign_up_alone_is_an_invited_customer(db, make, vendor):
    customer = make.customer(vendor, name="Grace", origin="signup")
    make.account(vendor, customer, email="grace@example.test")
    steps = overview(db, vendor_id=vendor.id).steps
    assert steps.signup and steps.invited


def test_the_home_asks_as_many_questions_with_many_keys_as_with_one(app, vendor_client, db, make, vendor,
                                                                    customer, product):
    make.key(product, customer=customer)

    def home_queries() -> list[str]:
        vendor_client.get("/vendor/")
        with counted_queries(app) as statements:
            assert vendor_client.get("/vendor/").status_code == 200
        return [s for s in statements if s.lstrip().upper().startswith(("SELECT", "WITH"))]

    with_one = home_queries()
    keys.create_keys(db, product=product, settings=keys.KeySettings(period=30), count=200)
    db.commit()
    assert db.exec(select(func.count()).select_from(LicenseKey)).one() == 201
    assert len(home_queries()) == len(with_one) <= 12, "\n".join(with_one)
