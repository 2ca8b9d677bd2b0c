"""The customer's subscriptions in the portal: subscribe through Checkout, see the key appear, manage billing;
the vendor sees them on the customer page; a declined card makes nothing."""

import json
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlmodel import select

from devtools.stripe_standin.errors import Refused
from portal.billing import plans
from portal.billing.skm import parse_skm
from portal.billing_models import StripeCustomer, StripePrice, Subscription
from tests.billing.conftest import app_session, price_row
from tests.support.pages import csrf_token


@pytest.fixture
def offered(shop):
    with app_session(shop.app) as session:
        for price in session.exec(select(StripePrice)).all():
            price.offered = True
            session.add(price)
        session.commit()
    return shop


def _subscribe(portal_client, shop, vendor, stripe_price: str = "") -> str:
    """Subscribe to the monthly plan (or another price) as the customer's browser does; the Checkout's id."""
    base = f"/Portal/@{vendor.slug}"
    price = shop.db.exec(select(StripePrice).where(StripePrice.stripe_price_id == (stripe_price or shop.monthly))).one()
    answer = portal_client.post(f"{base}/Subscriptions/Subscribe",
                                data={"csrf_token": csrf_token(portal_client, f"{base}/Subscriptions"),
                                      "price": price.id})
    assert answer.status_code == 303 and answer.headers["Location"].startswith(f"{shop.standin.url}/checkout/cs_")
    return answer.headers["Location"].rsplit("/", 1)[1]


def test_a_customer_subscribes_pays_and_sees_the_key(offered, vendor, customer, portal_client, vendor_client):
    shop = offered
    page = portal_client.get(f"/Portal/@{vendor.slug}/").get_data(as_text=True)
    assert "$9.99 / month" in page and "Subscribe" in page and "Manage billing" not in page
    checkout = _subscribe(portal_client, shop, vendor)
    back = shop.standin.pay_checkout(shop.secret_key, checkout)
    assert back.startswith("http://localhost/Portal/@acme.io/Subscriptions/Welcome?session_id=" + checkout)
    shop.settle()

    key = shop.key()
    assert key.customer_id == customer.id
    status = portal_client.get(f"/Portal/@{vendor.slug}/Subscriptions/Welcome/Status",
                               query_string={"session_id": checkout, "started": 0}, headers={"HX-Request": "true"})
    fragment = status.get_data(as_text=True)
    assert f"license-{key.id}-title" in fragment and "Welcome/Status" not in fragment  # the polling stops
    assert fragment.count("Renews on") == 1  # the badge says it with its day; the card does not again

    dashboard = portal_client.get(f"/Portal/@{vendor.slug}/").get_data(as_text=True)
    assert "Demo App" in dashboard and ">Active<" in dashboard and "Manage billing" in dashboard
    customer_page = vendor_client.get(f"/vendor/customers/{customer.id}").get_data(as_text=True)
    record = shop.db.exec(select(Subscription)).one()
    # Served by the stand-in, the ids are not links to Stripe's dashboard (which does not know them)...
    assert record.stripe_customer_id in customer_page and "dashboard.stripe.com" not in customer_page
    assert record.stripe_subscription_id in customer_page and f"ID {key.key_number}" in customer_page
    # ...with Stripe itself they are.
    shop.app.config["STRIPE_API_BASE"] = ""
    customer_page = vendor_client.get(f"/vendor/customers/{customer.id}").get_data(as_text=True)
    assert f"https://dashboard.stripe.com/test/customers/{record.stripe_customer_id}" in customer_page


def test_the_return_page_keeps_asking_until_the_key_exists_then_says_what_to_do(offered, vendor, portal_client):
    checkout = _subscribe(portal_client, offered, vendor)
    offered.standin.hold_deliveries()  # paid, and the key is late
    offered.standin.pay_checkout(offered.secret_key, checkout)
    base = f"/Portal/@{vendor.slug}/Subscriptions/Welcome"
    page = portal_client.get(base, query_string={"session_id": checkout}).get_data(as_text=True)
    assert "Setting up your license" in page and "hx-get" in page
    assert 'hx-trigger="load"' in page  # asked at once: a reload after the key was made shows it without waiting
    again = portal_client.get(f"{base}/Status", query_string={"session_id": checkout},
                              headers={"HX-Request": "true"}).get_data(as_text=True)
    assert 'hx-trigger="load delay:2s"' in again  # then every two seconds
    late = portal_client.get(f"{base}/Status", query_string={"session_id": checkout, "started": 1},
                             headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "taking longer than usual" in late and "Welcome/Status" not in late


@pytest.mark.parametrize("named", ["unpaid", "cs_made_up_123", "someone else's"])
def test_a_return_page_of_no_finished_checkout_of_the_customers_says_nothing_was_charged(
        offered, vendor, portal_client, make, app, named):
    base = f"/Portal/@{vendor.slug}/Subscriptions/Welcome"
    if named == "someone else's":
        other = app.test_client()
        make.login_portal(other, vendor, make.account(vendor, make.customer(vendor), email="other@example.test"))
        checkout = _subscribe(other, offered, vendor)
        offered.standin.pay_checkout(offered.secret_key, checkout)
    else:
        checkout = _subscribe(portal_client, offered, vendor) if named == "unpaid" else named
    status = portal_client.get(f"{base}/Status", query_string={"session_id": checkout},
                               headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "nothing was charged through it" in status and "hx-get" not in status  # no more asking
    assert "No payment here" in status and "safe with Stripe" not in status
    assert portal_client.get(base).headers["Location"].endswith("/Subscriptions")  # nothing named: nothing to wait for


def test_billing_with_nothing_in_it_offers_nothing_to_manage(offered, vendor, portal_client):
    """A Checkout left unpaid made a Stripe customer and no subscription: Refresh (a late one), no Manage billing."""
    _subscribe(portal_client, offered, vendor)
    page = portal_client.get(f"/Portal/@{vendor.slug}/Subscriptions?canceled=1").get_data(as_text=True)
    assert "No subscriptions yet." in page and "Manage billing" not in page and ">Refresh</button>" in page


def test_a_declined_card_makes_no_subscription_and_no_key(offered, vendor, portal_client):
    checkout = _subscribe(portal_client, offered, vendor)
    with pytest.raises(Refused):
        offered.standin.pay_checkout(offered.secret_key, checkout, card="4000000000000002")
    offered.settle()
    assert offered.keys() == [] and offered.db.exec(select(Subscription)).all() == []


def test_manage_billing_cancels_at_period_end_and_the_portal_says_so(offered, vendor, portal_client):
    shop = offered
    shop.standin.pay_checkout(shop.secret_key, _subscribe(portal_client, shop, vendor))
    shop.settle()
    base = f"/Portal/@{vendor.slug}/Subscriptions"
    answer = portal_client.post(f"{base}/ManageBilling", data={"csrf_token": csrf_token(portal_client, base)})
    assert answer.status_code == 303 and answer.headers["Location"].startswith(f"{shop.standin.url}/billing/bps_")
    record = shop.db.exec(select(Subscription)).one()
    back = shop.standin.billing_action(shop.secret_key, answer.headers["Location"].rsplit("/", 1)[1],
                                       record.stripe_subscription_id, "cancel_at_period_end")
    assert urlsplit(back).path == base
    shop.settle()
    record = shop.db.exec(select(Subscription)).one()
    page = portal_client.get(base).get_data(as_text=True)
    assert f"Cancels on {record.current_period_end:%Y-%m-%d}" in page
    assert shop.key().renews_on is None
    assert (f"Your subscription to {shop.product.name} on another plan ends on {record.current_period_end:%Y-%m-%d}."
            " Subscribing here buys this plan&#39;s license now" in page)  # the yearly plan's card
    assert "to switch to this one, use Manage billing" not in page and "resume it and change its plan" in page


def test_a_subscription_is_named_by_its_plan_as_the_plan_on_offer_is(offered, vendor, portal_client):
    """A newcomer's find: the list said only "Demo App" and the price, so of two plans at one price (Pro and Team,
    $9.99 a month each) the customer could not tell which one they had; the plans on offer name theirs."""
    shop = offered
    with app_session(shop.app) as session:
        row = price_row(session, shop.monthly)
        plans.change_settings(session, shop.app.extensions["stripe_access"], vendor_id=vendor.id,
                              product_id=shop.product.id, price_id=row.id, skm=parse_skm(row.skm)[0], actor="test",
                              name="Pro")
        session.commit()
    shop.standin.pay_checkout(shop.secret_key, _subscribe(portal_client, shop, vendor))
    shop.settle()
    page = portal_client.get(f"/Portal/@{vendor.slug}/Subscriptions").get_data(as_text=True)
    assert '<td>Demo App &middot; Pro<br><small class="muted">$9.99 / month</small></td>' in page
    assert '<strong id="plan-' in page and "Demo App &middot; Pro</strong>" in page  # as the plan on offer says it
    shop.standin.pay_checkout(shop.secret_key, _subscribe(portal_client, shop, vendor, shop.yearly))
    shop.settle()
    page = portal_client.get(f"/Portal/@{vendor.slug}/Subscriptions").get_data(as_text=True)
    # A plan with no name of its own is named by how often it is billed.
    assert '<td>Demo App &middot; Yearly<br><small class="muted">$99.00 / year</small></td>' in page


def test_refresh_reads_stripe_again_and_swaps_the_section(offered, vendor, portal_client):
    shop = offered
    shop.standin.hold_deliveries()  # Stripe's events are late: the refresh finds the subscription itself
    shop.standin.pay_checkout(shop.secret_key, _subscribe(portal_client, shop, vendor))
    base = f"/Portal/@{vendor.slug}/Subscriptions"
    answer = portal_client.post(f"{base}/Refresh", headers={"HX-Request": "true",
                                                             "X-CSRFToken": csrf_token(portal_client, base)})
    fragment = answer.get_data(as_text=True)
    assert answer.status_code == 200 and fragment.startswith('<div id="subscriptions-section">')
    assert "Your subscriptions are up to date." in fragment and "Active" in fragment
    assert len(shop.keys()) == 1
    shop.standin.release_deliveries()
    shop.settle()
    assert len(shop.keys()) == 1


def test_subscribing_to_a_plan_not_on_offer_is_refused(shop, vendor, portal_client):
    base = f"/Portal/@{vendor.slug}/Subscriptions"
    price = shop.db.exec(select(StripePrice)).first()
    answer = portal_client.post(f"{base}/Subscribe", data={"csrf_token": csrf_token(portal_client, base),
                                                           "price": price.id}, follow_redirects=True)
    assert "Choose one of the plans on offer." in answer.get_data(as_text=True)
    assert parse_qs(urlsplit(answer.request.url).query) == {}



def _deleted_in_stripe_then(shop, vendor, portal_client, action: str) -> tuple[str, str]:
    """The customer subscribes (so has a Stripe customer), the vendor deletes that customer in Stripe's dashboard,
    then the customer presses `action`: (the deleted Stripe customer's id, the page shown after)."""
    first = shop.stripe.checkout.sessions.retrieve(_subscribe(portal_client, shop, vendor)).customer
    shop.stripe.customers.delete(first)
    base = f"/Portal/@{vendor.slug}/Subscriptions"
    page = portal_client.post(f"{base}/{action}", data={"csrf_token": csrf_token(portal_client, base)},
                              follow_redirects=True).get_data(as_text=True)
    return first, page


def test_a_stripe_customer_deleted_in_stripe_is_replaced_at_checkout_and_billing_says_there_is_none(
        offered, vendor, customer, portal_client):
    """The vendor deleted the customer in Stripe's dashboard: "Manage billing" says there is no billing rather than
    Stripe's error, and "Subscribe" makes a new Stripe customer with `skm_customer_id` and goes on to Checkout."""
    shop = offered
    first, page = _deleted_in_stripe_then(shop, vendor, portal_client, "ManageBilling")
    assert "You have no billing with us yet." in page and "No such customer" not in page
    assert shop.db.exec(select(StripeCustomer)).all() == []

    checkout = _subscribe(portal_client, shop, vendor)
    second = shop.stripe.checkout.sessions.retrieve(checkout).customer
    assert second != first
    assert shop.stripe.customers.retrieve(second).metadata["skm_customer_id"] == str(customer.id)
    shop.standin.pay_checkout(shop.secret_key, checkout)
    shop.settle()
    assert shop.key().customer_id == customer.id


def test_a_stripe_customer_deleted_between_two_subscribe_clicks_is_replaced(offered, vendor, customer,
                                                                            portal_client):
    shop = offered
    first = shop.stripe.checkout.sessions.retrieve(_subscribe(portal_client, shop, vendor)).customer
    shop.stripe.customers.delete(first)
    checkout = _subscribe(portal_client, shop, vendor)  # no refusal: on to Checkout with a new Stripe customer
    assert shop.stripe.checkout.sessions.retrieve(checkout).customer not in (first, None)


def test_a_price_stripe_does_not_have_is_refused_in_plain_words_stripes_go_to_the_log_and_the_link_stays(
        offered, vendor, customer, portal_client, caplog):
    from sqlalchemy import update

    shop = offered
    _subscribe(portal_client, shop, vendor)
    with app_session(shop.app) as session:
        session.execute(update(StripePrice).where(StripePrice.stripe_price_id == shop.monthly)
                        .values(stripe_price_id="price_gone"))
        session.commit()
    base = f"/Portal/@{vendor.slug}/Subscriptions"
    price = shop.db.exec(select(StripePrice).where(StripePrice.stripe_price_id == "price_gone")).one()
    page = portal_client.post(f"{base}/Subscribe", data={"csrf_token": csrf_token(portal_client, base),
                                                        "price": price.id}, follow_redirects=True)
    text = page.get_data(as_text=True)
    assert "Stripe could not do this just now" in text and "No such price" not in text  # the vendor's affair
    assert "No such price" in caplog.text
    assert len(shop.db.exec(select(StripeCustomer)).all()) == 1


def test_refresh_forgets_a_stripe_customer_deleted_in_stripe(offered, vendor, customer, portal_client):
    """Refresh after the vendor deleted the customer in Stripe: no error, the link to the deleted customer is gone
    (so "Manage billing" says there is none), and the next Subscribe makes a new one."""
    shop = offered
    first, page = _deleted_in_stripe_then(shop, vendor, portal_client, "Refresh")
    assert "Your subscriptions are up to date." in page and "No such customer" not in page
    assert shop.db.exec(select(StripeCustomer)).all() == []
    second = shop.stripe.checkout.sessions.retrieve(_subscribe(portal_client, shop, vendor)).customer
    assert second not in (first, None)


def test_refresh_forgets_a_paying_customer_deleted_in_stripe_and_its_subscription_shows_ended(
        offered, vendor, customer, portal_client):
    """Stripe cancels a deleted customer's subscriptions at once: Refresh (with Stripe's events held back) brings the
    record and key up to date from Stripe and forgets the link, so the next Subscribe makes a new Stripe customer."""
    shop = offered
    checkout = _subscribe(portal_client, shop, vendor)
    shop.standin.pay_checkout(shop.secret_key, checkout)
    shop.settle()
    record = shop.db.exec(select(Subscription)).one()
    shop.standin.hold_deliveries()
    first = shop.stripe.checkout.sessions.retrieve(checkout).customer
    shop.stripe.customers.delete(first)
    assert shop.stripe.subscriptions.retrieve(record.stripe_subscription_id).status == "canceled"
    base = f"/Portal/@{vendor.slug}/Subscriptions"
    page = portal_client.post(f"{base}/Refresh", data={"csrf_token": csrf_token(portal_client, base)},
                              follow_redirects=True).get_data(as_text=True)
    assert "Your subscriptions are up to date." in page
    shop.db.expire_all()
    assert shop.db.get(Subscription, record.id).status == "canceled"
    assert shop.db.exec(select(StripeCustomer)).all() == []
    assert shop.key().customer_id == customer.id
    second = shop.stripe.checkout.sessions.retrieve(_subscribe(portal_client, shop, vendor)).customer
    assert second not in (first, None)


def test_the_return_page_asks_stripe_once_then_reads_the_customers_own_records(
        offered, vendor, customer, portal_client, monkeypatch):
    from portal.subscriptions import services

    shop = offered
    checkout = _subscribe(portal_client, shop, vendor)
    shop.standin.hold_deliveries()  # the key is late: the page keeps asking
    shop.standin.pay_checkout(shop.secret_key, checkout)
    status = f"/Portal/@{vendor.slug}/Subscriptions/Welcome/Status"
    first = portal_client.get(status, query_string={"session_id": checkout}, headers={"HX-Request": "true"})
    next_ask = re.search(r'hx-get="([^"]+)"', first.get_data(as_text=True)).group(1).replace("&amp;", "&")
    assert "subscription=sub_" in next_ask
    monkeypatch.setattr(services, "checkout_subscription_id", lambda *a, **k: pytest.fail("asked Stripe again"))
    assert "Setting up your license" in portal_client.get(next_ask, headers={"HX-Request": "true"}).get_data(
        as_text=True)
    shop.standin.release_deliveries()
    shop.settle()
    ready = portal_client.get(next_ask, headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "Your license is ready." in ready and f"license-{shop.key().id}-title" in ready
    # Another customer's subscription named in the address shows nothing of it.
    other = re.sub(r"subscription=sub_\w+", "subscription=sub_someone_else", next_ask)
    assert "license-" not in portal_client.get(other, headers={"HX-Request": "true"}).get_data(as_text=True)


def test_a_customer_cannot_use_up_the_vendors_stripe_requests(offered, vendor, portal_client):
    """Clicks that call Stripe are counted per login (10 a minute): then a plain "wait a minute", and no call."""
    base = f"/Portal/@{vendor.slug}/Subscriptions"
    status = f"{base}/Welcome/Status"
    asks = [portal_client.get(status, query_string={"session_id": f"cs_made_up_{n}"}, headers={"HX-Request": "true"})
            for n in range(10)]
    assert all(a.status_code == 200 for a in asks)
    shop = offered
    refresh = portal_client.post(f"{base}/Refresh", headers={"HX-Request": "true",
                                                              "X-CSRFToken": csrf_token(portal_client, base)})
    assert refresh.status_code == 200 and "wait a minute and try again" in refresh.get_data(as_text=True)
    price = shop.db.exec(select(StripePrice).where(StripePrice.stripe_price_id == shop.monthly)).one()
    subscribe = portal_client.post(f"{base}/Subscribe", data={"csrf_token": csrf_token(portal_client, base),
                                                              "price": price.id}, follow_redirects=True)
    assert "wait a minute and try again" in subscribe.get_data(as_text=True)
    late = portal_client.get(status, query_string={"session_id": "cs_more"}, headers={"HX-Request": "true"})
    assert "wait a minute and try again" in late.get_data(as_text=True)
    assert shop.db.exec(select(StripeCustomer)).all() == []  # Subscribe was not let through to make one


def _trial(shop, days: int = 14) -> None:
    with app_session(shop.app) as session:
        for price in session.exec(select(StripePrice)).all():
            price.skm = json.dumps({"TrialDays": days})
            session.add(price)
        session.commit()


def test_one_trial_per_product_even_with_two_checkouts_open_or_one_paid_whose_events_are_late(
        offered, vendor, portal_client):
    from devtools.stripe_standin.errors import Refused

    shop = offered
    _trial(shop)
    first = _subscribe(portal_client, shop, vendor)
    second = _subscribe(portal_client, shop, vendor)  # another tab: the first Checkout can no longer be paid
    assert shop.stripe.checkout.sessions.retrieve(first).status == "expired"
    with pytest.raises(Refused):
        shop.standin.pay_checkout(shop.secret_key, first)
    shop.standin.hold_deliveries()
    shop.standin.pay_checkout(shop.secret_key, second)
    assert shop.stripe.subscriptions.retrieve(
        shop.stripe.checkout.sessions.retrieve(second).subscription).status == "trialing"
    third = _subscribe(portal_client, shop, vendor)  # paid with the trial, its events not here yet: no second trial
    assert shop.stripe.checkout.sessions.retrieve(third).amount_total > 0
    shop.standin.release_deliveries()
    shop.settle()
    assert shop.stripe.checkout.sessions.retrieve(_subscribe(portal_client, shop, vendor)).amount_total > 0


def _open_trial_checkouts(shop) -> list[str]:
    return [checkout.id for checkout in shop.stripe.checkout.sessions.list(params={"limit": 100}).data
            if "skm_trial_product_id" in checkout.metadata and checkout.status == "open"]


def test_a_double_click_on_subscribe_leads_both_clicks_to_the_one_checkout_with_the_trial(
        offered, vendor, portal_client, monkeypatch):
    import portal.subscriptions.services as services

    shop = offered
    _trial(shop)
    # Both clicks checked before either made its Checkout: each still thinks the trial is the customer's.
    monkeypatch.setattr(services, "trial_left", lambda *args: True)
    first = _subscribe(portal_client, shop, vendor)
    second = _subscribe(portal_client, shop, vendor)  # the answer a double-click's browser follows
    assert _open_trial_checkouts(shop) == [second]
    assert shop.stripe.checkout.sessions.retrieve(second).amount_total == 0
    assert first == second or shop.stripe.checkout.sessions.retrieve(first).status == "expired"


def _another_clicks_trial_checkout(shop, stripe_customer: str, product_id: int, price: str) -> dict:
    """A trial Checkout made as another Subscribe click makes it, as the portal reads it back from Stripe."""
    from portal.subscriptions.checkouts import checkout_marks

    made = shop.stripe.checkout.sessions.create(params={
        "mode": "subscription", "customer": stripe_customer, "line_items": [{"price": price, "quantity": 1}],
        "subscription_data": {"trial_period_days": 14}, "success_url": "http://localhost/ok",
        "cancel_url": "http://localhost/no", "metadata": checkout_marks(price, trial_of=product_id)})
    return {"id": made.id, "created": made.created, "url": made.url, "metadata": made.metadata.to_dict()}


@pytest.mark.parametrize("this_click_checks_first", [True, False])
def test_two_clicks_whose_checkouts_both_exist_before_either_checks_name_the_same_one_for_the_trial(
        offered, vendor, portal_client, monkeypatch, this_click_checks_first):
    import portal.subscriptions.services as services

    shop = offered
    _trial(shop)
    real = services.trial_keeper
    seen = {}

    def with_a_second_click(session, gateway, stripe_customer, product_id, made):
        # A double-click: the other click's trial Checkout is made before this one checks.
        other = _another_clicks_trial_checkout(shop, stripe_customer, product_id, shop.monthly)
        if not this_click_checks_first:
            seen["other"] = (other, real(session, gateway, stripe_customer, product_id, other))
        keeper = real(session, gateway, stripe_customer, product_id, made)
        if this_click_checks_first:
            seen["other"] = (other, real(session, gateway, stripe_customer, product_id, other))
        seen["mine"] = (made, keeper)
        return keeper

    monkeypatch.setattr(services, "trial_keeper", with_a_second_click)
    went_to = _subscribe(portal_client, shop, vendor)
    (made, my_keeper), (other, other_keeper) = seen["mine"], seen["other"]
    assert my_keeper["id"] == other_keeper["id"] == went_to  # both clicks' browsers go to the one keeping it
    loser = other if went_to == made["id"] else made
    if loser is other and shop.stripe.checkout.sessions.retrieve(other["id"]).status == "open":
        shop.stripe.checkout.sessions.expire(other["id"])  # as the other click does when it is not the keeper
    assert _open_trial_checkouts(shop) == [went_to]
    assert shop.stripe.checkout.sessions.retrieve(went_to).amount_total == 0


def test_a_click_that_asked_later_but_looked_first_keeps_the_trial_for_both(offered, vendor, portal_client,
                                                                            monkeypatch):
    """The second click of a double-click is served first: its Checkout is made and checked before the first
    click's exists, so it sees only its own and keeps the trial. The first click, looking later, must name the same
    keeper (the click that asked last), not rank by Stripe's whole-second `created` and a random id."""
    import portal.subscriptions.services as services
    from portal.subscriptions import checkouts

    shop = offered
    _trial(shop)
    marks, real_keeper = services.checkout_marks, services.trial_keeper
    seen = {}

    def marks_then_a_faster_second_click(price, *, trial_of=None):
        mine = marks(price, trial_of=trial_of)  # this (first) click asked now; the second asks after it
        customer = shop.db.exec(select(StripeCustomer)).one().stripe_customer_id
        second = _another_clicks_trial_checkout(shop, customer, trial_of, price)
        with app_session(shop.app) as session:
            seen["second"] = real_keeper(session, shop.access.gateway(services._connection(session, vendor.id)),
                                         customer, trial_of, second)
        return mine

    monkeypatch.setattr(services, "checkout_marks", marks_then_a_faster_second_click)
    went_to = _subscribe(portal_client, shop, vendor)
    assert seen["second"]["id"] == went_to  # the second kept it, and the first sends its browser there too
    assert _open_trial_checkouts(shop) == [went_to]
    assert checkouts.ASKED in shop.stripe.checkout.sessions.retrieve(went_to).metadata


def test_a_second_tab_subscribing_to_another_plan_gets_no_second_trial(offered, vendor, portal_client, monkeypatch):
    import portal.subscriptions.services as services

    shop = offered
    _trial(shop)
    monkeypatch.setattr(services, "trial_left", lambda *args: True)
    monthly = _subscribe(portal_client, shop, vendor)
    other = _subscribe(portal_client, shop, vendor, shop.yearly)
    sessions = shop.stripe.checkout.sessions
    assert other != monthly and sessions.retrieve(other).status == "open"
    assert len(_open_trial_checkouts(shop)) == 1  # one of the two keeps the trial, whichever ranks newest
    assert (sessions.retrieve(other).amount_total == 0) == (_open_trial_checkouts(shop) == [other])


def _open_checkouts(shop) -> list[str]:
    return [checkout.id for checkout in shop.stripe.checkout.sessions.list(params={"limit": 100}).data
            if checkout.status == "open"]


def test_a_double_click_on_a_paid_plan_leaves_one_checkout_to_pay_and_a_second_license_can_follow(
        offered, vendor, portal_client):
    shop = offered
    first = _subscribe(portal_client, shop, vendor)
    second = _subscribe(portal_client, shop, vendor)  # the answer a double-click's browser follows (or a second tab)
    assert _open_checkouts(shop) == [second] and first != second
    with pytest.raises(Refused):
        shop.standin.pay_checkout(shop.secret_key, first)
    shop.standin.pay_checkout(shop.secret_key, second)
    shop.settle()
    # A second license, bought after the first Checkout, is a Checkout of its own, not the paid one again.
    third = _subscribe(portal_client, shop, vendor)
    assert third != second and _open_checkouts(shop) == [third]
    shop.standin.pay_checkout(shop.secret_key, third)
    shop.settle()
    assert len(shop.db.exec(select(Subscription)).all()) == 2


def test_two_paid_clicks_whose_checkouts_both_exist_before_either_checks_send_both_browsers_to_one(
        offered, vendor, portal_client, monkeypatch):
    import portal.subscriptions.services as services
    from portal.subscriptions.checkouts import checkout_marks

    shop = offered
    real = services.plan_keeper
    seen = {}

    def with_a_second_click(session, gateway, stripe_customer, made):
        # A double-click: the other click's Checkout is made (asking later) before this one checks.
        other = shop.stripe.checkout.sessions.create(params={
            "mode": "subscription", "customer": stripe_customer, "line_items": [{"price": shop.monthly, "quantity": 1}],
            "success_url": "http://localhost/ok", "cancel_url": "http://localhost/no",
            "metadata": checkout_marks(shop.monthly)})
        other = {"id": other.id, "created": other.created, "url": other.url, "metadata": other.metadata.to_dict()}
        seen["mine"] = real(session, gateway, stripe_customer, made)
        seen["other"] = real(session, gateway, stripe_customer, other)
        return seen["mine"]

    monkeypatch.setattr(services, "plan_keeper", with_a_second_click)
    went_to = _subscribe(portal_client, shop, vendor)
    assert seen["mine"]["id"] == seen["other"]["id"] == went_to
    assert _open_checkouts(shop) == [went_to]  # the click that lost ended its own


def test_two_tabs_on_two_paid_plans_leave_both_payable(offered, vendor, portal_client):
    shop = offered
    monthly = _subscribe(portal_client, shop, vendor)
    other = _subscribe(portal_client, shop, vendor, shop.yearly)
    assert sorted(_open_checkouts(shop)) == sorted([monthly, other])  # two plans: two licenses, as the page warns


def test_a_checkout_that_cannot_be_ended_just_now_still_sends_the_browser_to_the_newer_one(
        offered, vendor, portal_client, monkeypatch):
    import portal.subscriptions.services as services
    from portal.billing.gateway import StripeUnavailable
    from portal.subscriptions.checkouts import checkout_marks

    shop = offered
    real, newer = services.plan_keeper, {}

    def a_newer_click_then_stripe_away(session, gateway, stripe_customer, made):
        made_later = shop.stripe.checkout.sessions.create(params={
            "mode": "subscription", "customer": stripe_customer, "line_items": [{"price": shop.monthly, "quantity": 1}],
            "success_url": "http://localhost/ok", "cancel_url": "http://localhost/no",
            "metadata": checkout_marks(shop.monthly)})
        newer["id"] = made_later.id
        keeper = real(session, gateway, stripe_customer, made)

        def unavailable(*args, **kwargs):
            raise StripeUnavailable("connection refused")

        monkeypatch.setattr(gateway, "expire_checkout_session", unavailable)
        return keeper

    monkeypatch.setattr(services, "plan_keeper", a_newer_click_then_stripe_away)
    assert _subscribe(portal_client, shop, vendor) == newer["id"]


def test_a_trial_checkout_its_own_click_ended_meanwhile_does_not_take_the_trial_away(offered, vendor, portal_client,
                                                                                       monkeypatch):
    from portal.subscriptions import checkouts

    shop = offered
    _trial(shop)
    first = _subscribe(portal_client, shop, vendor)
    shop.stripe.checkout.sessions.expire(first)  # as a third click of a triple-click does
    real = checkouts._recent

    def read_before_it_was_ended(session, gateway, stripe_customer):
        return [checkout | {"status": "open"} if checkout["id"] == first else checkout
                for checkout in real(session, gateway, stripe_customer)]

    monkeypatch.setattr(checkouts, "_recent", read_before_it_was_ended)
    second = _subscribe(portal_client, shop, vendor)
    assert shop.stripe.checkout.sessions.retrieve(second).amount_total == 0  # still the trial: nothing was paid


@pytest.mark.parametrize("value", ["sub_%00x", "sub_" + "x" * 300, "sub_a b", "cus_123"])
def test_what_is_no_subscription_id_in_the_return_pages_address_is_ignored(offered, vendor, portal_client, value):
    status = portal_client.get(f"/Portal/@{vendor.slug}/Subscriptions/Welcome/Status?subscription={value}",
                               headers={"HX-Request": "true"})
    assert status.status_code == 200 and "license-" not in status.get_data(as_text=True)


def test_coming_back_from_billing_shows_what_was_changed_there_at_once(offered, vendor, portal_client):
    shop = offered
    shop.standin.pay_checkout(shop.secret_key, _subscribe(portal_client, shop, vendor))
    shop.settle()
    shop.standin.hold_deliveries()  # Stripe's events are late: the page does not wait for them
    base = f"/Portal/@{vendor.slug}/Subscriptions"
    answer = portal_client.post(f"{base}/ManageBilling", data={"csrf_token": csrf_token(portal_client, base)})
    record = shop.db.exec(select(Subscription)).one()
    back = shop.standin.billing_action(shop.secret_key, answer.headers["Location"].rsplit("/", 1)[1],
                                       record.stripe_subscription_id, "cancel_at_period_end")
    returned = portal_client.get(back).get_data(as_text=True)
    assert f'hx-post="{base}/Refresh" hx-trigger="load"' in returned and "Reading what you changed" in returned
    # htmx sends the Refresh as the page loads, and the address loses from_billing, so that a reload does not.
    answer = portal_client.post(f"{base}/Refresh", headers={"HX-Request": "true", "HX-Current-URL": back,
                                                             "X-CSRFToken": csrf_token(portal_client, base)})
    assert answer.headers["HX-Replace-Url"] == base
    page = answer.get_data(as_text=True)
    shop.db.refresh(record)
    assert "Your subscriptions are up to date." in page and "hx-trigger=\"load\"" not in page
    assert record.cancel_at_period_end and f"Cancels on {record.current_period_end:%Y-%m-%d}" in page
    assert "Your subscription to this plan ends on" in page and "resume it under Manage billing" in page
    shop.standin.release_deliveries()
    shop.settle()
    assert len(shop.keys()) == 1


def _subscribed(shop, portal_client, vendor) -> Subscription:
    shop.standin.pay_checkout(shop.secret_key, _subscribe(portal_client, shop, vendor))
    shop.settle()
    return shop.db.exec(select(Subscription)).one()


def _billing_session(shop, portal_client, vendor) -> str:
    """Manage billing clicked: the id of the Billing Portal session it leads to."""
    base = f"/Portal/@{vendor.slug}/Subscriptions"
    answer = portal_client.post(f"{base}/ManageBilling", data={"csrf_token": csrf_token(portal_client, base)})
    assert answer.status_code == 303 and answer.headers["Location"].startswith(shop.standin.url)
    return answer.headers["Location"].rsplit("/", 1)[1]


def _switch_refused(shop, billing_session: str, record: Subscription) -> None:
    with pytest.raises(Refused):
        shop.standin.billing_action(shop.secret_key, billing_session, record.stripe_subscription_id, "switch",
                                    price=shop.yearly)


def _limited_configurations(shop) -> list:
    return [c for c in shop.stripe.billing_portal.configurations.list(params={"limit": 100}).data
            if c.metadata.to_dict().get("skm_portal") == "before_terms_accepted"]


def test_before_accepting_new_terms_billing_opens_for_cancelling_and_paying_not_for_another_plan(
        offered, vendor, portal_client, make):
    shop = offered
    record = _subscribed(shop, portal_client, vendor)
    base = f"/Portal/@{vendor.slug}/Subscriptions"
    configurations = shop.stripe.billing_portal.configurations
    default = configurations.list(params={"is_default": True}).data[0]
    configurations.update(default.id, params={"business_profile": {"headline": "Acme billing"}})
    make.terms(vendor, "https://acme.example/terms-v2")  # new terms the subscriber has not accepted
    page = portal_client.get(base).get_data(as_text=True)
    assert "accept the new terms of use</a>, billing lets you" in page
    assert "To subscribe or switch plans," in page and "Subscribe</button>" not in page
    limited = _billing_session(shop, portal_client, vendor)
    _switch_refused(shop, limited, record)
    # A second visit finds the same limited configuration, makes no other.
    _switch_refused(shop, _billing_session(shop, portal_client, vendor), record)
    made = _limited_configurations(shop)
    assert len(made) == 1 and not made[0].features.subscription_update.enabled
    assert made[0].business_profile.headline == "Acme billing"  # the vendor's own words, as in their default
    shop.standin.billing_action(shop.secret_key, limited, record.stripe_subscription_id, "cancel_at_period_end")

    portal_client.post(f"/Portal/@{vendor.slug}/Terms", data={"csrf_token": csrf_token(
        portal_client, f"/Portal/@{vendor.slug}/Terms")})
    assert "accept the new terms" not in portal_client.get(base).get_data(as_text=True)
    shop.standin.billing_action(shop.secret_key, _billing_session(shop, portal_client, vendor),
                                record.stripe_subscription_id, "switch", price=shop.yearly)


def test_a_limited_billing_configuration_the_vendor_switched_off_or_whose_details_changed_is_made_anew(
        offered, vendor, portal_client, make):
    shop = offered
    record = _subscribed(shop, portal_client, vendor)
    make.terms(vendor, "https://acme.example/terms-v2")
    configurations = shop.stripe.billing_portal.configurations
    _billing_session(shop, portal_client, vendor)
    first = _limited_configurations(shop)[0]
    configurations.update(first.id, params={"active": False})  # the vendor, in Stripe's dashboard
    session = _billing_session(shop, portal_client, vendor)  # within the idempotency key's day: not that one again
    active = [c for c in _limited_configurations(shop) if c.active]
    assert len(active) == 1 and active[0].id != first.id
    _switch_refused(shop, session, record)
    configurations.update(active[0].id, params={"active": False})
    default = configurations.list(params={"is_default": True}).data[0]
    configurations.update(default.id, params={"business_profile": {"headline": "New words"}})
    _billing_session(shop, portal_client, vendor)  # other details than before: a key of its own, not a refusal
    assert [c.business_profile.headline for c in _limited_configurations(shop) if c.active] == ["New words"]


def test_the_plans_say_where_the_customer_stands(offered, vendor, portal_client):
    shop = offered
    with app_session(shop.app) as session:
        for price in session.exec(select(StripePrice)).all():
            price.skm = json.dumps({"F1": True, "TrialDays": 14})
            session.add(price)
        session.commit()
    base = f"/Portal/@{vendor.slug}/Subscriptions"
    page = portal_client.get(base).get_data(as_text=True)
    assert "Demo App &middot; Monthly" in page and "Demo App &middot; Yearly" in page
    assert page.count("14-day free trial") == 2 and "Buy a second license" not in page

    shop.standin.pay_checkout(shop.secret_key, _subscribe(portal_client, shop, vendor))
    shop.settle()
    page = portal_client.get(base).get_data(as_text=True)
    assert "You are already subscribed to this plan" in page
    assert "You are subscribed to Demo App on another plan: to switch to this one, use Manage billing." in page
    assert "free trial" not in page  # subscribed now: a second license has none, and the note says what it buys
    assert page.count(">Buy a second license</button>") == 2


def test_a_state_read_before_the_cancellation_was_recorded_does_not_bring_the_subscription_back(
        offered, vendor, customer, portal_client, monkeypatch):
    """Security review: a Refresh that listed the subscription as active, then synced after the cancellation's
    webhook had blocked the key (policy "block"), set the record active again and unblocked the key; nothing
    corrected it later. Stripe never brings an ended subscription back: such a state is older than the record's."""
    from portal.billing.gateway import Gateway
    from portal.billing_models import StripeConnection

    shop = offered
    with app_session(shop.app) as session:
        policy = session.exec(select(StripeConnection)).one()
        policy.on_cancel = "block"
        session.add(policy)
        session.commit()
    shop.standin.pay_checkout(shop.secret_key, _subscribe(portal_client, shop, vendor))
    shop.settle()
    record = shop.db.exec(select(Subscription)).one()
    listed, cancelled = Gateway.subscriptions, []

    def cancelled_meanwhile(self, *, customer=None):
        found = listed(self, customer=customer)  # active, as Stripe had it when asked
        if not cancelled:  # ... and the customer cancels at once in the billing portal before the refresh syncs
            cancelled.append(shop.stripe.subscriptions.cancel(record.stripe_subscription_id))
            shop.settle()
            shop.db.expire_all()
            assert shop.db.get(Subscription, record.id).status == "canceled" and shop.key().block
        return found

    monkeypatch.setattr(Gateway, "subscriptions", cancelled_meanwhile)
    base = f"/Portal/@{vendor.slug}/Subscriptions"
    answer = portal_client.post(f"{base}/Refresh", data={"csrf_token": csrf_token(portal_client, base)})
    assert answer.status_code in (200, 303) and cancelled
    shop.db.expire_all()
    assert shop.db.get(Subscription, record.id).status == "canceled"
    assert shop.key().block and shop.key().renews_on is None


def test_one_trial_per_product_when_the_prices_skm_gives_keys_of_another_product(
        offered, vendor, customer, portal_client, monkeypatch):
    """Security review: with Cryptolens' ProductId in a price's skm, the subscription's key (and record) is of that
    product while the price is linked to another; the "subscribed before" check compared the record's product
    alone, so only the 25 hours of Checkouts looked back at kept the trial from being given again."""
    from portal.products.services import create_product
    from portal.subscriptions import services

    shop = offered
    with app_session(shop.app) as session:
        other = create_product(session, vendor_id=vendor.id, actor="test", name="Demo App Keys")
        session.commit()
        skm = json.dumps({"TrialDays": 14, "ProductId": other.id})
        for price in session.exec(select(StripePrice)).all():
            price.skm = skm
            session.add(price)
        session.commit()
        other_id = other.id
    shop.stripe.prices.update(shop.monthly, params={"metadata": {"skm": skm}})
    first = _subscribe(portal_client, shop, vendor)
    assert shop.stripe.checkout.sessions.retrieve(first).amount_total == 0
    shop.standin.pay_checkout(shop.secret_key, first)
    shop.settle()
    record = shop.db.exec(select(Subscription)).one()
    assert (record.status, record.product_id, record.customer_id) == ("trialing", other_id, customer.id)

    monkeypatch.setattr(services, "trial_left", lambda *args: True)  # the Checkouts' lookback has passed
    page = portal_client.get(f"/Portal/@{vendor.slug}/Subscriptions").get_data(as_text=True)
    assert "14-day free trial" not in page and "subscribing again buys a second license" in page
    assert shop.stripe.checkout.sessions.retrieve(_subscribe(portal_client, shop, vendor)).amount_total > 0


def test_late_events_of_a_stripe_customer_deleted_in_stripe_stay_with_its_customer(
        offered, vendor, customer, portal_client, make, monkeypatch):
    """Security review: the vendor deletes a customer's Stripe customer in Stripe's dashboard; before its events
    arrive, the customer presses Manage billing (which forgets the link to it). The late events read the Stripe
    customer as deleted (no metadata, no e-mail): they made a blank customer, moved the subscription to it (the page
    then offered the trial again), and could never be done (a write to the deleted Stripe customer)."""
    from portal.billing_models import StripeEvent
    from portal.models import Customer

    shop = offered
    _trial(shop)
    make.customer(vendor, name="Bob", email="bob@example.test")
    checkout = _subscribe(portal_client, shop, vendor)
    shop.standin.pay_checkout(shop.secret_key, checkout)
    shop.settle()
    record = shop.db.exec(select(Subscription)).one()
    assert (record.customer_id, record.status) == (customer.id, "trialing")

    shop.standin.hold_deliveries()
    shop.stripe.customers.delete(shop.stripe.checkout.sessions.retrieve(checkout).customer)
    base = f"/Portal/@{vendor.slug}/Subscriptions"
    portal_client.post(f"{base}/ManageBilling", data={"csrf_token": csrf_token(portal_client, base)})
    assert shop.db.exec(select(StripeCustomer)).all() == []  # forgotten: Stripe no longer has it
    customers_before = shop.db.exec(select(Customer.id).order_by(Customer.id)).all()
    shop.standin.release_deliveries()
    shop.settle()

    shop.db.expire_all()
    record = shop.db.get(Subscription, record.id)
    assert record.customer_id == customer.id and record.status == "canceled"
    assert shop.db.exec(select(Customer.id).order_by(Customer.id)).all() == customers_before
    assert shop.db.exec(select(StripeEvent).where(StripeEvent.done_at.is_(None))).all() == []
    page = portal_client.get(base).get_data(as_text=True)
    assert "No subscriptions yet." not in page and "14-day free trial" not in page

    again = shop.stripe.checkout.sessions.retrieve(_subscribe(portal_client, shop, vendor))
    assert again.customer and again.amount_total > 0  # a Stripe customer of Ada's own, and no second trial
    linked = shop.db.exec(select(StripeCustomer)).one()
    assert (linked.customer_id, linked.stripe_customer_id) == (customer.id, again.customer)


def test_a_stripe_customer_answered_that_is_linked_to_someone_else_sends_no_one_to_checkout(
        offered, vendor, customer, portal_client, make, monkeypatch):
    """Stripe answers a repeated idempotency key with its first answer: where that customer is linked to another
    customer here, there is no Stripe customer for this one, and a Checkout without one would give the key to
    whoever's e-mail is typed there. Refused with a message, nothing made."""
    from portal.billing.gateway import Gateway
    from portal.billing_models import StripeConnection, scope_of

    shop = offered
    bob = make.customer(vendor, name="Bob", email="bob@example.test")
    taken = shop.stripe.customers.create(params={"email": "bob@example.test"})
    with app_session(shop.app) as session:
        connection = session.exec(select(StripeConnection)).one()
        session.add(StripeCustomer(vendor_id=vendor.id, customer_id=bob.id, stripe_customer_id=taken.id,
                                   metadata_written=True, **scope_of(connection)))
        session.commit()
    monkeypatch.setattr(Gateway, "create_customer", lambda self, **details: {"id": taken.id})
    base = f"/Portal/@{vendor.slug}"
    checkouts = len(shop.stripe.checkout.sessions.list().data)
    answer = portal_client.post(f"{base}/Subscriptions/Subscribe", follow_redirects=True,
                                data={"csrf_token": csrf_token(portal_client, f"{base}/Subscriptions"),
                                      "price": shop.db.exec(select(StripePrice.id)).first()})
    assert "Your billing account could not be set up" in answer.get_data(as_text=True)
    assert len(shop.stripe.checkout.sessions.list().data) == checkouts
    assert shop.db.exec(select(StripeCustomer.customer_id)).all() == [bob.id]


def test_a_license_card_says_why_a_subscription_key_no_longer_renews(offered, vendor, customer, portal_client):
    """The newcomer's try: after Cancel at period end the card said plain "Expires" three days after the
    subscription's "Cancels on", and the same after Cancel now."""
    shop = offered
    shop.standin.pay_checkout(shop.secret_key, _subscribe(portal_client, shop, vendor))
    shop.settle()
    record = shop.db.exec(select(Subscription)).one()
    dashboard = f"/Portal/@{vendor.slug}/"
    assert "Renews on" in portal_client.get(dashboard).get_data(as_text=True)

    shop.stripe.subscriptions.update(record.stripe_subscription_id, params={"cancel_at_period_end": True})
    shop.settle()
    shop.db.expire_all()
    ends = shop.db.get(Subscription, record.id).current_period_end
    card = portal_client.get(dashboard).get_data(as_text=True)
    assert f"(not renewing: its subscription ends on {ends:%Y-%m-%d}, and the license runs 3 days past it)" in card

    shop.stripe.subscriptions.cancel(record.stripe_subscription_id)
    shop.settle()
    assert "(not renewing: its subscription has ended)" in portal_client.get(dashboard).get_data(as_text=True)
    key = shop.key()  # the card swapped in after a deactivation is built the other way: it says the same
    from portal.licenses.services import license_of

    assert license_of(shop.db, customer_id=customer.id, key_id=key.id).paid_by.why_not_renewing(key.expires) == \
        "its subscription has ended"


def test_a_customer_with_an_older_and_a_newer_stripe_customer_sees_each_subscription_once(db, vendor, customer):
    """The second reader: a link kept before the portal knew account ids counts beside one made since; the section
    joined the links, so each subscription was listed once per link."""
    from portal.billing_models import StripeConnection
    from portal.subscriptions import services

    db.add(StripeConnection(vendor_id=vendor.id, stripe_account_id="acct_1"))
    db.add(StripeCustomer(vendor_id=vendor.id, customer_id=customer.id, stripe_customer_id="cus_old",
                          stripe_account_id=""))
    db.add(StripeCustomer(vendor_id=vendor.id, customer_id=customer.id, stripe_customer_id="cus_new",
                          stripe_account_id="acct_1"))
    db.add(Subscription(vendor_id=vendor.id, stripe_subscription_id="sub_1", customer_id=customer.id,
                        stripe_customer_id="cus_new", stripe_account_id="acct_1", status="active"))
    db.commit()
    lines, billing = services._lines_and_billing(db, vendor_id=vendor.id, customer_id=customer.id)  # noqa: SLF001
    assert billing and [line.record.stripe_subscription_id for line in lines] == ["sub_1"]
    assert services._lines_and_billing(db, vendor_id=vendor.id, customer_id=customer.id + 1) == ([], False)  # noqa: SLF001


def test_a_plan_card_of_no_features_starts_with_its_machines(offered, vendor, portal_client):
    """No empty line where a plan with features lists them (found by a newcomer)."""
    with app_session(offered.app) as session:
        for price in session.exec(select(StripePrice)).all():
            features = {"F1": True} if price.stripe_price_id == offered.yearly else {}
            price.skm = json.dumps({**features, "MaxNoOfMachines": 2})
            session.add(price)
        session.commit()
    page = portal_client.get(f"/Portal/@{vendor.slug}/Subscriptions").get_data(as_text=True)
    cards = {re.search(r"&middot; (\w+)</strong>", card)[1]: re.sub(r"\s+", " ", card)
             for card in page.split('<article class="plan"')[1:]}
    assert '<p> <small class="muted">2 machines' in cards["Monthly"] and "<br>" not in cards["Monthly"]
    assert re.search(r'<small class="tag">[^<]+</small> <br> <small class="muted">2 machines', cards["Yearly"])
