"""Reading the audit trail: a record's latest changes, and the vendor's whole trail filtered, by keyset pages."""

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from itertools import groupby

from sqlalchemy import tuple_
from sqlmodel import Session, and_, col, not_, or_, select

from portal.activity.words import actor_words, stored_actor_part
from portal.dataobjects.services import KEY
from portal.domain import NotFound
from portal.models import AuditEvent, Customer, DataObject, LicenseKey, Product

LATEST = 5
# Events recorded on a customer when one of its keys changes: the key's own event says it, on the key.
_KEY_ON_CUSTOMER = and_(AuditEvent.subject_type == "customer", col(AuditEvent.action).startswith("key."))


@dataclass
class Filters:
    actor: str = ""
    action: str = ""
    subject_type: str = ""
    subject_id: int | None = None
    since: date | None = None
    until: date | None = None  # the last day shown


@dataclass
class ActivityPage:
    events: list[AuditEvent]
    next_before: int | None
    products: dict  # the vendor's products by id, which name their keys' features
    labels: dict  # (subject_type, subject_id) -> what the record is called; missing: it is gone or has no page


@dataclass
class History:
    """A record's newest changes, for the "History" section of its page (`_history.html`)."""

    subject_type: str
    subject_id: int
    events: list[AuditEvent]
    more: bool  # it has older ones: "Show all" opens them on the activity page
    products: dict


def history_of(session: Session, *, vendor_id: int, subject_type: str, subject_id: int,
               limit: int = LATEST) -> History:
    events = session.exec(
        select(AuditEvent).where(AuditEvent.vendor_id == vendor_id, AuditEvent.subject_type == subject_type,
                                 AuditEvent.subject_id == subject_id)
        .order_by(col(AuditEvent.id).desc()).limit(limit + 1)).all()
    products = products_of(session, vendor_id=vendor_id)
    if subject_type == "key":
        product_id = session.exec(select(LicenseKey.product_id).where(LicenseKey.id == subject_id)).first()
        products["key", subject_id] = products.get(product_id)
    return History(subject_type, subject_id, list(events[:limit]), len(events) > limit, products)


def activity(session: Session, *, vendor_id: int, filters: Filters, before: int | None = None,
             limit: int = 25) -> ActivityPage:
    """The vendor's events, newest first, by keyset: those older than the event `before`, in (created, id) order,
    which the indexes (vendor_id, [actor | action,] created, id) serve. Only the vendor's own, whatever is asked."""
    where = [AuditEvent.vendor_id == vendor_id]
    if before is not None:
        last = session.exec(select(AuditEvent.created).where(AuditEvent.vendor_id == vendor_id,
                                                             AuditEvent.id == before)).first()
        if last is None:
            raise NotFound("That page of the activity is not there.")
        where.append(tuple_(AuditEvent.created, AuditEvent.id) < tuple_(last, before))
    if filters.actor:
        starts, part = stored_actor_part(filters.actor)
        # In SQL, within the vendor's own events (a trail may hold a name for each of thousands of Stripe events).
        where.append(col(AuditEvent.actor).icontains(part, autoescape=True))
        if starts:
            where.append(or_(*(col(AuditEvent.actor).istartswith(start, autoescape=True) for start in starts)))
    if filters.action:
        where.append(AuditEvent.action == filters.action)
    if filters.subject_type:
        where.append(AuditEvent.subject_type == filters.subject_type)
    if filters.subject_id is not None:
        where.append(AuditEvent.subject_id == filters.subject_id)
    else:
        where.append(not_(_KEY_ON_CUSTOMER))
    if filters.since:
        where.append(AuditEvent.created >= _midnight(filters.since))
    if filters.until:
        where.append(AuditEvent.created < _midnight(filters.until + timedelta(days=1)))
    rows = list(session.exec(select(AuditEvent).where(*where)
                             .order_by(col(AuditEvent.created).desc(), col(AuditEvent.id).desc())
                             .limit(limit + 1)).all())
    events = rows[:limit]
    products = products_of(session, vendor_id=vendor_id)
    return ActivityPage(events=events, next_before=events[-1].id if len(rows) > limit else None, products=products,
                        labels=labels_of(session, vendor_id=vendor_id, events=events, products=products))


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=UTC)


def recent_actors(session: Session, *, vendor_id: int, among: int = 1000) -> list[str]:
    """Who made the vendor's newest `among` changes, as the trail shows them, for the actor filter's suggestions."""
    newest = (select(AuditEvent.actor).where(AuditEvent.vendor_id == vendor_id)
              .order_by(col(AuditEvent.id).desc()).limit(among).subquery())
    return sorted({actor_words(actor) for actor in session.exec(select(newest.c.actor).distinct())})


def products_of(session: Session, *, vendor_id: int) -> dict:
    return {product.id: product for product in session.exec(select(Product).where(Product.vendor_id == vendor_id))}


def _keys_owning_data_objects(events: list[AuditEvent]) -> set[int]:
    """The keys whose data objects were added or deleted among the events (their product names the owner)."""
    owners = set()
    for event in events:
        if event.subject_type == "data_object":
            values = json.loads(event.after or event.before or "{}")
            if values.get("referencer_type") == KEY and isinstance(values.get("referencer_id"), int):
                owners.add(values["referencer_id"])
    return owners


def labels_of(session: Session, *, vendor_id: int, events: list[AuditEvent], products: dict) -> dict:
    """What each event's record is called, in one query per kind of record on the page; each key's product goes
    into `products` under ("key", key id)."""
    wanted = {kind: {event.subject_id for event in group}
              for kind, group in groupby(sorted(events, key=lambda e: e.subject_type), key=lambda e: e.subject_type)}
    labels = {}
    owning_keys = _keys_owning_data_objects(events)
    if wanted.get("key") or owning_keys:
        for number, key_id, product_id in session.exec(
                select(LicenseKey.key_number, LicenseKey.id, LicenseKey.product_id)
                .where(LicenseKey.vendor_id == vendor_id,
                       col(LicenseKey.id).in_(wanted.get("key", set()) | owning_keys))):
            products["key", key_id] = product = products.get(product_id)
            labels["key", key_id] = f"Key {number} of {product.name if product else 'a product'}"
    for kind, model, name in (("customer", Customer, None), ("product", Product, Product.name),
                              ("data_object", DataObject, DataObject.name)):
        if not wanted.get(kind):
            continue
        shown = (Customer.name, Customer.email) if name is None else (name,)
        for row in session.exec(select(model.id, *shown).where(model.vendor_id == vendor_id,
                                                                 col(model.id).in_(wanted[kind]))):
            labels[kind, row[0]] = next((text for text in row[1:] if text), f"#{row[0]}")
    return labels
