"""What the stand-in's own pages share: one plain layout with inline style (no script), and money, interval,
plan and date formatting as Stripe's pages show them ("$9.00 / month", "May 5, 2026")."""

from datetime import UTC, datetime
from html import escape

from aiohttp import web

_SYMBOLS = {"usd": "$", "eur": "€", "gbp": "£", "jpy": "¥", "cad": "CA$", "aud": "A$", "inr": "₹"}
_ZERO_DECIMAL = {"bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg", "rwf", "ugx", "vnd", "vuv", "xaf",
                 "xof", "xpf"}

STYLE = """
:root { --accent: #5851e0; --text: #1a1f36; --muted: #5e6a7d; --border: #d5dbe1; --error: #c0123c; }
* { box-sizing: border-box; }
body { margin: 0; background: #f6f9fc; color: var(--text);
       font: 16px/1.5 -apple-system, BlinkMacSystemFont, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
main { max-width: 32rem; margin: 2.5rem auto; padding: 2rem; background: #fff; border: 1px solid var(--border);
       border-radius: 8px; box-shadow: 0 2px 6px rgba(50, 50, 93, .08); }
.merchant { margin: 0 0 1rem; font-weight: 600; color: var(--muted); }
.badge { margin-left: .5rem; padding: 0 .4rem; border-radius: 4px; background: #ffde92; color: #a04100;
         font-size: .75rem; font-weight: 600; text-transform: uppercase; }
h1 { margin: 0 0 .25rem; font-size: 1.3rem; }
h2 { margin: 1.5rem 0 .5rem; font-size: 1.1rem; }
.amount { margin: 0; font-size: 1.9rem; font-weight: 600; }
.trial { margin: .25rem 0 0; font-weight: 600; color: #0b7a4b; }
.muted { color: var(--muted); }
.small { font-size: .875rem; }
label { display: block; margin: 1.25rem 0 .35rem; font-weight: 500; }
input { width: 100%; padding: .6rem .75rem; font: inherit; border: 1px solid var(--border); border-radius: 6px; }
input[aria-invalid="true"] { border-color: var(--error); }
.error { margin: .35rem 0 0; color: var(--error); font-size: .925rem; }
.notice { margin: .5rem 0; padding: .5rem .75rem; border-radius: 6px; background: #fff4e5; color: #7a3b00; }
button { font: inherit; font-weight: 600; border-radius: 6px; cursor: pointer; }
form.pay button { width: 100%; margin-top: 1.25rem; padding: .7rem; color: #fff; background: var(--accent); border: 0; }
button.secondary { margin: .25rem .5rem .25rem 0; padding: .45rem .8rem; color: var(--text); background: #fff;
                   border: 1px solid var(--border); }
button.danger { color: var(--error); }
a { color: var(--accent); }
a:focus-visible, button:focus-visible, input:focus-visible { outline: 2px solid var(--text); outline-offset: 2px; }
ul.lines { margin: 1rem 0 0; padding: 0; list-style: none; }
ul.lines li { display: flex; justify-content: space-between; gap: 1rem; padding: .4rem 0;
              border-top: 1px solid var(--border); }
section.subscription { margin-top: 1rem; padding-top: 1rem; border-top: 1px solid var(--border); }
section.subscription h3 { margin: 0; font-size: 1rem; }
form.inline { display: inline; }
"""


def respond(title: str, body: str, status: int = 200) -> web.Response:
    document = (
        f'<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{escape(title)}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<main>\n{body}\n</main>\n"
        f"</body>\n</html>\n"
    )
    return web.Response(text=document, status=status, content_type="text/html", charset="utf-8",
                        headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"})


def not_found(what: str) -> web.Response:
    return respond("Not found", f"<h1>Not found</h1>\n<p>{escape(what)}</p>", 404)


def redirect(url: str) -> web.Response:
    return web.Response(status=303, headers={"Location": url, "Cache-Control": "no-store"})


def merchant(account) -> str:
    return f'<p class="merchant">{escape(account.account.name)}<span class="badge">Test mode</span></p>'


def money(amount: int, currency: str) -> str:
    value = f"{amount:,}" if currency in _ZERO_DECIMAL else f"{amount / 100:,.2f}"
    symbol = _SYMBOLS.get(currency)
    return f"{symbol}{value}" if symbol else f"{value} {currency.upper()}"


def per_interval(price: dict, quantity: int = 1) -> str:
    """"$9.00 / month", "$90.00 / year", "$5.00 / 3 months"."""
    recurring = price["recurring"] or {}
    count, unit = recurring.get("interval_count", 1), recurring.get("interval", "month")
    every = unit if count == 1 else f"{count} {unit}s"
    return f"{money(price['unit_amount'] * quantity, price['currency'])} / {every}"


def plan_name(account, price: dict) -> str:
    """The product's name and the price's nickname: "Pro – Monthly" (or the product's name alone)."""
    product = account.objects["product"].get(price["product"], {})
    name = product.get("name") or price["product"]
    return f"{name} – {price['nickname']}" if price.get("nickname") else name


def date(timestamp: int) -> str:
    day = datetime.fromtimestamp(timestamp, UTC)
    return f"{day:%B} {day.day}, {day.year}"


def field_error(field: str, error) -> tuple[str, str]:
    """(attributes for the input, the message under it) when `error` (a Refused) belongs to `field`."""
    if error is None or error.field != field:
        return "", ""
    attributes = f' aria-invalid="true" aria-describedby="{field}-error"'
    return attributes, f'<p id="{field}-error" class="error" role="alert">{escape(error.message)}</p>'
