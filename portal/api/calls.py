"""One Web API call: the token check, the session (read-only for methods that only read), the parameters, and
the answer in JSON, whatever happens. Each method is a view registered with `api_method`."""

import functools
from dataclasses import dataclass, field

from flask import Blueprint, current_app, g, request
from limits import parse
from sqlalchemy import Connection, Row
from sqlmodel import Session

from portal.api import tokens
from portal.api.answers import refusal
from portal.api.params import ApiError, Params
from portal.domain import NO_SUCH_PRODUCT, DomainError, NotFound, find_owned
from portal.keys.services import keys_of_customer
from portal.models import Customer, Product, utcnow
from portal.throttle import spend
from portal.web import client_ip, requester

blueprint = Blueprint("api", __name__, url_prefix="/api")
# Lower-case path ("key/activate") -> (group, the view's endpoint): what the catch-all route tells apart.
METHODS: dict[str, str] = {}


@dataclass
class Call:
    # The ORM session, or for a method registered with orm=False a plain connection (Core statements only).
    session: Session | Connection
    # The token's row (portal/api/tokens.py: live_token), with its vendor's signing `modulus`.
    token: Row
    params: Params
    ip: str
    now: object = field(default_factory=utcnow)
    written: Session | None = None

    def writer(self) -> Session:
        """A write transaction of its own, for a reading method that finds it must write (key/Activate of a machine
        that is new or due a refresh); committed with the call, or rolled back with it. The read transaction ends
        first, so that a call never holds two connections at once (many calls waiting for a second connection
        while holding the pool's others would wait for ever); what the call reads after this, it reads here."""
        if self.written is None:
            # A session gives its connection back to the pool on rollback; a plain connection only when closed.
            if isinstance(self.session, Connection):
                self.session.close()
            else:
                self.session.rollback()
            self.written = Session(current_app.extensions["db_engine"], expire_on_commit=False)
        return self.written

    @property
    def reader(self) -> Session | Connection:
        """Where the call reads: its write transaction once it has one, else its read transaction."""
        return self.written if self.written is not None else self.session

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
        product_id = self.product_id(name)
        product = find_owned(self.session, Product, product_id, vendor_id=self.vendor_id)
        if product is None:
            raise ApiError(NO_SUCH_PRODUCT)
        return product

    def product_id(self, name: str = "ProductId") -> int:
        """The product id the call names, if the token may reach that product (whether it is the vendor's is for the
        caller to check)."""
        product_id = self.params.record_id(name)
        if self.token.product_id not in (None, product_id):
            raise ApiError(NO_SUCH_PRODUCT)
        return product_id

    def reach_of(self, customer: Customer) -> set[int] | None:
        """For a token limited to one product, the products of the customer's keys, by which it judges whether the
        customer is within its reach; None for a token of every product."""
        if self.token.product_id is None:
            return None
        return {key.product_id for key in keys_of_customer(self.reader, customer=customer)}


def _session(writes: bool, orm: bool) -> Session | Connection:
    engine = current_app.extensions["db_engine" if writes else "db_page_engine"]
    # Closed with the request (portal/db.py).
    g.db_session = Session(engine, expire_on_commit=False) if orm else engine.connect()
    return g.db_session


# Calls are counted per token before the token is looked at (portal/api/routes.py); wrong tokens, each a count of its
# own, are counted per address as well, once found wrong.
WRONG_TOKENS_PER_ADDRESS = parse("60 per minute")


def _token(session: Session, params: Params, group: str) -> Row:
    text = params.raw("token")
    if not text:
        if request.is_json:
            raise ApiError("The Web API takes form fields (application/x-www-form-urlencoded) or a query string, as "
                           "Cryptolens' does, not JSON: send token and the other parameters that way.", 400)
        raise ApiError("The parameter token is missing: send your access token as token (a form field or in the "
                       "query string).", 401)
    try:
        token = tokens.live_token(session, text)
    except NotFound as error:
        if not spend((WRONG_TOKENS_PER_ADDRESS,), "api-wrong-tokens", requester()):
            raise ApiError("Too many calls with wrong access tokens from this address: wait a minute.", 429) from error
        raise ApiError("Unable to authenticate.", 401) from error
    if group not in token.scopes.split():
        raise ApiError("Access denied.", 403)
    return token


def _note_use(call: Call, writes: bool) -> None:
    if not tokens.needs_touch(call.token, call.now):
        return
    tokens.touch(call.session if writes else call.writer(), token_id=call.token.id, now=call.now)


def _finish(call: Call | None, session: Session | Connection, *, commit: bool) -> None:
    """Commit (or roll back) what the call wrote: its own writer first, then the request's session."""
    written = call.written if call is not None else None
    for each in (written, session):
        if each is None or isinstance(each, Connection) and each.closed:  # closed for the writer: nothing to end
            continue
        if commit:
            each.commit()
        else:
            each.rollback()
    if written is not None:
        written.close()


def api_method(path: str, *, group: str, writes: bool = True, orm: bool = True):
    """Register a view for `/api/<path>` (any case); it gets a Call and returns the answer's data (a dict) or
    a response. Writing methods commit what the view did, or nothing when it refuses. A reading method whose reads
    are all Core statements (portal/keys/license_state.py) says orm=False and reads on a plain connection, without
    an ORM session's bookkeeping: measured on key/Activate, 8 % more calls a second; what it writes, it writes in
    `Call.writer()`'s session."""

    def register(view):
        @functools.wraps(view)
        def answer():
            params = Params(request.values)
            session = _session(writes, orm)
            call = None
            try:
                call = Call(session=session, token=_token(session, params, group), params=params, ip=client_ip())
                result = view(call)
                _note_use(call, writes)
                _finish(call, session, commit=True)
            except ApiError as error:
                _finish(call, session, commit=False)
                return refusal(error.message, error.status)
            except (DomainError, NotFound) as error:
                _finish(call, session, commit=False)
                return refusal(error.message)
            except Exception:
                _finish(call, session, commit=False)
                raise
            return result

        endpoint = path.replace("/", "_").lower()
        METHODS[path.lower()] = endpoint
        # No automatic OPTIONS answer (an empty HTML one): OPTIONS reaches the catch-all, whose answer is JSON.
        blueprint.add_url_rule(f"/{path.lower()}", endpoint, answer, methods=["GET", "POST"],
                               provide_automatic_options=False)
        return answer

    return register
