"""Password hashing, unguessable tokens, encryption of secrets at rest, and no secret in the request log."""

import base64
import hashlib
import hmac
import logging
import os
import re
import secrets

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError
from cryptography.fernet import Fernet, InvalidToken
from flask import current_app
from itsdangerous import URLSafeTimedSerializer

# argon2id with m=12 MiB, t=3, p=1: one of OWASP's equivalent minimum settings (m=47 MiB/t=1, 19/2, 12/3, 9/4,
# 7/5). Its memory is what a worker peaks at while it checks a password, so the setting with less memory and more
# passes keeps a worker near 110 MB instead of 160 (the library's default is 64 MiB). Hashes made with other
# parameters are upgraded at the next successful login (`needs_rehash`, `upgrade_hash`). Until then such an
# account takes as long to check as its parameters ask, which a timing probe can tell from an unknown e-mail
# (checked against a dummy hash of today's parameters); argon2 gives no way to pad one cost to another
# (Django's argon2 hasher makes the same call). No release of the portal used other parameters.
PARAMETERS = {"time_cost": 3, "memory_cost": 12 * 1024, "parallelism": 1}
# The test suite asks for argon2's cheapest parameters (PORTAL_FAST_HASHING=1): hashes stay argon2id, tests fast.
_hasher = (PasswordHasher.from_parameters(profiles.CHEAPEST) if os.environ.get("PORTAL_FAST_HASHING") == "1"
           else PasswordHasher(**PARAMETERS))
# Verified against when an e-mail has no account, so a login takes as long whether or not it exists. Made once,
# ahead of time, for the parameters above (hashing at import would cost every worker a tenth of a second before it
# served anything). Made at import only if the parameters differ.
_PREMADE_DUMMY_HASH = ("$argon2id$v=19$m=12288,t=3,p=1$lvFgPd/X+QzW6S7ibvgcxQ$"
                       "ROSnOgU9rrwimINsliXukHt3UVqJUyjTaC+neYrvaiQ")
_DUMMY_HASH = (_hasher.hash("not-a-password-anyone-has") if _hasher.check_needs_rehash(_PREMADE_DUMMY_HASH)
               else _PREMADE_DUMMY_HASH)


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """The hash was made with other parameters than today's (it is upgraded when its password is next given)."""
    try:
        return _hasher.check_needs_rehash(password_hash)
    except InvalidHashError:
        return True


def upgrade_hash(session, model, row, password: str) -> None:
    """Store a hash of `password` made with today's parameters, unless the hash changed meanwhile.

    One conditional UPDATE: a password change or reset that commits while this login was being checked keeps
    its new hash, instead of getting back a hash of the old password. The caller commits.
    """
    upgraded = hash_password(password)
    table = model.__table__
    session.execute(table.update().where(table.c.id == row.id, table.c.password_hash == row.password_hash)
                    .values(password_hash=upgraded))


def new_token() -> str:
    """256 random bits, URL-safe."""
    return secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def same_secret(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode(), expected.encode())


class Encryptor:
    """Fernet encryption for secrets kept at rest (association codes, later Stripe keys)."""

    def __init__(self, key: str):
        self._fernet = Fernet(key.encode())

    @classmethod
    def for_development(cls, secret_key: str) -> "Encryptor":
        digest = hashlib.sha256(b"portal-encryption:" + secret_key.encode()).digest()
        return cls(base64.urlsafe_b64encode(digest).decode())

    def encrypt(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode()).decode()

    def decrypt(self, ciphertext: str) -> str | None:
        try:
            return self._fernet.decrypt(ciphertext.encode()).decode()
        except (InvalidToken, ValueError):
            return None


def link_signer(salt: str) -> URLSafeTimedSerializer:
    """Signs and reads the tokens of mailed links that keep nothing in the database (a vendor's password reset, a
    vendor's registration), with the app's secret key; `salt` keeps one kind of link from passing for another."""
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=salt)


class RequestLineWithoutQuery(logging.Filter):
    """The development server's request log (`make run`, werkzeug's logger) without query strings, as production's
    gunicorn log format has it (gunicorn.conf.py): a Web API call may carry its access token in the query (GET works
    as POST does), a password-reset or sign-up link its one-time token, a search what was searched for."""

    _QUERY = re.compile(r"^(\S+ [^?\s]*)\?\S*")  # "GET /path?query HTTP/1.1" (perhaps in colour codes)

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and record.args and isinstance(record.args[0], str):
            record.args = (self._QUERY.sub(r"\1", record.args[0]), *record.args[1:])
        return True


REQUEST_LINE_WITHOUT_QUERY = RequestLineWithoutQuery()


def keep_queries_out_of_the_request_log() -> None:
    logging.getLogger("werkzeug").addFilter(REQUEST_LINE_WITHOUT_QUERY)  # once: a filter already there is not added
