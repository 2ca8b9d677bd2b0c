"""The Checkout page at a session's `url`: the plan, the amount, a card number field and a Pay button ("Start trial"
with a trial, as Stripe's says).

`GET /checkout/<id>` shows it; `POST /checkout/<id>` (`card_number`, and `email` when the session knows no
customer or e-mail) pays through checkout.py and answers 303 to the success_url, or the page again with Stripe's
message under the field (402 declined, 400 incomplete or invalid, 410 expired).
"""

from html import escape
from urllib.parse import urlsplit

from aiohttp import web

from .. import checkout
from ..errors import Refused
from ..routing import Call
from .html import date, field_error, merchant, not_found, per_interval, plan_name, redirect, respond

_TEST_CARDS = ("Test cards: 4242 4242 4242 4242 pays; 4000 0000 0000 0002 is declined; "
               "4000 0000 0000 0341 pays now and fails at renewal.")


def _summary(account, session: dict) -> str:
    prices = account.objects["price"]
    lines = session["_line_items"]
    first = prices[lines[0]["price"]]
    parts = [f"<h1>Subscribe to {escape(plan_name(account, first))}</h1>"]
    if len(lines) == 1:
        parts.append(f'<p class="amount">{escape(per_interval(first, lines[0]["quantity"]))}</p>')
    else:
        rows = "".join(
            f"<li><span>{escape(plan_name(account, prices[line['price']]))} × {line['quantity']}</span>"
            f"<span>{escape(per_interval(prices[line['price']], line['quantity']))}</span></li>"
            for line in lines
        )
        parts.append(f'<ul class="lines">{rows}</ul>')
    days = _trial_days(session)
    if days:
        then = ", ".join(per_interval(prices[line["price"]], line["quantity"]) for line in lines)
        parts.append(f'<p class="trial">{days}-day free trial</p>')
        parts.append(f'<p class="muted">Then {escape(then)}</p>')
    return "\n".join(parts)


def _trial_days(session: dict) -> int:
    """The whole days of the trial the session gives (Stripe's page then says "Start trial", not "Pay")."""
    data = session["_subscription_data"]
    if data.get("trial_end"):
        return max(1, -(-(data["trial_end"] - session["created"]) // 86400))
    return data.get("trial_period_days") or 0


def _form(account, session: dict, error: Refused | None, values) -> str:
    email_html = ""
    known = session["customer_email"]
    if session["customer"]:
        known = account.objects["customer"].get(session["customer"], {}).get("email")
    if known:
        email_html = f'<p class="muted small">Email: {escape(known)}</p>'
    elif session["customer"] is None:
        attributes, message = field_error("email", error)
        value = escape(values.get("email", ""))
        email_html = (f'<label for="email">Email</label>\n<input id="email" name="email" type="email" '
                      f'autocomplete="email" value="{value}"{attributes}>\n{message}')
    attributes, message = field_error("card_number", error)
    general = ""
    if error is not None and error.field is None:
        general = f'<p class="error" role="alert">{escape(error.message)}</p>'
    return f"""{general}
<form class="pay" method="post" action="/checkout/{escape(session['id'])}">
{email_html}
<label for="card_number">Card number</label>
<input id="card_number" name="card_number" type="text" inputmode="numeric" autocomplete="cc-number"
 placeholder="1234 1234 1234 1234" value="{escape(values.get('card_number', ''))}"{attributes}>
{message}
<button type="submit">{"Start trial" if _trial_days(session) else "Pay"}</button>
</form>
<p><a href="{escape(session['cancel_url'])}">Cancel</a></p>
<p class="muted small">{_TEST_CARDS}</p>"""


def render(account, session: dict, error: Refused | None = None, values=None, status: int = 200) -> web.Response:
    body = [merchant(account), _summary(account, session)]
    if session["status"] == "complete":
        body.append('<p class="notice" role="status">This checkout is complete: you are subscribed.</p>')
        body.append(f'<p><a href="{escape(checkout.redirect_url(session))}">Continue</a></p>')
    elif session["status"] == "expired":
        host = urlsplit(session["cancel_url"]).netloc
        body.append(f'<p class="notice" role="status">This checkout session expired on '
                    f'{escape(date(session["expires_at"]))}.</p>')
        body.append(f'<p><a href="{escape(session["cancel_url"])}">Return to {escape(host)}</a></p>')
    else:
        body.append(_form(account, session, error, values or {}))
    return respond(f"Checkout – {account.account.name}", "\n".join(body), status)


def routes(core) -> list:
    async def show(request: web.Request) -> web.Response:
        account, session = checkout.find_session(core, request.match_info["id"])
        if session is None:
            return not_found("This Checkout Session does not exist.")
        checkout.refresh(Call(core, account), session)
        return render(account, session)

    async def pay(request: web.Request) -> web.Response:
        account, session = checkout.find_session(core, request.match_info["id"])
        if session is None:
            return not_found("This Checkout Session does not exist.")
        form = await request.post()
        try:
            url = checkout.pay(Call(core, account), session, form.get("card_number", ""), form.get("email"))
        except Refused as refused:
            return render(account, session, refused, {k: str(v) for k, v in form.items()}, refused.status)
        return redirect(url)

    return [("GET", "/checkout/{id}", show), ("POST", "/checkout/{id}", pay)]
