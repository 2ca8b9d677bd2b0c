"""Signed answers are reused only while nothing in them changed: any change of the key is in the next answer, in
every app process; a revoked token is refused at once; a known machine's re-activation writes nothing for a
minute, a floating one always."""

import base64
import json
from datetime import timedelta

import pytest
from sqlalchemy import event
from sqlmodel import select

from portal.api import signed_answer_cache
from portal.customers import services as customers
from portal.dataobjects.services import KEY, add_object
from portal.keys import services as keys
from portal.models import ActivatedMachine
from tests.support.processes import AppProcesses, child_config


@pytest.fixture(autouse=True)
def _empty_cache():
    signed_answer_cache.clear()
    yield
    signed_answer_cache.clear()


def _license(answer: dict) -> dict:
    assert answer["result"] == 0, answer
    return json.loads(base64.b64decode(answer["licenseKey"]))


def _machine(db, key) -> ActivatedMachine:
    return db.exec(select(ActivatedMachine).where(ActivatedMachine.key_id == key.id)).one()


# Each change of the key as the vendor's pages, the portal or the API make it, and what the next answer shows.
CHANGES = {
    "block": (lambda db, key, other: keys.set_blocked(db, key=key, blocked=True, actor="t"),
              lambda shown, other: shown["Block"] is True),
    "notes": (lambda db, key, other: keys.change_details(db, key=key, actor="t", notes="Changed"),
              lambda shown, other: shown["Notes"] == "Changed"),
    "features": (lambda db, key, other: keys.change_details(db, key=key, actor="t", features={"f3": True}),
                 lambda shown, other: shown["F3"] is True),
    "expiry": (lambda db, key, other: keys.extend_key(db, key=key, days=10, actor="t"),
               lambda shown, other: shown["Period"] == 40),
    "machines allowed": (lambda db, key, other: keys.change_details(db, key=key, actor="t", max_no_of_machines=7),
                         lambda shown, other: shown["MaxNoOfMachines"] == 7),
    "customer": (lambda db, key, other: keys.change_customer(db, key=key, customer_id=other.id, actor="t"),
                 lambda shown, other: shown["Customer"]["Id"] == other.id),
    "customer's name": (lambda db, key, other: customers.update_customer(
        db, customer=db.get(type(other), key.customer_id), actor="t", name="Renamed Ltd"),
        lambda shown, other: shown["Customer"]["Name"] == "Renamed Ltd"),
    "data object": (lambda db, key, other: add_object(db, vendor_id=key.vendor_id, name="seats", int_value=3,
                                                      referencer_type=KEY, referencer_id=key.id, actor="t"),
                    lambda shown, other: [d["Name"] for d in shown["DataObjects"]] == ["seats"]),
    "machine deactivated": (lambda db, key, other: keys.deactivate_machine(
        db, key=key, machine_id=_machine(db, key).id, actor="t"),
        lambda shown, other: shown["ActivatedMachines"] == []),
}


@pytest.mark.parametrize("change", CHANGES)
def test_a_change_of_the_key_is_in_the_next_getkey_at_once(api, make, vendor, product, db, change):
    customer, other = make.customer(vendor, name="First"), make.customer(vendor, name="Second")
    key = make.key(product, customer=customer, machines=("pc",))
    form = {"token": api.token(vendor), "ProductId": product.id, "Key": key.key}
    first, again = api.post("key/GetKey", **form)[1], api.post("key/GetKey", **form)[1]
    assert (again["licenseKey"], again["signature"]) == (first["licenseKey"], first["signature"])  # reused

    make_change, shows = CHANGES[change]
    db.commit()  # the test's session ends its read before it writes (on SQLite a stale snapshot cannot write)
    make_change(db, key, other)
    db.commit()
    after = _license(api.post("key/GetKey", **form)[1])
    assert shows(after, other) and not shows(_license(first), other)


def test_a_change_is_in_the_next_activation_and_a_blocked_key_is_refused(api, make, vendor, product, db):
    key = make.key(product)
    form = {"token": api.token(vendor), "ProductId": product.id, "Key": key.key, "MachineCode": "pc"}
    assert _license(api.post("key/Activate", **form)[1])["Notes"] == ""
    db.commit()
    keys.change_details(db, key=key, actor="t", notes="Pro")
    db.commit()
    assert _license(api.post("key/Activate", **form)[1])["Notes"] == "Pro"
    db.commit()
    keys.set_blocked(db, key=key, blocked=True, actor="t")
    db.commit()
    assert api.post("key/Activate", **form)[1] == {"result": 1, "message": "The key is blocked and cannot be accessed."}


def test_other_request_fields_are_signed_on_their_own_and_every_answer_verifies(server, api, make, vendor, product):
    from licensing.methods import Key

    key = make.key(product, machines=("pc",), notes="Pro")
    token, public_key = api.token(vendor), api.public_key(vendor)
    form = {"token": token, "ProductId": product.id, "Key": key.key}
    plain = api.post("key/GetKey", **form)[1]
    without_notes = api.post("key/GetKey", **form, FieldsToReturn=16384)[1]
    with_metadata = api.post("key/GetKey", **form, metadata="True")[1]
    assert plain["signature"] != without_notes["signature"]
    assert _license(without_notes)["Notes"] is None and "metadata" in with_metadata
    for _ in range(2):  # signed afresh, then reused: the official client accepts both
        license_key, message = Key.get_key(token=token, rsa_pub_key=public_key, product_id=product.id, key=key.key)
        assert license_key is not None and license_key.notes == "Pro", message


def test_an_answer_that_hides_its_sign_date_is_not_the_one_that_shows_it(api, make, vendor, product):
    """The official client's offline check reads SignDate: an answer without it would be a license from 1970."""
    key = make.key(product)
    form = {"token": api.token(vendor), "ProductId": product.id, "Key": key.key}
    for first, then in ((1 << 23, 0), (0, 1 << 23)):
        signed_answer_cache.clear()
        for fields in (first, then):
            shown = _license(api.post("key/GetKey", **form, FieldsToReturn=fields)[1])["SignDate"]
            assert (shown == 0) == (fields == 1 << 23), (first, then)


def test_a_revoked_token_is_refused_at_once(api, make, vendor, product, db):
    from portal.api.tokens import list_tokens, revoke_token

    key = make.key(product)
    form = {"token": api.token(vendor), "ProductId": product.id, "Key": key.key}
    assert api.post("key/GetKey", **form)[1]["result"] == 0
    revoke_token(db, vendor_id=vendor.id, token_id=list_tokens(db, vendor_id=vendor.id)[0].id, actor="t")
    db.commit()
    assert api.post("key/GetKey", **form) == (401, {"result": 1, "message":
                                                    "Unable to authenticate."})


def _writes(app) -> list[str]:
    seen: list[str] = []

    @event.listens_for(app.extensions["db_engine"], "before_cursor_execute")
    def _note(_conn, _cursor, statement, _parameters, _context, _many):
        if statement.split()[0].upper() in ("INSERT", "UPDATE", "DELETE") or statement.startswith("BEGIN IMMEDIATE"):
            seen.append(statement)

    return seen


def test_a_known_machine_is_written_at_most_once_a_minute_and_a_floating_one_every_time(api, make, vendor, product,
                                                                                        db, app):
    key = make.key(product, max_no_of_machines=2)
    form = {"token": api.token(vendor), "ProductId": product.id, "Key": key.key, "MachineCode": "pc"}
    assert api.post("key/Activate", **form)[1]["result"] == 0
    api.post("key/GetKey", token=form["token"], ProductId=product.id, Key=key.key)  # the token's last use is noted
    seen = _writes(app)
    first = _machine(db, key).time
    assert api.post("key/Activate", **form)[1]["result"] == 0
    assert seen == [] and _machine(db, key).time == first

    machine = _machine(db, key)
    db.commit()
    machine.time = first - timedelta(minutes=2)
    db.add(machine)
    db.commit()
    seen.clear()
    assert api.post("key/Activate", **form)[1]["result"] == 0
    db.expire_all()
    assert _machine(db, key).time > first - timedelta(minutes=2)
    assert [s.split()[:2] for s in seen if not s.startswith("BEGIN")] == [["UPDATE", "activated_machine"]]

    floating = form | {"MachineCode": "laptop", "FloatingTimeInterval": 300}
    expiries = []
    for _ in range(2):
        shown = _license(api.post("key/Activate", **floating)[1])["ActivatedMachines"]
        expiries.append(next(m["FloatingExpires"] for m in shown if m["Mid"] == "floating:laptop"))
    assert len([s for s in seen if not s.startswith("BEGIN")]) >= 3 and expiries[1] >= expiries[0]


def test_hidden_machines_show_only_the_machine_activated(api, make, vendor, product):
    key = make.key(product, machines=("other",))
    form = {"token": api.token(vendor), "ProductId": product.id, "Key": key.key, "FieldsToReturn": 1 << 18}
    activated = _license(api.post("key/Activate", **form, MachineCode="pc")[1])
    assert [m["Mid"] for m in activated["ActivatedMachines"]] == ["pc"]
    assert _license(api.post("key/GetKey", **form)[1])["ActivatedMachines"] == []


@pytest.mark.processes
def test_every_process_answers_a_change_at_once(app, api, make, vendor, product, db):
    key = make.key(product, machines=("pc",))
    form = {"token": api.token(vendor), "ProductId": product.id, "Key": key.key}
    activation = form | {"MachineCode": "pc"}
    processes = AppProcesses(child_config(app, RATELIMIT_ENABLED=False))
    try:
        for n in (0, 1):  # each process signs, then reuses its own answers
            for path, data in (("/api/key/GetKey", form), ("/api/key/Activate", activation)):
                first, again = processes.post(n, path, data)[1], processes.post(n, path, data)[1]
                assert first["signature"] == again["signature"] and _license(first)["Notes"] == ""
        for notes in ("Changed once", "Changed twice"):
            db.commit()
            keys.change_details(db, key=key, actor="t", notes=notes)
            db.commit()
            for n in (0, 1):
                for path, data in (("/api/key/GetKey", form), ("/api/key/Activate", activation)):
                    assert _license(processes.post(n, path, data)[1])["Notes"] == notes
        db.commit()
        keys.set_blocked(db, key=key, blocked=True, actor="t")
        db.commit()
        for n in (0, 1):
            assert _license(processes.post(n, "/api/key/GetKey", form)[1])["Block"] is True
            refused = processes.post(n, "/api/key/Activate", activation)[1]["message"]
            assert refused == "The key is blocked and cannot be accessed."
    finally:
        processes.close()
