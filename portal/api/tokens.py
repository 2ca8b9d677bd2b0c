"""Web API access tokens: make one (shown once), revoke, list, and find the live token a call names."""

from datetime import datetime, timedelta

from sqlalchemy import bindparam, or_, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from portal.api_models import ApiToken, SigningKey
from portal.audit import record_change
from portal.domain import DomainError, NotFound, find_owned, get_owned
from portal.models import NAME_MAX, Product, utcnow
from portal.security import new_token, token_digest

# The method groups a token may call.
GROUPS = ("activation", "keys", "customers", "dataobjects", "products")
GROUP_LABELS = {"activation": "Activation (Activate, GetKey, Deactivate, CreateTrialKey)",
                "keys": "Keys (CreateKey, ExtendLicense, BlockKey, ...)", "customers": "Customers",
                "dataobjects": "Data objects", "products": "Products (GetProducts, GetKeys)"}
GROUP_NAMES = {group: label.split(" (")[0] for group, label in GROUP_LABELS.items()}  # "Activation", "Data objects"
# "Last used" is written at most this often: it is no reason to write on every call.
LAST_USED_EVERY = timedelta(minutes=1)


def actor_of(token) -> str:
    """Who the audit trail says made a change through the API: the token's id and name ("api_token:7 Build server",
    shown as "API token Build server (#7)"), since a revoked token's name can be given to a new one."""
    return f"api_token:{token.id} {token.name}"


def create_token(session: Session, *, vendor_id: int, name: str, scopes: list[str] | tuple[str, ...] = (),
                 product_id: int | None = None, actor: str, ip: str = "", text: str | None = None,
                 replacing: bool = False) -> tuple[ApiToken, str]:
    """A new token and its text, which is shown once and never kept; no scope named means every group. `text` is
    for the demo seed only, whose token is kept in `.env`; `replacing` (the seed's and the bench's) revokes a live
    token of the name first, where the name would otherwise be refused as in use."""
    name = (name or "").strip()
    if replacing:
        for old in live_tokens_named(session, vendor_id=vendor_id, name=name):
            revoke_token(session, vendor_id=vendor_id, token_id=old, actor=actor, ip=ip)
    if not name or len(name) > NAME_MAX:
        raise DomainError(f"Give a name of 1 to {NAME_MAX} characters.", field="name")
    unknown = sorted(set(scopes) - set(GROUPS))
    if unknown:
        raise DomainError(f"Unknown method groups: {', '.join(unknown)} (choose from {', '.join(GROUPS)}).",
                          field="scopes")
    if product_id is not None and find_owned(session, Product, product_id, vendor_id=vendor_id) is None:
        raise DomainError("Choose one of your products.", field="product_id")
    in_use = DomainError(f"A token named {name} is in use: give this one another name, or revoke that one first.",
                         field="name")
    if live_tokens_named(session, vendor_id=vendor_id, name=name):
        raise in_use
    text = text or new_token()
    token = ApiToken(vendor_id=vendor_id, name=name, token_hash=token_digest(text),
                     scopes=" ".join(group for group in GROUPS if group in (scopes or GROUPS)), product_id=product_id)
    try:
        with session.begin_nested():  # the unique index over live names decides between two at one moment
            session.add(token)
    except IntegrityError:
        raise in_use from None
    record_change(session, vendor_id=vendor_id, actor=actor, action="api_token.created", subject_type="api_token",
                  subject_id=token.id, after={"name": name, "scopes": token.scopes, "product_id": product_id}, ip=ip)
    return token, text


def live_tokens_named(session: Session, *, vendor_id: int, name: str) -> list[int]:
    """The ids of the vendor's unrevoked tokens of this name (one at most, as create_token keeps it)."""
    return list(session.exec(select(ApiToken.id).where(ApiToken.vendor_id == vendor_id, ApiToken.name == name,
                                                       ApiToken.revoked_at.is_(None))).all())


def revoke_token(session: Session, *, vendor_id: int, token_id: int, actor: str, ip: str = "") -> ApiToken:
    token = get_owned(session, ApiToken, token_id, vendor_id=vendor_id)
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        session.add(token)
        record_change(session, vendor_id=vendor_id, actor=actor, action="api_token.revoked",
                      subject_type="api_token", subject_id=token.id, after={"name": token.name}, ip=ip)
    return token


def list_tokens(session: Session, *, vendor_id: int) -> list[ApiToken]:
    return list(session.exec(select(ApiToken).where(ApiToken.vendor_id == vendor_id)
                             .order_by(ApiToken.revoked_at.is_not(None), ApiToken.id.desc())).all())


def live_token(session: Session, text: str):
    """The unrevoked token with this text, read afresh on every call (a revoked token is refused at once), with its
    vendor's signing modulus (None before the vendor's first signed answer); NotFound otherwise, the same for a wrong
    and a revoked token. A row with the token's columns and `modulus`."""
    if not text or len(text) > 200:
        raise NotFound("The access token is not valid.")
    token = session.execute(_LIVE_TOKEN, {"digest": token_digest(text)}).first()
    if token is None or token.revoked_at is not None:
        raise NotFound("The access token is not valid.")
    return token


_TOKENS, _SIGNING_KEYS = ApiToken.__table__, SigningKey.__table__
_LIVE_TOKEN = (select(_TOKENS.c.id, _TOKENS.c.vendor_id, _TOKENS.c.name, _TOKENS.c.scopes, _TOKENS.c.product_id,
                      _TOKENS.c.revoked_at, _TOKENS.c.last_used_at, _SIGNING_KEYS.c.modulus)
               .select_from(_TOKENS.outerjoin(_SIGNING_KEYS, _SIGNING_KEYS.c.vendor_id == _TOKENS.c.vendor_id))
               .where(_TOKENS.c.token_hash == bindparam("digest")))


def needs_touch(token, now: datetime) -> bool:
    return token.last_used_at is None or now - token.last_used_at >= LAST_USED_EVERY


def touch(session: Session, *, token_id: int, now: datetime) -> None:
    """Note the token's use, unless it was noted within the last minute (one conditional UPDATE)."""
    session.execute(update(ApiToken).where(
        ApiToken.id == token_id,
        or_(ApiToken.last_used_at.is_(None), ApiToken.last_used_at <= now - LAST_USED_EVERY))
        .values(last_used_at=now))


def has_token(session: Session, text: str) -> bool:
    return session.exec(select(ApiToken.id).where(ApiToken.token_hash == token_digest(text))).first() is not None
