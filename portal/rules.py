"""Rules for what people type, applied by every entry point: forms, services, the command line and the API."""

import ipaddress
import re
from collections.abc import Iterable
from urllib.parse import urlsplit

import idna
from email_validator import EmailNotValidError, validate_email

from portal.billing_models import STRIPE_ID_MAX
from portal.domain import DomainError
from portal.models import EMAIL_MAX, URL_MAX

# A whole license key, as keys are stored (upper case): `XXXXX-XXXXX-XXXXX-XXXXX`.
FULL_KEY = re.compile(r"[A-Z]{5}(-[A-Z]{5}){3}")
SLUG_PATTERN = re.compile(r"^[a-z0-9](?:[a-z0-9.-]{1,61})[a-z0-9]$")
PASSWORD_MIN = 10
PASSWORD_MAX = 200
STRENGTH_WEIGHED = 32
# Control characters, and those that break a line or turn the text's direction around it (NEL, the line and
# paragraph separators, the bidirectional embeddings, overrides and isolates): none belongs in one line.
_CONTROL_CHARACTERS = re.compile("[\x00-\x1f\x7f\x85\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_STRIPE_ID = re.compile(rf"[A-Za-z0-9_]{{1,{STRIPE_ID_MAX}}}")


def normalize_email(email: str) -> str:
    """The form of an e-mail address that lookups and unique keys compare."""
    return email.strip().lower()


def normalize_slug(slug: str) -> str:
    return slug.strip().lower()


def valid_slug(slug: str, *, field: str = "slug") -> str:
    """A vendor's portal address (`acme.io`), lowercased; two dots in a row would read as a path."""
    slug = normalize_slug(slug)
    if not SLUG_PATTERN.match(slug) or ".." in slug:
        raise DomainError("Use 3 to 63 lowercase letters, digits, dots and hyphens, e.g. acme.io.", field=field)
    return slug


def valid_email(email: str, *, max_length: int = EMAIL_MAX, field: str = "email") -> str:
    email = email.strip()
    if not email:
        raise DomainError("Give an e-mail address.", field=field)
    if len(email) > max_length:
        raise DomainError(f"At most {max_length:,} characters.", field=field)
    try:
        # test_environment admits reserved names such as owner@demo.test, which the demo and tests use.
        validate_email(email, check_deliverability=False, test_environment=True)
    except EmailNotValidError as error:
        raise DomainError("Enter a valid e-mail address.", field=field) from error
    return email


def valid_new_password(password: str, *, field: str = "password", user_inputs: Iterable[str] = ()) -> str:
    """A password long enough and not easy to guess. zxcvbn (Dropbox's estimator) knows the common passwords,
    keyboard walks, sequences, repeats and dictionary words that make 1234567890 or "password123" long but weak, and
    `user_inputs` (the e-mail and names of whoever chooses it), which make one easy to guess for whoever knows them:
    its scores 0 and 1, under 10^6 guesses, are refused with its reason. Only the first 32 characters are weighed:
    its time grows steeply with the length (a sign-up's check, run by anyone, stays a few hundredths of a second),
    and a longer password is refused only by a weak start."""
    if not PASSWORD_MIN <= len(password) <= PASSWORD_MAX:
        raise DomainError(f"Use {PASSWORD_MIN} to {PASSWORD_MAX} characters.", field=field)
    # Imported here: its word lists take 13 MB, which a process that never sees a new password (a worker serving only
    # the Web API, the job consumer) does not need to hold.
    from zxcvbn import zxcvbn

    strength = zxcvbn(password[:STRENGTH_WEIGHED], user_inputs=[text[:100] for text in user_inputs if text])
    if strength["score"] < 2:
        reason = strength["feedback"]["warning"] or "It follows a pattern that is easy to guess."
        raise DomainError(f"This password is too easy to guess. {reason.rstrip('.')}. A few words of your own "
                          "choosing make a strong one.", field=field)
    return password


def is_single_line(text: str) -> bool:
    return not _CONTROL_CHARACTERS.search(text)


def is_stripe_id(value: str, prefixes: str | tuple[str, ...]) -> bool:
    """Whether `value` has the shape of a Stripe id with one of these prefixes (`price_…`, `sub_…`): anything else
    names no Stripe object, and would not reach a query (PostgreSQL refuses a NUL byte with an error)."""
    return value.startswith(prefixes) and _STRIPE_ID.fullmatch(value) is not None


def valid_name(name: str, *, max_length: int, field: str = "name") -> str:
    """A name or a title: given, one line, no control characters (it may end up in a mail header)."""
    name = name.strip()
    if not name:
        raise DomainError("Give a name.", field=field)
    if len(name) > max_length:
        raise DomainError(f"At most {max_length:,} characters.", field=field)
    if not is_single_line(name):
        raise DomainError("Use one line without control characters.", field=field)
    return name


HTTP_ADDRESS_RULE = f"Give an http:// or https:// address of at most {URL_MAX:,} characters."


def is_web_url(value: str) -> bool:
    """An http(s) address to enter and keep (the one rule wherever one is entered): web_url_problem finds none."""
    return not web_url_problem(value)


def web_url_problem(value: str, otherwise: str = HTTP_ADDRESS_RULE) -> str:
    """What keeps `value` from being an http(s) address to enter and keep, in words ("" for nothing): at most URL_MAX
    characters on one line, with no spaces, no user or password before the host (`https://bank.example@evil.example/`
    shows one host and opens another), a host that can be one (a name IDNA can write, in any script, or an IP
    address) and a port that is a number above 0. `otherwise` when it is no http(s) address at all: a caller's own
    words for what the field takes."""
    value = value.strip()
    if not is_http_address(value):
        return otherwise
    if " " in value or not is_single_line(value):
        return "Write the address on one line, without spaces (a space in an address is written %20)."
    parts = urlsplit(value)  # is_http_address has read it
    if parts.username is not None or parts.password is not None:
        return ("Leave out the name or password before the host (up to the @): an address that shows one host and "
                "opens another is refused.")
    try:
        port = parts.port
    except ValueError:
        port = 0
    if port == 0:
        return "Give a port from 1 to 65535 after the host, or none."
    if not _is_host(parts.hostname or ""):
        return f"{parts.hostname or 'The host'} is not a host name or an IP address a browser can open."
    return ""


def is_http_address(value: str) -> bool:
    """Whether a value kept already reads as an http(s) address (a link) of at most URL_MAX characters, rather than
    an e-mail address or text: what pages ask of what was stored, which is_web_url judged when it was entered (under
    the rule of its day)."""
    value = value.strip()
    try:
        parts = urlsplit(value)
    except ValueError:  # an unbalanced bracket: "https://[x/"
        return False
    # URL_MAX: what a terms acceptance keeps of its address (a longer one, allowed once, is not asked to be accepted).
    return parts.scheme in ("http", "https") and bool(parts.netloc) and len(value) <= URL_MAX


def _is_host(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        pass
    try:
        written = idna.encode(host.removesuffix("."), uts46=True).decode("ascii")
    except (idna.IDNAError, UnicodeError):
        # IDNA 2008 refuses some names browsers open: an underscore in a label (terms_v2.acme.example).
        written = host.removesuffix(".").lower()
    return all(re.fullmatch(r"(?!-)[a-z0-9_-]{1,63}(?<!-)", label) for label in written.split("."))
