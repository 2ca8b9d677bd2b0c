"""One Web API call: the token check, the session (read-only for methods that only read), the parameters, and
the answer in JSON, whatever happens. Each method is a view registered with `api_method`."""

import functools
from dataclasses import dataclass, field

from flask import Blueprint, current_app, g, request
from sqlmodel import Session

from portal.api import tokens
from portal.api.answers import refusal
from portal.api.params import ApiError, Params
from portal.domain import DomainError, NotFound, find_owned
from portal.models import ApiToken, Product, utcnow
from portal.web import client_ip

blueprint = Blueprint("api", __name__, url_prefix="/api")
# Lower-case path ("key/activate") -> (group, the view's endpoint): what the catch-all route tells apart.
METHODS: dict[str, str] = {}


@dataclass
class Call:
    session: Session
    token: ApiToken
    params: Params
    ip: str
    now: object = field(default_factory=utcnow)

    @property
    def vendor_id(self) -> int:
        return self.token.vendor_id

    @property
    def actor(self) -> str:
        return tokens.actor_of(self.token)

    @property
    def encryptor(self):
        return current_app.extensions["encryptor"]

    def product(self, name: str = "ProductId") -> Product:
        """The vendor's product the call names, if the token may reach it."""
        product_id = self.params.record_id(name)
        product = find_owned(self.session, Product, product_id, vendor_id=self.vendor_id)
        if product is None or self.token.product_id not in (None, product_id):
            raise ApiError(f"No product of yours has the {name} {product_id}.")
        return product


def _session(writes: bool) -> Session:
    engine = current_app.extensions["db_engine" if writes else "db_page_engine"]
    g.db_session = Session(engine, expire_on_commit=False)  # closed with the request (portal/db.py)
    return g.db_session


def _token(session: Session, params: Params, group: str) -> ApiToken:
    try:
        token = tokens.live_token(session, params.raw("token") or "")
    except NotFound as error:
        raise ApiError("The access token is not valid (wrong or revoked).", 401) from error
    if group not in token.scopes.split():
        raise ApiError(f"The access token may not call {group} methods.", 403)
    return token


def _note_use(token: ApiToken, session: Session, writes: bool, now) -> None:
    if not tokens.needs_touch(token, now):
        return
    if writes:
        tokens.touch(session, token_id=token.id, now=now)
        return
    with Session(current_app.extensions["db_engine"]) as writer:
        tokens.touch(writer, token_id=token.id, now=now)
        writer.commit()


def api_method(path: str, *, group: str, writes: bool = True):
    """Register a view for `/api/<path>` (any case); it gets a Call and returns the answer's data (a dict) or
    a response. Writing methods commit what the view did, or nothing when it refuses."""

    def register(view):
        @functools.wraps(view)
        def answer():
            params = Params(request.values)
            session = _session(writes)
            try:
                token = _token(session, params, group)
                call = Call(session=session, token=token, params=params, ip=client_ip())
                result = view(call)
                _note_use(token, session, writes, call.now)
                session.commit()
            except ApiError as error:
                session.rollback()
                return refusal(error.message, error.status)
            except (DomainError, NotFound) as error:
                session.rollback()
                return refusal(error.message)
            return result

        endpoint = path.replace("/", "_").lower()
        METHODS[path.lower()] = endpoint
        blueprint.add_url_rule(f"/{path.lower()}", endpoint, answer, methods=["GET", "POST"])
        return answer

    return register
