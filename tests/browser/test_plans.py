"""A product's plans in chromium, against the stand-in: each says whether it is offered in the portal beside a button
that says what it does, and withdrawing one asks first."""

import pytest
from playwright.sync_api import expect
from sqlmodel import select

from portal.billing_models import StripePrice
from tests.billing.conftest import served_app, shop  # noqa: F401 - fixtures, used by name
from tests.support.standin import standin_server, stripe_standin  # noqa: F401 - fixtures, used by name

pytestmark = pytest.mark.browser


def offered(db, stripe_price_id: str) -> bool:
    db.expire_all()
    return db.exec(select(StripePrice.offered).where(StripePrice.stripe_price_id == stripe_price_id)).one()


def test_a_plan_is_offered_and_withdrawn_after_a_question(vendor_page, shop, db):  # noqa: F811
    page = vendor_page
    page.goto(f"/vendor/products/{shop.product.id}")
    monthly = page.get_by_role("row").filter(has_text="$9.99 / month")
    expect(monthly.get_by_text("Not offered")).to_be_visible()
    monthly.get_by_role("button", name="Offer $9.99 / month in the portal").click()
    expect(page.get_by_role("status")).to_contain_text("Monthly ($9.99 / month) is offered in the portal.")
    expect(monthly.get_by_text("Offered", exact=True)).to_be_visible()
    withdraw = monthly.get_by_role("button", name="Withdraw $9.99 / month from the portal")
    assert offered(db, shop.monthly)

    questions = []
    page.once("dialog", lambda dialog: (questions.append(dialog.message), dialog.dismiss()))
    withdraw.click()
    expect(withdraw).to_be_visible()
    assert questions == ["Withdraw $9.99 / month from the portal? Customers can no longer subscribe to it; its "
                         "subscribers keep their subscriptions."]
    assert offered(db, shop.monthly)

    page.once("dialog", lambda dialog: dialog.accept())
    withdraw.click()
    expect(page.get_by_role("status")).to_contain_text("Monthly ($9.99 / month) is no longer offered in the portal.")
    expect(monthly.get_by_text("Not offered")).to_be_visible()
    assert not offered(db, shop.monthly)
