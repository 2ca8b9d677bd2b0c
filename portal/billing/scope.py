"""What the vendor's pages say of the Stripe records they hide: those of another account or mode than the
connection's (portal/billing_models.py, StripeScoped), kept for a switch back."""

from sqlalchemy import func, not_
from sqlmodel import Session, select

from portal.billing_models import StripeConnection, StripeScoped, of_the_connection


def hidden_note(session: Session, connection: StripeConnection, model: type[StripeScoped], noun: str,
                *where) -> str:
    """"12 test-mode subscriptions are hidden since you connected live keys.": a sentence for each other account
    and mode the vendor's records of `model` (those matching `where`) are of; "" when none is hidden."""
    rows = session.exec(select(model.livemode, model.stripe_account_id, func.count())
                        .where(model.vendor_id == connection.vendor_id, not_(of_the_connection(model, connection)),
                               *where)
                        .group_by(model.livemode, model.stripe_account_id)
                        .order_by(model.livemode, model.stripe_account_id)).all()
    return " ".join(_sentence(connection, livemode, account, count, noun) for livemode, account, count in rows)


def _sentence(connection: StripeConnection, livemode: bool, account: str, count: int, noun: str) -> str:
    hidden = f"{count} {'live' if livemode else 'test'}-mode {noun}{'' if count == 1 else 's'}"
    now = "keys"
    if livemode != connection.livemode:
        now = f"{'live' if connection.livemode else 'test'} keys"
    if account != connection.stripe_account_id:
        hidden += f" of another Stripe account ({account})" if account else " of an earlier Stripe connection"
        now += f" of {connection.stripe_account_id}" if connection.stripe_account_id else ""
    return f"{hidden} {'is' if count == 1 else 'are'} hidden since you connected {now}."
