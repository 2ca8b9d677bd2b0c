"""Invoices: made by subscriptions (billing.py); here retrieve, list by subscription or customer, and pay."""

from .. import billing
from ..cards import check_payment_method
from ..export import export, list_page
from ..params import as_bool, check_known
from ..routing import Call, RouteTable

routes = RouteTable()


@routes.post("/v1/invoices/{id}/pay")
def pay(call: Call) -> dict:
    check_known(call.params, {"payment_method", "paid_out_of_band", "off_session", "forgive", "source", "mandate"})
    invoice = call.account.get("invoice", call.match["id"])
    payment_method = call.params.get("payment_method") or None
    if payment_method is not None:
        check_payment_method(payment_method, "payment_method")
    out_of_band = bool(as_bool(call.params.get("paid_out_of_band"), "paid_out_of_band"))
    billing.pay(call, invoice, payment_method, out_of_band)
    return export(call.account, invoice, call.params.get("expand"))


@routes.get("/v1/invoices/{id}")
def retrieve(call: Call) -> dict:
    return export(call.account, call.account.get("invoice", call.match["id"]), call.params.get("expand"))


@routes.get("/v1/invoices")
def list_all(call: Call) -> dict:
    params = call.params
    check_known(params, {"subscription", "customer", "status", "limit", "starting_after", "ending_before", "created",
                         "collection_method", "due_date"})
    subscription, customer, status = params.get("subscription"), params.get("customer"), params.get("status")
    found = (
        i
        for i in call.account.objects["invoice"].values()
        if (subscription is None or i["parent"]["subscription_details"]["subscription"] == subscription)
        and (customer is None or i["customer"] == customer)
        and (status is None or i["status"] == status)
    )
    return list_page(call.account, found, params, "/v1/invoices")
