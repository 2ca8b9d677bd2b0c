"""The Billing Portal page at a session's `url`: the customer's subscriptions that have not ended, each with
its plan, amount, status and period end, and one form per action the configuration allows.

`GET /billing/<id>` shows it; `POST /billing/<id>` (`session`, `subscription`, `action`, `price` for a switch)
acts at once through portal_actions.py and answers 303 to the session's return_url, or the page again with
the reason (400, 404).
"""

from html import escape
from urllib.parse import urlsplit

from aiohttp import web

from .. import portal_actions
from ..errors import Refused
from ..routing import Call
from .html import date, merchant, not_found, per_interval, plan_name, redirect, respond

_LABELS = {"cancel_at_period_end": "Cancel at period end", "cancel_now": "Cancel now", "resume": "Resume"}


def _status(subscription: dict) -> str:
    status = subscription["status"]
    if status == "trialing" and subscription["trial_end"]:
        return f"On trial until {date(subscription['trial_end'])}"
    return {"active": "Active", "past_due": "Past due: the last payment failed",
            "incomplete": "Incomplete: the first payment failed", "unpaid": "Unpaid",
            "paused": "Paused"}.get(status, status.replace("_", " ").capitalize())


def _button(session: dict, subscription: dict, action: str, label: str, price: dict | None, danger: bool) -> str:
    price_input = f'<input type="hidden" name="price" value="{escape(price["id"])}">' if price else ""
    css = "secondary danger" if danger else "secondary"
    return (f'<form class="inline" method="post" action="/billing/{escape(session["id"])}">'
            f'<input type="hidden" name="session" value="{escape(session["id"])}">'
            f'<input type="hidden" name="subscription" value="{escape(subscription["id"])}">'
            f'<input type="hidden" name="action" value="{action}">{price_input}'
            f'<button type="submit" class="{css}" aria-describedby="h-{escape(subscription["id"])}">'
            f"{escape(label)}</button></form>")


def _subscription(account, session: dict, configuration: dict, subscription: dict) -> str:
    item = subscription["items"]["data"][0]
    price = account.objects["price"][item["price"]]
    heading = f"h-{subscription['id']}"
    parts = [
        f'<section class="subscription" aria-labelledby="{heading}">',
        f'<h3 id="{heading}">{escape(plan_name(account, price))}</h3>',
        f"<p>{escape(per_interval(price, item['quantity']))}</p>",
        f'<p>Status: {escape(_status(subscription))}</p>',
        f'<p class="muted">Current period ends on {escape(date(item["current_period_end"]))}</p>',
    ]
    if subscription["cancel_at_period_end"] and subscription["cancel_at"]:
        parts.append(f'<p class="notice">Cancels on {escape(date(subscription["cancel_at"]))}</p>')
    buttons = []
    for action, target in portal_actions.available(account, configuration, subscription):
        if target is None:
            label = _LABELS[action]
        else:
            label = f"Switch to {plan_name(account, target)} ({per_interval(target, item['quantity'])})"
        buttons.append(_button(session, subscription, action, label, target, action == "cancel_now"))
    parts.append(f'<div class="actions">{"".join(buttons)}</div>')
    parts.append("</section>")
    return "\n".join(parts)


def render(account, session: dict, error: Refused | None = None, status: int = 200) -> web.Response:
    configuration = portal_actions.configuration_of(account, session)
    customer = account.objects["customer"].get(session["customer"], {})
    who = " · ".join(escape(value) for value in (customer.get("name"), customer.get("email")) if value)
    headline = configuration["business_profile"].get("headline") or "Manage your subscriptions"
    body = [merchant(account), f"<h1>{escape(headline)}</h1>", f'<p class="muted">{who}</p>']
    if error is not None:
        body.append(f'<p class="error" role="alert">{escape(error.message)}</p>')
    body.append("<h2>Current subscriptions</h2>")
    subscriptions = portal_actions.subscriptions_of(account, session["customer"])
    body.extend(_subscription(account, session, configuration, s) for s in subscriptions)
    if not subscriptions:
        body.append("<p>You have no current subscriptions.</p>")
    host = urlsplit(session["return_url"]).netloc
    body.append(f'<p><a href="{escape(session["return_url"])}">Return to {escape(host)}</a></p>')
    return respond(f"Billing – {account.account.name}", "\n".join(body), status)


def routes(core) -> list:
    async def show(request: web.Request) -> web.Response:
        account, session = portal_actions.find_session(core, request.match_info["id"])
        if session is None:
            return not_found("This billing portal session does not exist.")
        return render(account, session)

    async def act(request: web.Request) -> web.Response:
        account, session = portal_actions.find_session(core, request.match_info["id"])
        if session is None:
            return not_found("This billing portal session does not exist.")
        form = await request.post()
        try:
            if form.get("session", session["id"]) != session["id"]:
                raise Refused(400, "This form belongs to another billing portal session.")
            url = portal_actions.act(Call(core, account), session, form.get("subscription"), form.get("action"),
                                     form.get("price") or None)
        except Refused as refused:
            return render(account, session, refused, refused.status)
        return redirect(url)

    return [("GET", "/billing/{id}", show), ("POST", "/billing/{id}", act)]
