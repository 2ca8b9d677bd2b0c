"""Bad input on every form: a message at the field, a 4xx status and nothing stored; markup kept, shown escaped."""

import re
from dataclasses import dataclass, field
from html import unescape

import pytest
from argon2 import PasswordHasher
from markupsafe import escape
from sqlmodel import Session, select

from portal.accounts import services as accounts
from portal.dataobjects import services as dataobjects
from portal.dataobjects.services import TERMS_URL
from portal.models import Customer, DataObject, PendingLogin, PortalAccount, Vendor, VendorUser
from portal.vendors import registration
from tests.support.factories import CUSTOMER_PASSWORD, VENDOR_PASSWORD
from tests.support.mail import text_of
from tests.support.pages import csrf_token, post_form
from tests.support.world import db_rows

NEW_PASSWORD = "a-new-password-1"
MARKUP = "<script>alert(1)</script>"
FORM_ERROR = "(form)"  # the message sits above the form, not at one field
EMAIL_101 = f"{'a' * 40}@{'b' * 47}.example.test"
CUSTOMER = {"name": "Grace Hopper", "email": "grace@example.test", "company_name": "Navy", "notes": "admiral",
            "max_no_of_devices": "2"}


@dataclass(frozen=True)
class Form:
    url: str  # placeholders are filled from the `env` fixture
    client: str  # "stranger", "vendor" (logged in to the dashboard) or "portal" (logged in to the portal)
    valid: dict  # a submission the form accepts; a value "{name}" is filled from `env`
    required: tuple  # the fields that complain when left empty
    prefix: str = ""
    fixed: dict = field(default_factory=dict)  # sent with every submission (which button was pressed)
    lands: str = ""  # where an accepted submission is sent by a 303 (a pattern filled from `env`); "" for a page
    edits: str = ""  # the table of the record an edit form was opened on

    def data(self, env: dict, changes: dict | None = None) -> dict:
        values = {**{k: _fill(v, env) for k, v in self.valid.items()}, **(changes or {})}
        return {**self.fixed, **{self.prefix + k: v for k, v in values.items() if v is not None}}

    def assert_accepted(self, response, env: dict) -> None:
        if not self.lands:
            assert response.status_code == 200, response.get_data(as_text=True)
            return
        assert response.status_code == 303, response.get_data(as_text=True)
        landing = re.sub(r"\{(\w+)\}", lambda found: re.escape(str(env[found.group(1)])), self.lands)
        assert re.fullmatch(landing, response.headers["Location"]), response.headers["Location"]


def _fill(value: str, env: dict) -> str:
    found = re.fullmatch(r"\{(\w+)\}", value)
    return env[found.group(1)] if found else value


FORMS = {
    "vendor register": Form("/vendor/register", "stranger", {
        "name": "Initech", "slug": "initech", "email": "boss@initech.test"}, ("name", "slug", "email")),
    "vendor register finish": Form("/vendor/register/finish?token={registration_token}", "stranger", {
        "name": "Initech", "slug": "initech", "password": NEW_PASSWORD}, ("name", "slug", "password"),
        lands="/vendor/"),
    "vendor login": Form("/vendor/login", "stranger", {"email": "{owner_email}", "password": VENDOR_PASSWORD},
                         ("email", "password"), lands="/vendor/"),
    "customer new": Form("/vendor/customers/new", "vendor", CUSTOMER, ("name",), lands=r"/vendor/customers/\d+"),
    "customer edit": Form("/vendor/customers/{customer_id}/edit", "vendor", CUSTOMER, ("name",),
                          lands="/vendor/customers/{customer_id}", edits="customer"),
    "data object add": Form("/vendor/data-objects/", "vendor",
                            {"name": "size", "string_value": "large", "int_value": "3"}, ("name",),
                            lands="/vendor/data-objects/"),
    "data object edit": Form("/vendor/data-objects/{object_id}/edit", "vendor",
                             {"name": "colour", "string_value": "red", "int_value": "-3"}, ("name",),
                             lands="/vendor/data-objects/", edits="data_object"),
    "sign-up": Form("/Portal/@{slug}/SignUp", "stranger", {
        "name": "Bob", "email": "bob@example.test", "company_name": "Bobco", "password": NEW_PASSWORD},
        ("name", "email", "password")),
    "portal login": Form("/Portal/@{slug}/Login", "stranger", {"email": "{account_email}",
                                                               "password": CUSTOMER_PASSWORD}, ("email", "password"),
                         lands="/Portal/@{slug}/"),
    "forgot password": Form("/Portal/@{slug}/ForgotPassword", "stranger", {"email": "{account_email}"},
                            ("email",)),
    "reset password": Form("/Portal/@{slug}/ResetPassword?token={reset_token}", "stranger",
                           {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}, ("password", "confirm"),
                           lands="/Portal/@{slug}/"),
    "change password": Form("/Portal/@{slug}/ChangePassword", "portal", {
        "current_password": CUSTOMER_PASSWORD, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
        ("current_password", "password", "confirm"), lands="/Portal/@{slug}/"),
    "vendor password": Form("/vendor/password", "vendor", {
        "current_password": VENDOR_PASSWORD, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
        ("current_password", "password", "confirm"), lands="/vendor/"),
    "associate, new login": Form("{association}", "stranger", {
        "name": "Carol", "email": "carol@example.test", "password": NEW_PASSWORD}, ("name", "email", "password"),
        prefix="new-", fixed={"which": "new"}),
    "associate, existing login": Form("{association}", "stranger", {
        "email": "solo@example.test", "password": CUSTOMER_PASSWORD}, ("email", "password"),
        prefix="existing-", fixed={"which": "existing"}, lands="/Portal/@{slug}/"),
}

BAD_EMAILS = ["not-an-email", "ada@@example.test", MARKUP + "@example.test"]
BAD_TERMS_URLS = ["javascript:alert(1)", "ftp://x", "not a url", "", "https://", "https://exa mple.test/terms",
                  "https://<script>.test/", "https://acme.test:port/", "https://[x/"]

# (form, what is wrong, the changes, where the message must appear)
SPECIFIC = [
    ("vendor register", "name too long", {"name": "n" * 101}, ["name"]),
    ("vendor register", "control character in name", {"name": "Init\x00ech"}, ["name"]),
    ("vendor register", "slug with spaces", {"slug": "not a slug"}, ["slug"]),
    ("vendor register", "slug too short", {"slug": "ab"}, ["slug"]),
    ("vendor register", "slug with two dots", {"slug": "a..b"}, ["slug"]),
    ("vendor register", "slug with markup", {"slug": MARKUP}, ["slug"]),
    ("vendor register", "slug taken", {"slug": "ACME.io"}, ["slug"]),
    ("vendor register finish", "slug taken", {"slug": "ACME.io"}, ["slug"]),
    ("vendor register finish", "slug with markup", {"slug": MARKUP}, ["slug"]),
    ("vendor register finish", "password too short", {"password": "nine-char"}, ["password"]),
    ("vendor register finish", "password is the e-mail", {"password": "boss@initech.test"}, ["password"]),
    ("vendor register finish", "password too long", {"password": "p" * 201}, ["password"]),
    ("vendor login", "wrong password", {"password": "wrong-password-1"}, [FORM_ERROR]),
    ("vendor login", "unknown e-mail", {"email": "nobody@example.test"}, [FORM_ERROR]),
    *[(form, label, changes, fields) for form in ("customer new", "customer edit") for label, changes, fields in [
        ("name too long", {"name": "n" * 101}, ["name"]),
        ("company too long", {"company_name": "c" * 101}, ["company_name"]),
        ("e-mail too long", {"email": EMAIL_101}, ["email"]),
        ("notes too long", {"notes": "n" * 1001}, ["notes"]),
        ("control character in name", {"name": "Grace\x07"}, ["name"]),
        ("NUL in notes", {"notes": "line\x00"}, ["notes"]),
        ("devices not a number", {"max_no_of_devices": "abc"}, ["max_no_of_devices"]),
        ("devices not whole", {"max_no_of_devices": "1.5"}, ["max_no_of_devices"]),
        ("devices negative", {"max_no_of_devices": "-1"}, ["max_no_of_devices"]),
        ("devices beyond 32 bits", {"max_no_of_devices": "2147483648"}, ["max_no_of_devices"]),
        ("devices beyond 64 bits", {"max_no_of_devices": "99999999999999999999"}, ["max_no_of_devices"]),
    ]],
    *[(form, label, changes, fields) for form in ("data object add", "data object edit")
      for label, changes, fields in [
        ("name too long", {"name": "n" * 101}, ["name"]),
        ("control character in name", {"name": "size\x1b"}, ["name"]),
        ("string too long", {"string_value": "s" * 10_001}, ["string_value"]),
        ("NUL in string", {"string_value": "large\x00"}, ["string_value"]),
        ("integer not a number", {"int_value": "abc"}, ["int_value"]),
        ("integer not whole", {"int_value": "2.5"}, ["int_value"]),
        ("integer beyond 32 bits", {"int_value": "2147483648"}, ["int_value"]),
        ("integer below 32 bits", {"int_value": "-2147483649"}, ["int_value"]),
        ("integer beyond 64 bits", {"int_value": "99999999999999999999"}, ["int_value"]),
        *[(f"terms address {url!r}", {"name": TERMS_URL, "string_value": url}, ["string_value"])
          for url in BAD_TERMS_URLS],
    ]],
    ("sign-up", "name too long", {"name": "n" * 101}, ["name"]),
    ("sign-up", "company too long", {"company_name": "c" * 101}, ["company_name"]),
    ("sign-up", "e-mail too long", {"email": EMAIL_101}, ["email"]),
    ("sign-up", "control character in company", {"company_name": "Bob\x00co"}, ["company_name"]),
    ("sign-up", "password too short", {"password": "nine-char"}, ["password"]),
    ("sign-up", "password too long", {"password": "p" * 201}, ["password"]),
    ("portal login", "wrong password", {"password": "wrong-password-1"}, [FORM_ERROR]),
    ("portal login", "unknown e-mail", {"email": "nobody@example.test"}, [FORM_ERROR]),
    ("reset password", "too short", {"password": "nine-char", "confirm": "nine-char"}, ["password"]),
    ("reset password", "too long", {"password": "p" * 201, "confirm": "p" * 201}, ["password"]),
    ("reset password", "repeated differently", {"confirm": NEW_PASSWORD + "x"}, ["confirm"]),
    ("change password", "wrong current password", {"current_password": "wrong-password-1"}, ["current_password"]),
    ("change password", "too short", {"password": "nine-char", "confirm": "nine-char"}, ["password"]),
    ("change password", "repeated differently", {"confirm": NEW_PASSWORD + "x"}, ["confirm"]),
    ("vendor password", "wrong current password", {"current_password": "wrong-password-1"}, ["current_password"]),
    ("vendor password", "too short", {"password": "nine-char", "confirm": "nine-char"}, ["password"]),
    ("vendor password", "repeated differently", {"confirm": NEW_PASSWORD + "x"}, ["confirm"]),
    ("associate, new login", "name too long", {"name": "n" * 101}, ["name"]),
    ("associate, new login", "e-mail too long", {"email": EMAIL_101}, ["email"]),
    ("associate, new login", "password too short", {"password": "nine-char"}, ["password"]),
    ("associate, existing login", "wrong password", {"password": "wrong-password-1"}, [FORM_ERROR]),
    ("associate, existing login", "login of another customer", {"email": "ada@example.test"}, [FORM_ERROR]),
]


def _cases():
    cases = []
    for name, form in FORMS.items():
        cases.append(pytest.param(name, {k: "" for k in form.valid}, form.required, id=f"{name}: empty"))
        if not form.edits:  # see test_an_edit_form_keeps_what_a_post_leaves_out
            cases.append(pytest.param(name, {k: None for k in form.valid}, form.required, id=f"{name}: missing"))
        if "email" in form.valid:
            cases += [pytest.param(name, {"email": bad}, ["email"], id=f"{name}: e-mail {bad!r}")
                      for bad in BAD_EMAILS]
    return cases + [pytest.param(name, changes, fields, id=f"{name}: {label}")
                    for name, label, changes, fields in SPECIFIC]


class Env(dict):
    """The values a form's address and valid submission name, each made the first time it is asked for."""

    def __init__(self, request):
        super().__init__()
        self.request = request

    def __missing__(self, name: str):
        fixture = self.request.getfixturevalue
        make, db, vendor = fixture("make"), fixture("db"), fixture("vendor")
        if name == "slug":
            value = vendor.slug
        elif name == "owner_email":
            value = make.owner(vendor).email
        elif name == "account_email":
            value = fixture("account").email
        elif name == "customer_id":
            value = fixture("customer").id
        elif name == "object_id":
            value = dataobjects.add_object(db, vendor_id=vendor.id, name="colour", string_value="blue",
                                           actor="test").id
        elif name == "registration_token":
            with fixture("app").app_context():
                value = registration.token_for(registration.Asked("Initech", "initech", "boss@initech.test"))
        elif name == "reset_token":
            value = accounts.issue_token(db, account=fixture("account"), purpose=accounts.RESET_PASSWORD)
        elif name == "association":
            fixture("account")  # ada@example.test has a login here, of a customer the vendor made
            solo = make.customer(vendor, name="", email="solo@example.test", origin="signup")
            make.account(vendor, solo, email="solo@example.test")  # a login whose customer is an empty sign-up
            value = make.association_link(vendor, make.customer(vendor, name="Invited", association=True))
        else:
            raise KeyError(name)
        db.commit()
        self[name] = value
        return value


@pytest.fixture
def env(request, vendor) -> Env:
    return Env(request)


def open_form(form: Form, env: dict, request):
    """A client in the form's role, and the form's address."""
    if form.client == "stranger":
        client = request.getfixturevalue("app").test_client()
    else:
        client = request.getfixturevalue({"vendor": "vendor_client", "portal": "portal_client"}[form.client])
    return client, form.url.format_map(env)


def submit(form: Form, env: dict, request, changes: dict | None = None):
    client, url = open_form(form, env, request)
    token = csrf_token(client, url)
    return client, client.post(url, data={"csrf_token": token, **form.data(env, changes)})


def stored(app, model, **where):
    with Session(app.extensions["db_read_engine"]) as session:
        return session.exec(select(model).filter_by(**where)).one()


def assert_shown_escaped(html: str, value: str) -> None:
    assert str(escape(value)) in html
    if "<" in value:
        assert value not in html


@pytest.mark.parametrize(("form_name", "changes", "errors"), _cases())
def test_bad_input_is_refused_at_the_field(app, env, request, form_name, changes, errors):
    form = FORMS[form_name]
    client, url = open_form(form, env, request)
    data = {"csrf_token": csrf_token(client, url), **form.data(env, changes)}
    before = db_rows(app)
    response = client.post(url, data=data)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    for name in errors:
        if name == FORM_ERROR:
            assert 'class="form-error" role="alert"' in html
        else:
            assert f'<small id="{form.prefix}{name}-error" class="field-error">' in html, f"no message at {name}"
    assert MARKUP not in html and "This field is required." not in html
    assert db_rows(app) == before


@pytest.mark.parametrize(("who", "url", "data", "said"), [
    ("vendor", "/vendor/products/new", {"name": ""}, {"name": "Give the product a name."}),
    ("vendor", "/vendor/data-objects/", {"name": ""}, {"name": "Give the data object a name."}),
    ("vendor", "/vendor/api-tokens/", {"name": "", "scopes": "activation"}, {"name": "Give the token a name."}),
    ("vendor", "/vendor/products/{product_id}/prices/new", {"amount": "", "currency": "", "interval": "month"},
     {"amount": "Give an amount.", "currency": "Give a currency."}),
    ("vendor", "/vendor/products/{product_id}/prices/link", {"stripe_price_id": ""},
     {"stripe_price_id": "Paste a price id from Stripe (price_…)."}),
    ("stranger", "/Portal/@{slug}/SignUp", {"name": "", "email": "", "password": ""},
     {"name": "Give your name.", "email": "Give an e-mail.", "password": "Give a password."}),
    ("stranger", "/vendor/register", {"name": "", "slug": "", "email": ""},
     {"name": "Give a company name.", "slug": "Give a portal address.", "email": "Give your e-mail."}),
])
def test_an_empty_required_field_says_what_to_give(app, make, vendor, vendor_client, who, url, data, said):
    client = vendor_client if who == "vendor" else app.test_client()
    url = url.format(product_id=make.product(vendor).id, slug=vendor.slug)
    answer = post_form(client, url, data)
    html = answer.get_data(as_text=True)
    assert answer.status_code == 422
    for name, message in said.items():
        assert f'<small id="{name}-error" class="field-error">{message}</small>' in html


@pytest.mark.parametrize("form_name", FORMS)
def test_the_valid_submission_is_accepted(env, request, form_name):
    # The control for the table above: each bad case differs from an accepted submission only where it says.
    form = FORMS[form_name]
    _client, response = submit(form, env, request)
    form.assert_accepted(response, env)
    assert "field-error" not in response.get_data(as_text=True)


@pytest.mark.parametrize("form_name", [name for name, form in FORMS.items() if form.edits])
def test_an_edit_form_keeps_what_a_post_leaves_out(app, env, request, form_name):
    # WTForms fills a field the POST lacks from the record the form was opened on: no browser sends such a
    # POST, and it must either be refused or leave the record as it was, never blank it.
    form = FORMS[form_name]
    client, url = open_form(form, env, request)
    token = csrf_token(client, url)
    before = db_rows(app)[form.edits]
    response = client.post(url, data={"csrf_token": token})
    if response.status_code != 422:
        form.assert_accepted(response, env)
    assert db_rows(app)[form.edits] == before


def test_a_second_terms_object_is_refused(app, make, vendor, vendor_client):
    make.terms(vendor)
    before = db_rows(app)
    response = vendor_client.post("/vendor/data-objects/", data={
        "csrf_token": csrf_token(vendor_client, "/vendor/data-objects/"), "name": TERMS_URL,
        "string_value": "https://acme.example/terms-v2", "int_value": "0"})
    assert response.status_code == 422
    assert '<small id="name-error" class="field-error">' in response.get_data(as_text=True)
    assert db_rows(app) == before


def test_settings_change_only_the_two_switches(app, vendor, vendor_client):
    response = post_form(vendor_client, "/vendor/settings", {
        "portal_enabled": MARKUP, "signup_enabled": "false", "slug": "hijacked", "name": "Hijacked", "id": "999"})
    assert response.status_code == 303 and response.headers["Location"] == "/vendor/settings"
    saved = stored(app, Vendor, id=vendor.id)
    assert (saved.slug, saved.name) == (vendor.slug, vendor.name)
    assert (saved.portal_enabled, saved.signup_enabled) == (True, False)


@pytest.mark.parametrize("form_name", ["customer new", "customer edit"])
def test_customer_text_is_kept_as_typed_and_shown_escaped(app, env, request, form_name):
    typed = {"name": "O'Brien <ACME>", "company_name": MARKUP, "notes": '<b onclick="x()">"Notes"</b> & more'}
    client, response = submit(FORMS[form_name], env, request, typed)
    FORMS[form_name].assert_accepted(response, env)
    page = response.headers["Location"]
    customer = stored(app, Customer, id=int(page.rsplit("/", 1)[1]))
    assert {k: getattr(customer, k) for k in typed} == typed
    assert "O&#39;Brien &lt;ACME&gt;" in client.get(page).get_data(as_text=True)
    for url, shown in [(page, typed), (f"{page}/edit", typed), ("/vendor/customers/", ["name", "company_name"])]:
        html = client.get(url).get_data(as_text=True)
        for name in shown:
            assert_shown_escaped(html, typed[name])


@pytest.mark.parametrize("form_name", ["data object add", "data object edit"])
def test_data_object_text_is_kept_as_typed_and_shown_escaped(app, env, request, form_name):
    typed = {"name": MARKUP, "string_value": '<img src=x onerror="alert(1)"> & more'}
    client, response = submit(FORMS[form_name], env, request, typed)
    FORMS[form_name].assert_accepted(response, env)
    data_object = stored(app, DataObject, name=MARKUP)
    assert data_object.string_value == typed["string_value"]
    for url in ("/vendor/data-objects/", f"/vendor/data-objects/{data_object.id}/edit"):
        html = client.get(url).get_data(as_text=True)
        for value in typed.values():
            assert_shown_escaped(html, value)


def test_a_vendor_name_is_kept_as_typed_and_shown_escaped(app, env, request):
    typed = {"name": f"{MARKUP} & O'Brien"}
    client, response = submit(FORMS["vendor register finish"], env, request, typed)
    FORMS["vendor register finish"].assert_accepted(response, env)
    assert stored(app, Vendor, slug="initech").name == typed["name"]
    for url in ("/vendor/", "/Portal/@initech/Login"):
        assert_shown_escaped(client.get(url).get_data(as_text=True), typed["name"])


@pytest.mark.parametrize("form_name", ["sign-up", "associate, new login"])
def test_a_portal_name_is_kept_as_typed_and_shown_escaped(app, env, request, vendor_client, mailbox, form_name):
    typed = {"name": "O'Brien <ACME>", "email": "obrien@example.test"}
    client, response = submit(FORMS[form_name], env, request, typed)
    FORMS[form_name].assert_accepted(response, env)
    confirm = mailbox.last_link("obrien@example.test", "/Confirm?token=").split("localhost", 1)[1]
    response = post_form(client, confirm, {"password": NEW_PASSWORD})
    assert response.status_code == 303 and response.headers["Location"] == f"/Portal/@{env['slug']}/"
    account = stored(app, PortalAccount, email="obrien@example.test")
    assert account.name == typed["name"]
    assert MARKUP not in response.get_data(as_text=True)
    html = vendor_client.get(f"/vendor/customers/{account.customer_id}").get_data(as_text=True)
    if form_name == "sign-up":
        assert stored(app, Customer, id=account.customer_id).name == typed["name"]
        assert_shown_escaped(html, typed["name"])
    assert typed["name"] not in html


def visible_text(html: str, typed_email: str) -> str:
    html = re.sub(r"(?is)<(script|style)\b.*?</\1>", " ", html)
    text = unescape(re.sub(r"<[^>]+>", " ", html)).replace(typed_email, "<the e-mail>")
    return " ".join(text.split())


@pytest.mark.parametrize("form_name", ["vendor login", "portal login", "sign-up", "forgot password"])
def test_known_and_unknown_e_mails_get_the_same_answer(app, env, request, form_name):
    form = FORMS[form_name]
    known = env["owner_email"] if form_name == "vendor login" else env["account_email"]
    answers = []
    for email in (known, "nobody@example.test"):
        changes = {"email": email}
        if "password" in form.valid and form_name != "sign-up":
            changes["password"] = "wrong-password-1"
        _client, response = submit(form, env, request, changes)
        answers.append((response.status_code, visible_text(response.get_data(as_text=True), email)))
    assert answers[0] == answers[1]


def test_signing_up_with_a_known_e_mail_mails_its_owner(app, env, request, mailbox):
    known = env["account_email"]
    before = db_rows(app)
    _client, response = submit(FORMS["sign-up"], env, request, {"email": known.upper()})
    assert response.status_code == 200
    assert "Check your mail" in response.get_data(as_text=True)
    after = db_rows(app)
    # Nothing changes but the mail to the owner, kept until it is sent (outgoing_mail).
    assert len(after.pop("outgoing_mail")) == len(before.pop("outgoing_mail")) + 1
    assert after == before
    [mail] = mailbox.to(known)
    assert "You already have an account" in text_of(mail)
    assert f"/Portal/@{env['slug']}/Login" in text_of(mail)


def test_passwords_are_stored_as_argon2id_hashes(app):
    vendor_password, customer_password = "vendor-secret-pw-1", "customer-secret-pw-1"
    client = app.test_client()
    with app.app_context():
        token = registration.token_for(registration.Asked("Initech", "initech", "boss@initech.test"))
    response = post_form(client, f"/vendor/register/finish?token={token}", {"name": "Initech", "slug": "initech",
                                                                             "password": vendor_password})
    assert response.status_code == 303 and response.headers["Location"] == "/vendor/"
    response = post_form(client, "/Portal/@initech/SignUp", {"name": "Bob", "email": "bob@example.test",
                                                              "password": customer_password})
    assert response.status_code == 200
    hasher = PasswordHasher()
    for password, hashed in [(vendor_password, stored(app, VendorUser, email="boss@initech.test").password_hash),
                             (customer_password, stored(app, PendingLogin, email="bob@example.test").password_hash)]:
        assert hashed.startswith("$argon2id$")
        assert hasher.verify(hashed, password)
    everything = repr(db_rows(app))
    assert vendor_password not in everything and customer_password not in everything


@pytest.mark.parametrize("side", ["vendor", "portal"])
def test_the_eleventh_login_for_one_e_mail_within_a_minute_is_refused(app, make, vendor, account, side):
    url = "/vendor/login" if side == "vendor" else f"/Portal/@{vendor.slug}/Login"
    email = make.owner(vendor).email if side == "vendor" else account.email
    client = app.test_client()
    token = csrf_token(client, url)

    def attempt(typed: str, n: int):
        # A different address each time: the limit follows the e-mail, however it is typed, not the IP.
        return client.post(url, data={"csrf_token": token, "email": typed, "password": "wrong-password-1"},
                           environ_base={"REMOTE_ADDR": f"198.51.100.{n}"}).status_code

    statuses = [attempt(email.upper() if n % 2 else email, n) for n in range(1, 12)]
    assert statuses == [422] * 10 + [429]
    assert attempt("someone-else@example.test", 99) == 422


# (who asks, the address, the answer): odd values in paths and query strings are answers, never server errors.
ADDRESSES = [
    ("vendor", "/vendor/customers/?q=%00", 200),
    ("vendor", "/vendor/customers/?q=%C2%B2", 200),
    ("vendor", "/vendor/customers/?q=3000000000", 200),
    ("vendor", "/vendor/customers/?q=" + "9" * 300, 200),
    ("vendor", "/vendor/customers/?before=99999999999999999999", 200),
    ("vendor", "/vendor/customers/?before=-5", 200),
    ("vendor", "/vendor/customers/?before=abc", 200),
    ("vendor", "/vendor/customers/2147483648", 404),
    ("vendor", "/vendor/customers/99999999999999999999/edit", 404),
    ("vendor", "/vendor/data-objects/18446744073709551616/edit", 404),
    ("stranger", "/Portal/@%00/Login", 404),
    ("stranger", "/Portal/@acme.io%00/Login", 404),
    ("stranger", "/Portal/@" + "a" * 300 + "/Login", 404),
    ("stranger", "/Portal/@acme.io/Associate?id=%C2%B2&auth=x", 404),
    ("stranger", "/Portal/@acme.io/Associate?id=99999999999&auth=x", 404),
    ("stranger", "/Portal/@acme.io/Associate?id=" + "9" * 5000 + "&auth=x", 404),
    ("stranger", "/Portal/@acme.io/Associate?id=-1&auth=x", 404),
    ("stranger", "/Portal/@acme.io/Associate?id=1&auth=%00", 404),
    ("stranger", "/Portal/@acme.io/ResetPassword?token=%00", 404),
    ("stranger", "/Portal/@acme.io/VerifyEmail?token=" + "x" * 5000, 404),
]


@pytest.mark.parametrize(("who", "url", "status"), ADDRESSES, ids=[url[:60] for _who, url, _status in ADDRESSES])
def test_odd_addresses_get_an_answer(app, vendor, request, who, url, status):
    client = request.getfixturevalue("vendor_client") if who == "vendor" else app.test_client()
    before = db_rows(app)
    assert client.get(url).status_code == status
    assert db_rows(app) == before
