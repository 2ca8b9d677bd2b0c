"""The license key's verbs: create (one or in batches), block, extend, renew, reassign, machines (the expiry sweep
is in keys/sweep.py)."""

import secrets
import string
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import delete, func, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from portal.audit import record_change, snapshot
from portal.billing_models import live_subscription_ids, still_paid_for
from portal.dataobjects.services import KEY, MACHINE, delete_objects_of
from portal.domain import NO_SUCH_KEY, DomainError, NotFound, find_owned, get_owned
from portal.keys import countdown, product_settings
from portal.keys.notify import announce_new_license
from portal.models import FEATURES, ActivatedMachine, Customer, LicenseKey, Product, utcnow

MAX_PERIOD_DAYS = 365 * 100
READING_SLACK = timedelta(minutes=1)  # an expiry reckoned just before a key is made still counts its last day


def days_between(start: datetime, end: datetime) -> int:
    """A key's `Period` from its start to its expiry: whole days, the last one counted with a minute's slack."""
    return max(0, (end - start + READING_SLACK).days)


def generate_key() -> str:
    """`XXXXX-XXXXX-XXXXX-XXXXX` from the operating system's random source (about 94 bits)."""
    return "-".join("".join(secrets.choice(string.ascii_uppercase) for _ in range(5)) for _ in range(4))


@dataclass
class KeySettings:
    """What a new key gets: by period (days from creation) or an explicit expiry (its period the whole days to it)."""

    period: int = 30
    expires: datetime | None = None
    features: dict[str, bool] = field(default_factory=dict)
    notes: str = ""
    max_no_of_machines: int = 0
    trial_activation: bool = False
    customer_id: int | None = None
    renews_on: datetime | None = None  # a subscription's key: the day it renews (portal/billing/sync.py)

    def to_json(self) -> dict:
        values = asdict(self)
        for name in ("expires", "renews_on"):
            values[name] = values[name].isoformat() if values[name] else None
        return values

    @classmethod
    def from_json(cls, values: dict) -> "KeySettings":
        values = dict(values)
        for name in ("expires", "renews_on"):
            values[name] = datetime.fromisoformat(values[name]) if values.get(name) else None
        return cls(**values)


def chosen_customer(session: Session, *, vendor_id: int, customer_id: int | None) -> Customer | None:
    """The customer a key form names, if it is the vendor's (None for none and for anyone else's)."""
    return None if customer_id is None else find_owned(session, Customer, customer_id, vendor_id=vendor_id)


def key_product(session: Session, *, vendor_id: int, product_id: int) -> Product:
    """The vendor's product a key or a batch of keys belongs to."""
    return get_owned(session, Product, product_id, vendor_id=vendor_id)


def products_to_choose(session: Session, *, vendor_id: int) -> list[Product]:
    """The vendor's products by name: the choices of the key forms."""
    return list(session.exec(select(Product).where(Product.vendor_id == vendor_id)
                             .order_by(Product.name, Product.id)).all())


def check_customer(session: Session, vendor_id: int, customer_id: int | None) -> None:
    if customer_id is not None and chosen_customer(session, vendor_id=vendor_id, customer_id=customer_id) is None:
        raise DomainError("Choose one of your customers.", field="customer_id")


def reserve_key_numbers(session: Session, *, product_id: int, count: int) -> int:
    """Take `count` consecutive per-product IDs in one atomic UPDATE … RETURNING; returns the first."""
    products = Product.__table__  # the table's UPDATE: no loaded product needs the counter kept in step
    return session.execute(update(products).where(products.c.id == product_id)
                           .values(next_key_number=products.c.next_key_number + count)
                           .returning(products.c.next_key_number)).scalar_one() - count


def _new_key(product: Product, number: int, settings: KeySettings, now: datetime, batch_id: int | None) -> LicenseKey:
    period = settings.period if settings.expires is None else days_between(now, settings.expires)
    expires = settings.expires or now + timedelta(days=settings.period)
    return LicenseKey(
        vendor_id=product.vendor_id, product_id=product.id, key_number=number, key=generate_key(),
        customer_id=settings.customer_id, created=now, expires=expires, period=period, notes=settings.notes,
        max_no_of_machines=settings.max_no_of_machines, trial_activation=settings.trial_activation,
        renews_on=settings.renews_on, batch_id=batch_id,
        **{name: bool(settings.features.get(name)) for name in FEATURES})


def create_keys(session: Session, *, product: Product, settings: KeySettings, count: int = 1,
                batch_id: int | None = None) -> list[LicenseKey]:
    """Make `count` keys with consecutive IDs (of bulk creation `batch_id`, if given); a clash of random keys (about
    1 in 10^28) draws them again."""
    check_customer(session, product.vendor_id, settings.customer_id)
    first = reserve_key_numbers(session, product_id=product.id, count=count)
    now = utcnow()
    for _attempt in range(3):
        keys = [_new_key(product, first + n, settings, now, batch_id) for n in range(count)]
        try:
            with session.begin_nested():
                session.add_all(keys)
                session.flush()
            return keys
        except IntegrityError:
            continue
    raise DomainError("Could not make unique keys; try again.")


def create_key(session: Session, *, product: Product, settings: KeySettings, actor: str, ip: str = "",
               notify: bool = False) -> LicenseKey:
    """A new key; with `notify`, its customer gets the "a new license is waiting" mail (keys/notify.py)."""
    (key,) = create_keys(session, product=product, settings=settings)
    _audit(session, key, actor, "key.created", after=_state(key), ip=ip)
    if notify:
        announce_new_license(session, key=key)
    return key


def _state(key: LicenseKey) -> dict:
    return snapshot(key, leave_out=("vendor_id", "allowed_machines", "reminded_expiry", "countdown_starts",
                                    "trial_machine", "batch_id"))


def _audit(session: Session, key: LicenseKey, actor: str, action: str, *, before=None, after=None, ip="") -> None:
    """The change in the key's trail, and its customer's (none when nothing changed)."""
    recorded = record_change(session, vendor_id=key.vendor_id, actor=actor, action=action, subject_type="key",
                             subject_id=key.id, before=before, after=after, ip=ip)
    if recorded is not None and key.customer_id is not None:
        record_change(session, vendor_id=key.vendor_id, actor=actor, action=action, subject_type="customer",
                      subject_id=key.customer_id, before=None, after={"key": key.key_number, "product": key.product_id},
                      ip=ip)


def get_key(session: Session, *, vendor_id: int, key_id: int) -> LicenseKey:
    return get_owned(session, LicenseKey, key_id, vendor_id=vendor_id)


def key_by_text(session: Session, *, product_id: int, text: str) -> LicenseKey:
    """The product's key with this text (`XXXXX-XXXXX-XXXXX-XXXXX`); NotFound for none."""
    key = session.exec(select(LicenseKey).where(LicenseKey.product_id == product_id,
                                                LicenseKey.key == text.strip().upper())).first()
    if key is None:
        raise NotFound(NO_SUCH_KEY)
    return key


def keys_of_customer(session: Session, *, customer: Customer) -> list[LicenseKey]:
    return list(session.exec(select(LicenseKey).where(LicenseKey.customer_id == customer.id)
                             .order_by(LicenseKey.product_id, LicenseKey.key_number)).all())


def _change(session: Session, key: LicenseKey, actor: str, action: str, ip: str, **values) -> LicenseKey:
    before = _state(key)
    for name, value in values.items():
        setattr(key, name, value)
    session.add(key)
    _audit(session, key, actor, action, before=before, after=_state(key), ip=ip)
    return key


def set_blocked(session: Session, *, key: LicenseKey, blocked: bool, actor: str, ip: str = "",
                action: str = "") -> LicenseKey:
    """Block or unblock the key; `action` names why in the audit trail (key.blocked or key.unblocked by default)."""
    return _change(session, key, actor, action or ("key.blocked" if blocked else "key.unblocked"), ip, block=blocked)


def extend_key(session: Session, *, key: LicenseKey, days: int, actor: str, ip: str = "") -> LicenseKey:
    if not -MAX_PERIOD_DAYS <= days <= MAX_PERIOD_DAYS or days == 0:
        raise DomainError("Give a number of days other than 0.", field="days")
    session.refresh(key, with_for_update=True)  # the latest expiry, held: two extensions at once both count
    try:
        expires = key.expires + timedelta(days=days)
    except OverflowError as error:
        raise DomainError("That would take the expiry past the year 9999.", field="days") from error
    if days < 0 and expires < key.created:
        raise DomainError(f"That would end the key before it was created ({key.created:%Y-%m-%d}): shorten it by at "
                          f"most {(key.expires - key.created).days:,} days.", field="days")
    unblock = {"block": False} if product_settings.unblocks_when_extended(session, key, days) else {}
    return _change(session, key, actor, "key.extended", ip, expires=expires, period=max(0, key.period + days),
                   **unblock)


def renew_key(session: Session, *, key: LicenseKey, expires: datetime, renews_on: datetime | None, actor: str,
              ip: str = "", stopped: str = "key.renewal_stopped") -> LicenseKey:
    """A subscription's expiry and renewal day for its key, in the trail as what they are: a later expiry is a
    renewal, an earlier one a changed expiry (a shorter plan); with the expiry as it was, a renewal day gone is
    `stopped` (saying why), one that comes or moves is set (`key.renewal_set`: no payment came)."""
    if (key.expires, key.renews_on) == (expires, renews_on):
        return key
    action = "key.renewed" if expires > key.expires else "key.extended" if expires < key.expires else (
        stopped if renews_on is None else "key.renewal_set")
    return _change(session, key, actor, action, ip, expires=expires, renews_on=renews_on,
                   period=days_between(key.created, expires))


def change_customer(session: Session, *, key: LicenseKey, customer_id: int | None, actor: str,
                    ip: str = "", notify: bool = False) -> LicenseKey:
    """Give the key to another customer (or to none); with `notify`, a new customer gets the new-license mail."""
    check_customer(session, key.vendor_id, customer_id)
    old = key.customer_id
    key = _change(session, key, actor, "key.customer_changed", ip, customer_id=customer_id)
    if old is not None and old != customer_id:
        record_change(session, vendor_id=key.vendor_id, actor=actor, action="key.customer_changed",
                      subject_type="customer", subject_id=old, before={"key": key.key_number}, after=None, ip=ip)
    if notify and old != customer_id:
        announce_new_license(session, key=key)
    return key


def change_details(session: Session, *, key: LicenseKey, actor: str, ip: str = "", notes: str | None = None,
                   features: dict[str, bool] | None = None, max_no_of_machines: int | None = None,
                   trial_activation: bool | None = None) -> LicenseKey:
    """Change what is given of the key's notes, features (all eight, as given), machine limit and trial flag; what
    is not given (None) stays as it is."""
    values = {"notes": notes, "max_no_of_machines": max_no_of_machines, "trial_activation": trial_activation}
    if features is not None:
        values |= {name: bool(features.get(name)) for name in FEATURES}
    return _change(session, key, actor, "key.changed", ip,
                   **{name: value for name, value in values.items() if value is not None})


def delete_key(session: Session, *, key: LicenseKey, actor: str, ip: str = "") -> None:
    """Refused while the Stripe subscription that pays for the key runs: Stripe would go on charging for it."""
    live = live_subscription_ids(session, vendor_id=key.vendor_id, key_id=key.id)
    if live:
        raise DomainError(still_paid_for(live, "Its customer pays for", "delete the key"))
    _audit(session, key, actor, "key.deleted", before=_state(key), ip=ip)
    delete_objects_of(session, vendor_id=key.vendor_id, referencer_type=KEY, referencer_ids=[key.id])
    machine_ids = session.exec(select(ActivatedMachine.id).where(ActivatedMachine.key_id == key.id)).all()
    session.delete(key)
    session.flush()  # its machines go with it (ON DELETE CASCADE) before their data objects: see forget_machines_data
    forget_machines_data(session, vendor_id=key.vendor_id, machine_ids=machine_ids)


# Machines


def machines_of(session: Session, *, key_ids: list[int]) -> dict[int, list[ActivatedMachine]]:
    by_key: dict[int, list[ActivatedMachine]] = {key_id: [] for key_id in key_ids}
    if key_ids:
        for machine in session.exec(select(ActivatedMachine).where(ActivatedMachine.key_id.in_(key_ids))
                                    .order_by(ActivatedMachine.time, ActivatedMachine.id)):
            by_key[machine.key_id].append(machine)
    return by_key


def devices_of_customer(session: Session, *, customer_id: int) -> int:
    """Distinct machine codes across all of a customer's keys (what `MaxNoOfDevices` limits)."""
    return session.exec(select(func.count(func.distinct(ActivatedMachine.mid)))
                        .join(LicenseKey, LicenseKey.id == ActivatedMachine.key_id)
                        .where(LicenseKey.customer_id == customer_id)).one()


FLOATING, OVERDRAFT = "floating:", "floating:overdraft:"


def machine_codes(mid: str, *, floating: bool) -> tuple[str, ...]:
    """The stored `Mid`s a machine code has on a key: itself, or its floating and overdraft forms."""
    return (FLOATING + mid, OVERDRAFT + mid) if floating else (mid,)


def find_machine(session: Session, *, key: LicenseKey, mid: str, floating: bool = False) -> ActivatedMachine | None:
    return session.exec(select(ActivatedMachine).where(
        ActivatedMachine.key_id == key.id, ActivatedMachine.mid.in_(machine_codes(mid, floating=floating)))).first()


def activate_machine(session: Session, *, key: LicenseKey, mid: str, ip: str = "", friendly_name: str = "",
                     actor: str = "", floating_seconds: int = 0, max_overdraft: int = 0,
                     now: datetime | None = None) -> ActivatedMachine:
    """Add a machine to a key, within the key's `MaxNoOfMachines` and its customer's `MaxNoOfDevices`.

    The one place a machine is added. A blocked or expired key is refused, but for a new machine on a key that
    counts down from activation (keys/countdown.py), whose period it starts again. A machine already on the key is
    refreshed (time, IP, name; a floating one's expiry) without a new slot and without an audit entry. A floating
    activation (`floating_seconds` > 0) holds its slot until then, stored as `floating:<code>`; `max_overdraft`
    lets that many floating activations past the limit, as `floating:overdraft:<code>`. The key's row (and its
    customer's) is locked first, so simultaneous activations count one after another.
    """
    if not mid or len(mid) > 200 - len(OVERDRAFT) or mid.startswith(FLOATING):  # floating: names floating slots
        raise DomainError("Give a machine code of 1 to 180 characters, not starting with floating:.", field="mid")
    now = now or utcnow()
    session.refresh(key, with_for_update=True)
    if key.block:
        raise DomainError("The key is blocked and cannot be accessed.")  # Cryptolens' words
    floating = floating_seconds > 0
    starts = countdown.can_start(key) and not floating
    if key.expires <= now and not starts:
        raise DomainError("The key has expired.")
    floating_expires = now + timedelta(seconds=floating_seconds) if floating else None
    existing = find_machine(session, key=key, mid=mid, floating=floating)
    if existing is not None and (existing.floating_expires is None or existing.floating_expires > now):
        if key.expires <= now:  # a machine the countdown already started for
            raise DomainError("The key has expired.")
        existing.time, existing.ip = now, ip or existing.ip
        existing.friendly_name = friendly_name or existing.friendly_name
        existing.floating_expires = floating_expires
        session.add(existing)
        return existing
    _drop_lapsed_floating(session, key, now)
    used = session.exec(select(func.count()).select_from(ActivatedMachine)
                        .where(ActivatedMachine.key_id == key.id)).one()
    stored = machine_codes(mid, floating=floating)[0]
    if key.max_no_of_machines and used >= key.max_no_of_machines:
        if key.expires <= now:  # counts down, but its machines are all in
            raise DomainError("The key has expired.")
        if not floating or used >= key.max_no_of_machines + max(0, max_overdraft):
            raise DomainError("Cannot activate the new device as the limit has been reached.")
        stored = OVERDRAFT + mid
    _check_devices(session, key, stored)
    machine = ActivatedMachine(key_id=key.id, mid=stored, ip=ip, friendly_name=friendly_name, time=now,
                               floating_expires=floating_expires)
    session.add(machine)
    session.flush()
    _audit(session, key, actor or f"machine {ip}", "key.machine_activated", after={"mid": stored}, ip=ip)
    if starts:
        started = countdown.started_expiry(key, now)
        key.countdown_starts = countdown.starts_after_one(session, key)
        session.add(key)
        if started is not None:
            _change(session, key, actor or f"machine {ip}", "key.countdown_started", ip, expires=started)
    return machine


def forget_machines_data(session: Session, *, vendor_id: int, machine_ids) -> None:
    """The data objects of machines just deleted: they were that activation's, and must not meet a later machine.
    The rows go first: an object added at the same moment locks its machine's row (dataobjects.add_object)."""
    if machine_ids:
        delete_objects_of(session, vendor_id=vendor_id, referencer_type=MACHINE, referencer_ids=machine_ids)


def _drop_lapsed_floating(session: Session, key: LicenseKey, now: datetime) -> None:
    """A floating activation past its interval holds no slot: its row and data go when the key is next activated."""
    lapsed = session.execute(delete(ActivatedMachine).where(
        ActivatedMachine.key_id == key.id, ActivatedMachine.floating_expires <= now).returning(ActivatedMachine.id))
    forget_machines_data(session, vendor_id=key.vendor_id, machine_ids=lapsed.scalars().all())


def _check_devices(session: Session, key: LicenseKey, mid: str) -> None:
    if key.customer_id is None:
        return
    customer = session.exec(select(Customer).where(Customer.id == key.customer_id).with_for_update()).one()
    if not customer.max_no_of_devices:
        return
    known = session.exec(select(ActivatedMachine.id).join(LicenseKey, LicenseKey.id == ActivatedMachine.key_id)
                         .where(LicenseKey.customer_id == customer.id, ActivatedMachine.mid == mid)).first()
    if known is None and devices_of_customer(session, customer_id=customer.id) >= customer.max_no_of_devices:
        raise DomainError("The customer uses as many devices as they are allowed.")


TRIAL_DAYS = 15


def create_trial_key(session: Session, *, product: Product, mid: str, friendly_name: str = "", actor: str,
                     ip: str = "", days: int = TRIAL_DAYS) -> LicenseKey:
    """One trial key per machine code and product, ever: the one made for the machine (found again even once the
    machine is deactivated, so a new trial is never made for it), else a new key of `days` days for one machine,
    activated on it. The product's row is locked so that two calls cannot both make one (and a unique constraint
    stands behind that)."""
    session.execute(select(Product.id).where(Product.id == product.id).with_for_update())
    existing = session.exec(select(LicenseKey).where(LicenseKey.product_id == product.id,
                                                     LicenseKey.trial_machine == mid)).first()
    if existing is not None:
        return existing
    key = create_key(session, product=product, actor=actor, ip=ip, settings=KeySettings(
        period=days, trial_activation=True, max_no_of_machines=1, notes="Trial key"))
    key.trial_machine = mid
    session.add(key)
    session.flush()  # before activate_machine reads the key again
    activate_machine(session, key=key, mid=mid, ip=ip, friendly_name=friendly_name, actor=actor)
    return key


def deactivate_machine(session: Session, *, key: LicenseKey, machine_id: int, actor: str, ip: str = "") -> None:
    machine = session.get(ActivatedMachine, machine_id)
    if machine is None or machine.key_id != key.id:
        raise NotFound()
    _audit(session, key, actor, "key.machine_deactivated", before={"mid": machine.mid}, ip=ip)
    session.delete(machine)
    session.flush()
    forget_machines_data(session, vendor_id=key.vendor_id, machine_ids=[machine_id])
