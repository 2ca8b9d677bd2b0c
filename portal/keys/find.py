"""Finding a key from anywhere in the vendor's pages: the whole key or a part of it, across the vendor's products."""

import re
from typing import NamedTuple

from sqlmodel import Session, col, func, select

from portal.domain import DomainError
from portal.models import Customer, LicenseKey, Product
from portal.rules import FULL_KEY

_KEY_CHARACTERS = re.compile(r"[A-Z-]*")
TYPED_MAX = 29  # a key's 23 characters, with a few hyphens more
SHOWN = 10


class FoundKey(NamedTuple):
    id: int
    key: str
    key_number: int
    product_name: str
    customer_name: str
    block: bool
    expires: object
    renews_on: object
    trial_activation: bool
    max_no_of_machines: int
    countdown_starts: int


def find_keys(session: Session, *, vendor_id: int, text: str, limit: int = SHOWN) -> list[FoundKey]:
    """The vendor's keys that are `text` or contain it (at most `limit` + 1, to tell that there are more).

    A whole key is looked up in each product's unique (product_id, key) index; a part is looked for in every key
    of the vendor, which is a scan, so a part needs four characters and the answer stops at `limit` + 1.
    """
    typed = normalized(text)
    if not _KEY_CHARACTERS.fullmatch(typed):
        raise DomainError("A key has only letters A-Z and hyphens, like ABCDE-FGHIJ-KLMNO-PQRST.", field="key")
    letters = typed.replace("-", "")
    if len(typed) > TYPED_MAX:
        raise DomainError(f"That is longer than a key: paste one key ({TYPED_MAX} characters at most).", field="key")
    if len(letters) < 4:
        raise DomainError("Paste a key or type at least 4 of its letters.", field="key")
    if len(letters) == 20:  # a whole key typed without its hyphens, or with them elsewhere
        typed = "-".join(letters[n:n + 5] for n in range(0, 20, 5))
    key = LicenseKey
    statement = (select(key.id, key.key, key.key_number, Product.name, Customer.name, Customer.email, key.block,
                        key.expires, key.renews_on, key.trial_activation, key.max_no_of_machines, key.countdown_starts)
                 .join(Product, Product.id == key.product_id).outerjoin(Customer, Customer.id == key.customer_id))
    if FULL_KEY.fullmatch(typed):
        statement = statement.where(key.key == typed, col(key.product_id).in_(
            select(Product.id).where(Product.vendor_id == vendor_id)))
    else:
        # The letters in order, wherever the hyphens fall: "VUMUZ" is in ...-KIWVU-MUZUH-...
        statement = statement.where(key.vendor_id == vendor_id, func.replace(key.key, "-", "").contains(letters))
    rows = session.exec(statement.order_by(col(key.id).desc()).limit(limit + 1)).all()
    return [FoundKey(r[0], r[1], r[2], r[3], r[4] or r[5] or "", *r[6:]) for r in rows]


def normalized(text: str) -> str:
    """What was pasted, as keys are stored: upper case, without spaces or line breaks."""
    return re.sub(r"\s+", "", text or "").upper()[:100]
