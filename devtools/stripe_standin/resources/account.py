"""`GET /v1/account` (the account a key belongs to) and `GET /v1/payment_methods/{id}` for the test cards."""

from ..cards import check_payment_method, payment_method
from ..routing import Call, RouteTable

routes = RouteTable()


@routes.get("/v1/account")
def retrieve(call: Call) -> dict:
    account = call.account.account
    return {
        "id": account.id,
        "object": "account",
        "business_profile": {"name": account.name, "url": None, "support_email": account.email},
        "business_type": "company",
        "charges_enabled": True,
        "country": "US",
        "created": call.account.created,
        "default_currency": "usd",
        "details_submitted": True,
        "email": account.email,
        "payouts_enabled": True,
        "settings": {"dashboard": {"display_name": account.name, "timezone": "Etc/UTC"}},
        "type": "standard",
    }


@routes.get("/v1/payment_methods/{id}")
def retrieve_payment_method(call: Call) -> dict:
    return payment_method(check_payment_method(call.match["id"], "id"))
