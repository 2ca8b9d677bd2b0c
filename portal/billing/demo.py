"""The demo vendor's Stripe: connected to the local stand-in's demo account, with a monthly and a yearly plan of
"Demo App" (`flask seed-demo`, run by `make run`)."""

from sqlmodel import Session

from portal.billing import connection, plans
from portal.billing.connection import StripeAccess
from portal.billing.skm import Skm

ACTOR = "seed-demo"
PLANS = (
    ("9.00", "month", Skm(features={"f1": True}, max_no_of_machines=1)),
    ("90.00", "year", Skm(features={"f1": True, "f2": True, "f3": True}, max_no_of_machines=3, trial_days=14)),
)


def connect_demo(session: Session, access: StripeAccess, *, vendor_id: int, product_id: int, secret_key: str,
                 webhook_secret: str) -> int:
    """Connect (if not yet) and link the two plans (if the product has none); returns how many plans were made."""
    if connection.connected(session, vendor_id=vendor_id) is None:
        connection.connect(session, access, vendor_id=vendor_id, secret_key=secret_key,
                           webhook_secret=webhook_secret, actor=ACTOR)
        session.commit()
    if plans.prices_of(session, vendor_id=vendor_id, product_id=product_id):
        return 0
    for amount, interval, skm in PLANS:
        row = plans.create_price(session, access, vendor_id=vendor_id, product_id=product_id, amount=amount,
                                 currency="usd", interval=interval, actor=ACTOR)
        session.commit()
        row = plans.change_settings(session, access, vendor_id=vendor_id, product_id=product_id, price_id=row.id,
                                    skm=skm, actor=ACTOR)
        row.offered = True
        session.add(row)
        session.commit()
    return len(PLANS)
