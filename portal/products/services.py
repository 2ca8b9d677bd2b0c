"""The product's verbs: create, update, delete, list with key counts."""

from collections import namedtuple

from sqlalchemy import bindparam, func
from sqlmodel import Session, select

from portal.audit import record_change, snapshot
from portal.billing_models import live_subscription_ids, still_paid_for
from portal.dataobjects.services import KEY, PRODUCT, delete_objects_of
from portal.domain import DomainError, NotFound, assign, get_owned
from portal.keys.services import forget_machines_data
from portal.models import URL_MAX, ActivatedMachine, LicenseKey, Product, Vendor, feature_label
from portal.rules import web_url_problem

EDITABLE_FIELDS = ("name", "description", "getting_started", "download_url", *(f"f{n}_name" for n in range(1, 9)))


def get_product(session: Session, *, vendor_id: int, product_id: int) -> Product:
    return get_owned(session, Product, product_id, vendor_id=vendor_id)


_PRODUCTS = Product.__table__


class ProductRecord(namedtuple("ProductRecord", [column.key for column in _PRODUCTS.columns])):
    """A product's row, read only, with the model's feature names: what the product page and the export read."""

    __slots__ = ()
    feature_name = Product.feature_name
    feature_names_of = Product.feature_names_of


# Built once and read as plain rows: the product page loads its product on every search as you type.
_PRODUCT_ROW = (select(*_PRODUCTS.columns)
                .where(_PRODUCTS.c.id == bindparam("id"), _PRODUCTS.c.vendor_id == bindparam("vendor_id")))


def product_record(session: Session, *, vendor_id: int, product_id: int) -> ProductRecord:
    """The vendor's product as a read-only record; any other product is not found."""
    row = session.connection().execute(_PRODUCT_ROW, {"id": product_id, "vendor_id": vendor_id}).first()
    if row is None:
        raise NotFound()
    return ProductRecord._make(row)


def list_products(session: Session, *, vendor_id: int) -> list[tuple[Product, int]]:
    counts = (select(LicenseKey.product_id, func.count().label("key_count")).where(LicenseKey.vendor_id == vendor_id)
              .group_by(LicenseKey.product_id).subquery())
    return list(session.exec(
        select(Product, func.coalesce(counts.c.key_count, 0))
        .outerjoin(counts, counts.c.product_id == Product.id)
        .where(Product.vendor_id == vendor_id).order_by(Product.name, Product.id)).all())


def count_keys(session: Session, *, product: Product) -> int:
    return session.exec(select(func.count()).select_from(LicenseKey).where(LicenseKey.product_id == product.id)).one()


DOWNLOAD_URL_RULE = f"Give an address that starts with https:// or http://, of at most {URL_MAX:,} characters."


def download_url_problem(url: str) -> str:
    """What keeps `url` from being a product's download link, in words ("" for nothing): empty, or an http(s) address
    on one line (the one rule of form and service)."""
    if url != url.strip():
        return DOWNLOAD_URL_RULE
    return web_url_problem(url, otherwise=DOWNLOAD_URL_RULE) if url else ""


def _assign(product: Product, fields: dict) -> None:
    """Set the product's fields; a download address must be an http(s) one (it becomes a link on license cards)."""
    problem = download_url_problem(fields.get("download_url", ""))
    if problem:
        raise DomainError(problem, field="download_url")
    # Two features shown by one name (an unnamed F2 is "F2") could not be told apart on a key form, a license card
    # or a plan.
    shown = {}
    for n in range(1, 9):
        label = feature_label(n, (fields.get(f"f{n}_name") or "").strip())
        if label.casefold() in shown:
            first, first_label = shown[label.casefold()]
            raise DomainError(f"F{first} is shown as {first_label} already: give each feature its own name.",
                              field=f"f{n}_name")
        shown[label.casefold()] = (n, label)
    assign(product, fields, editable=EDITABLE_FIELDS)


def _refuse_a_second_name(session: Session, product: Product, name: str) -> None:
    """A new name must not be another product's of the vendor (in any case): two products of one name could not be
    told apart in a key form, the key search or a customer's license cards. Names kept from before stay as they are."""
    name = (name or "").strip()
    if not name or name == product.name:
        return
    # The vendor's row is locked first, so that two requests at once (a double-click on Create) check one after the
    # other (SQLite's writes already do). FOR NO KEY UPDATE: rows that refer to the vendor (a key made meanwhile,
    # an audit row) may still be written, so a key made while its product is renamed neither waits nor deadlocks.
    session.execute(select(Vendor.id).where(Vendor.id == product.vendor_id).with_for_update(key_share=True))
    # Compared casefolded in Python (SQLite's lower() folds ASCII only), spaces counted as one: a vendor has a
    # handful of products.
    others = session.exec(select(Product.name).where(Product.vendor_id == product.vendor_id,
                                                     Product.id != product.id)).all()
    same = next((other for other in others if _compared(other) == _compared(name)), None)
    if same is not None:
        raise DomainError(f"You have a product named {same} already: give this one a name of its own.",
                          field="name")


def _compared(name: str) -> str:
    return " ".join(name.split()).casefold()


def create_product(session: Session, *, vendor_id: int, actor: str, ip: str = "", **fields) -> Product:
    product = Product(vendor_id=vendor_id)
    _refuse_a_second_name(session, product, fields.get("name", ""))
    _assign(product, fields)
    session.add(product)
    session.flush()
    record_change(session, vendor_id=vendor_id, actor=actor, action="product.created", subject_type="product",
                  subject_id=product.id, after=snapshot(product, leave_out=("next_key_number",)), ip=ip)
    return product


def update_product(session: Session, *, product: Product, actor: str, ip: str = "", **fields) -> Product:
    before = snapshot(product, leave_out=("next_key_number",))
    if "name" in fields:
        _refuse_a_second_name(session, product, fields["name"])
    _assign(product, fields)
    session.add(product)
    record_change(session, vendor_id=product.vendor_id, actor=actor, action="product.updated",
                  subject_type="product", subject_id=product.id, before=before,
                  after=snapshot(product, leave_out=("next_key_number",)), ip=ip)
    return product


def delete_product(session: Session, *, product: Product, actor: str, ip: str = "") -> None:
    """Delete the product with its keys, their machines and the data objects on the product. Refused while a Stripe
    subscription to it still runs: Stripe would go on charging for a key that is gone."""
    live = live_subscription_ids(session, vendor_id=product.vendor_id, product_id=product.id)
    if live:
        raise DomainError(still_paid_for(live, "Customers pay for", "delete the product"))
    keys = count_keys(session, product=product)
    record_change(session, vendor_id=product.vendor_id, actor=actor, action="product.deleted",
                  subject_type="product", subject_id=product.id,
                  before=snapshot(product, leave_out=("next_key_number",)) | {"keys": keys}, ip=ip)
    delete_objects_of(session, vendor_id=product.vendor_id, referencer_type=PRODUCT, referencer_ids=[product.id])
    delete_objects_of(session, vendor_id=product.vendor_id, referencer_type=KEY,
                      referencer_ids=select(LicenseKey.id).where(LicenseKey.product_id == product.id))
    machine_ids = session.exec(select(ActivatedMachine.id).join(LicenseKey, LicenseKey.id == ActivatedMachine.key_id)
                               .where(LicenseKey.product_id == product.id)).all()
    session.delete(product)
    session.flush()  # its keys and their machines go with it (ON DELETE CASCADE) before the machines' data objects
    forget_machines_data(session, vendor_id=product.vendor_id, machine_ids=machine_ids)
