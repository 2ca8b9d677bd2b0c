"""An audit event in words: "Blocked", "Expiry 2027-01-01 → 2027-02-01", the product's feature names, browsers."""

import json
import re
from datetime import datetime
from functools import lru_cache
from typing import NamedTuple

from portal.dataobjects.services import KEY, MACHINE, PRODUCT
from portal.models import FEATURES, AuditEvent

# Actions whose last word alone would not say it well; any other reads as its last word ("key.blocked": "Blocked").
_ACTIONS = {
    "key.extended": "Expiry changed",
    "key.renewal_stopped": "Renewal stopped",
    "key.renewal_set": "Set to renew",
    "subscription.key_not_taken": "Key named in Stripe not taken (another customer's)",
    "subscription.key_replaced": "Key replaced by hand",
    "subscription.key_named": "Key named in Stripe taken in place of the portal's",
    "key.renewal_unpaid": "Renewal payment failed",
    "key.changed": "Key changed",
    "key.blocked_expired": "Blocked at expiry",
    "key.created": "Key created",
    "key.deleted": "Key deleted",
    "key.customer_changed": "Key's customer changed",
    "account.created": "Portal account created",
    "account.email_verified": "E-mail verified",
    "account.associated": "Portal account associated",
    "account.joined_by_email": "Signed up with the customer's e-mail",
    "account.detached": "Portal account detached",
    "customer.created": "Customer created",
    "customer.updated": "Customer changed",
    "customer.deleted": "Customer deleted",
    "customer.association_enabled": "Association link made",
    "customer.association_regenerated": "New association link made",
    "customer.association_disabled": "Association turned off",
    "product.created": "Product created",
    "product.updated": "Product changed",
    "product.deleted": "Product deleted",
    "data_object.added": "Data object added",
    "data_object.updated": "Data object changed",
    "data_object.deleted": "Data object deleted",
    "data_objects.reset": "Keys' data objects set back",
    "stripe_price.linked": "Plan linked",
    "stripe_price.created": "Plan created",
    "stripe_price.changed": "Plan changed",
    "stripe_price.offered": "Plan offered",
    "stripe_price.withdrawn": "Plan withdrawn",
    "stripe_price.unlinked": "Plan unlinked",
    "api_token.created": "API token created",
    "api_token.revoked": "API token revoked",
    "key_batch.started": "Bulk keys started",
    "key_batch.resumed": "Bulk keys resumed",
    "key_batch.keys_made": "Bulk keys made",
    "key.expiry_reminded": "Expiry reminder mailed",
    "key.countdown_started": "Countdown started at activation",
    "customer.association_mailed": "Association link mailed",
}
_FIELDS = {
    "expires": "Expiry", "block": "Blocked", "customer_id": "Customer", "max_no_of_machines": "Machine limit",
    "trial_activation": "Countdown from activation", "key_number": "ID", "key": "Key", "product_id": "Product",
    "renews_on": "Renews on", "skm": "Key settings (skm)",
    "mid": "Machine", "email": "E-mail", "company_name": "Company", "max_no_of_devices": "Device limit",
    "enable_customer_association": "Association link", "allow_activation_management": "Manages own machines",
    "allow_multiple_user_association": "Several logins", "string_value": "Text", "int_value": "Number",
    "user_agent": "Browser", "url": "URL", "portal_account": "Portal account", "product": "Product",
    "vendor_user": "Vendor user", "period": "Period (days)", "block_expired_keys": "Block expired keys",
    "mail_new_licenses": "Mail new licenses", "portal_enabled": "Portal on", "signup_enabled": "Sign-up on",
    "slug": "Portal address",
}
# Shown only where they change: on a record made or removed they would repeat its page.
_QUIET = {"id", "vendor_id", "product_id", "created", "origin", "association_used_at", "next_key_number"}
# A data object's owner, said in one line ("Belongs to") instead of two numbers.
_OWNER = ("referencer_type", "referencer_id")
_BLOCKING = {"key.blocked", "key.unblocked", "key.blocked_expired"}
_DAY_ONLY = {"expires", "renews_on"}
_ISO_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")


class Change(NamedTuple):
    """One line of an event: `label`, and `before` → `after` (either None when the event has only one side)."""

    label: str
    before: str | None
    after: str | None


def action_words(action: str) -> str:
    return _ACTIONS.get(action) or action.rsplit(".", 1)[-1].replace("_", " ").capitalize()


_ACTORS = (
    (re.compile(r"^account:\d+ (?P<who>.+)$"), "{who} (portal login)"),
    (re.compile(r"^vendor_user:\d+ (?P<who>.+)$"), "{who}"),
    (re.compile(r"^vendor_user:(?P<who>\d+)$"), "Vendor user {who}"),
    (re.compile(r"^stripe (?P<who>evt_\S+)$"), "Stripe (event {who})"),
    (re.compile(r"^signup (?P<who>.+)$"), "{who} (sign-up)"),
    (re.compile(r"^api_token:(?P<id>\d+) (?P<who>.+)$"), "API token {who} (#{id})"),
)


# The words actor_words adds, each with the starts the stored text it stands for has (one of them) and the part it
# contains (the rest of what was typed follows it).
_WORDS_OF_ACTORS = (
    (re.compile(r"^(?P<who>.*?) ?\(?portal login\)?$", re.IGNORECASE), ("account:",), "{who}"),
    (re.compile(r"^(?P<who>.*?) ?\(?sign-up\)?$", re.IGNORECASE), ("signup ",), "{who}"),
    (re.compile(r"^stripe(?: \(event ?(?P<who>[^)]*)\)?)?$", re.IGNORECASE), ("stripe ",), "{who}"),
    (re.compile(r"^vendor user (?P<who>\d+)$", re.IGNORECASE), ("vendor_user:",), "{who}"),
    (re.compile(r"^API token (?P<who>.*) \(#(?P<id>\d+)\)$", re.IGNORECASE), ("api_token:{id} ",), "{who}"),
    # A name alone, or none: the token's changes by any id, and those recorded before ids were ("API token <name>").
    (re.compile(r"^API tokens? ?(?P<who>.*)$", re.IGNORECASE), ("api_token:", "API token "), "{who}"),
)


def stored_actor_part(typed: str) -> tuple[tuple[str, ...], str]:
    """What a person typed into the Who filter, as a part of the stored actor: the starts it may have, one of which it
    must ("account:" for "… (portal login)"; none for any), and a text it must contain; "ada@example.com (portal
    login)" is an actor that starts with "account:" and contains "ada@example.com"."""
    typed = typed.strip()
    for pattern, starts, words in _WORDS_OF_ACTORS:
        found = pattern.match(typed)
        if found:
            named = found.groupdict(default="")
            return tuple(start.format(**named) for start in starts), words.format(**named)
    return (), typed


def actor_words(actor: str) -> str:
    """Who did it, as a person reads it: "ada@example.com (portal login)", "Stripe (event evt_…)"; the stored actor
    (which the activity filter takes) otherwise."""
    for pattern, words in _ACTORS:
        found = pattern.match(actor)
        if found:
            return words.format(**found.groupdict())
    return actor


def object_words(subject_type: str) -> str:
    return {"key": "License key", "api_token": "API token", "data_object": "Data object"}.get(
        subject_type, subject_type.replace("_", " ").capitalize())


@lru_cache(maxsize=512)
def browser_of(user_agent: str) -> str:
    """A user agent summarised ("Chrome 120 on Windows 10"): ua-parser's rules know thousands of agents."""
    from ua_parser import parse  # loads its rules on first use, only on a page that shows an agent

    if not user_agent:
        return "unknown"
    found = parse(user_agent)
    agent = found.user_agent
    words = " ".join(part for part in (agent.family, agent.major) if part) if agent else ""
    system = found.os
    on = " ".join(part for part in (system.family, system.major) if part) if system else ""
    return (f"{words} on {on}" if words and on else words or on) or user_agent[:60]


def _value(name: str, value) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, str) and _ISO_TIME.match(value):
        moment = datetime.fromisoformat(value)
        return moment.strftime("%Y-%m-%d" if name in _DAY_ONLY else "%Y-%m-%d %H:%M UTC")
    if name == "user_agent":
        return browser_of(value)
    if name == "customer_id":
        return f"#{value}"
    if name == "skm":
        return _skm_words(value)
    return str(value)


def _skm_words(text) -> str:
    """A price's `skm` key settings as words ("F1 on, MaxNoOfMachines 3"), not its JSON; a text that is not the JSON
    of settings as it is."""
    try:
        settings = json.loads(text)
    except (TypeError, ValueError):
        return str(text)
    if not isinstance(settings, dict):
        return str(text)
    words = {True: "on", False: "off"}
    return ", ".join(f"{name} {words.get(value, value) if isinstance(value, bool) else value}"
                     for name, value in settings.items()) or "no settings"


def changes_of(event: AuditEvent, products: dict) -> list[Change]:
    """The event's changes in words. `products` maps product ids, and ("key", key id) for the keys among the events,
    to their Product, which names the features."""
    before = json.loads(event.before) if event.before else {}
    after = json.loads(event.after) if event.after else {}
    both = bool(before) and bool(after)
    values = {**before, **after}
    product = products.get(values.get("product_id") or values.get("product")) or products.get(
        (event.subject_type, event.subject_id))
    if event.subject_type == "customer" and "key" in after and "product" in after:  # a change of one of its keys
        name = product.name if product else f"product {after['product']}"
        return [Change("Key", None, f"ID {after['key']} of {name}")]
    lines, features_on = [], []
    if event.subject_type == "data_object" and not both and "referencer_type" in values:
        lines.append(Change("Belongs to", None, owner_words(values["referencer_type"], values.get("referencer_id"),
                                                             products)))
    for name in sorted(set(before) | set(after), key=_order):
        if name in _OWNER and not (both and before.get(name) != after.get(name)):
            continue
        old, new = _value(name, before.get(name)), _value(name, after.get(name))
        if name in FEATURES:
            label = product.feature_name(int(name[1:])) if product else name.upper()
            if both:
                lines.append(Change(label, "on" if before.get(name) else "off", "on" if after.get(name) else "off"))
            elif values.get(name):
                features_on.append(label)
            continue
        if name == "block" and event.action in _BLOCKING:  # the action says it
            continue
        if not both and (name in _QUIET or (old or new) in (None, "no", "0")):
            continue
        lines.append(Change(_FIELDS.get(name) or name.replace("_", " ").capitalize(), old if both else None,
                            (new if after else old)))
    if features_on:
        lines.append(Change("Features", None, ", ".join(features_on)))
    return lines


def owner_words(kind: int, owner_id: int | None, products: dict) -> str:
    """Whose a data object is: a product (named), a key (of its product, when the page has loaded it), a machine, or
    the vendor's account (Cryptolens' "user" objects)."""
    if kind == PRODUCT:
        product = products.get(owner_id)
        return f"Product {product.name}" if product else f"Product #{owner_id}"
    if kind == KEY:
        product = products.get(("key", owner_id))
        return f"A key of {product.name}" if product else "A license key"
    if kind == MACHINE:
        return "An activated machine"
    return "The vendor's account"


def _order(name: str) -> tuple:
    """Keys' main fields first, features last, the rest by name."""
    main = ("key", "key_number", "expires", "block", "customer_id")
    return (main.index(name) if name in main else len(main), name in FEATURES, name)


# Every action the portal records, for the activity page's filter.
ACTIONS = (
    "key.created", "key.blocked", "key.unblocked", "key.blocked_expired", "key.extended", "key.renewed",
    "key.renewal_set", "key.renewal_stopped", "key.renewal_unpaid", "key.changed", "key.customer_changed",
    "key.machine_activated", "key.machine_deactivated", "key.deleted", "key.expiry_reminded", "key.countdown_started",
    "key_batch.started", "key_batch.resumed", "key_batch.keys_made",
    "customer.created", "customer.updated", "customer.deleted", "customer.association_enabled",
    "customer.association_regenerated", "customer.association_disabled", "customer.association_mailed",
    "account.created", "account.associated", "account.joined_by_email", "account.detached", "account.email_verified",
    "account.password_changed", "account.password_reset", "account.terms_accepted",
    "product.created", "product.updated", "product.deleted",
    "data_object.added", "data_object.updated", "data_object.deleted", "data_objects.reset",
    "stripe.connected", "stripe.disconnected", "stripe.policy_changed", "stripe_price.linked", "stripe_price.created",
    "stripe_price.changed", "stripe_price.offered", "stripe_price.withdrawn", "stripe_price.unlinked",
    "subscription.synced", "subscription.key_not_taken", "subscription.key_replaced", "subscription.key_named",
    "api_token.created", "api_token.revoked",
    "vendor.registered", "vendor.settings_changed", "vendor.brand_changed", "vendor_user.password_changed",
    "vendor_user.password_reset",
)
SUBJECT_TYPES = ("key", "customer", "product", "data_object", "subscription", "api_token", "vendor")
