"""The Web API's bench paths: `api_activate` (a signed activation of a machine the key already has) and
`api_getkey`, called as GET with their parameters in the query string (the API takes either)."""

import os
import urllib.parse
from contextlib import contextmanager

MACHINE = "bench-machine"
# What each answer must show: a success (jsonify writes compact JSON).
MARKER = '"result":0'


@contextmanager
def _environment(env: dict):
    saved = dict(os.environ)
    os.environ.update(env)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def prepare(env: dict, facts: dict) -> dict:
    """A token for the bench vendor, its signing key, and a live key of "Big App" with MACHINE activated: made
    through the portal's own services, with the served portal's configuration (its ENCRYPTION_KEY)."""
    from sqlalchemy import delete
    from sqlmodel import Session, select

    from portal import create_app
    from portal.api import signing, tokens
    from portal.api_models import SigningKey
    from portal.keys.services import activate_machine
    from portal.models import LicenseKey, utcnow
    from portal.vendors.services import find_vendor

    with _environment(env):
        app = create_app()
    with app.app_context(), Session(app.extensions["db_engine"], expire_on_commit=False) as session:
        vendor = find_vendor(session, slug=facts["vendor_slug"])
        # A database kept from an earlier run (--reuse) has that run's token: revoked, as its name is this one's.
        _token, text = tokens.create_token(session, vendor_id=vendor.id, name="bench", actor="bench", replacing=True)
        # A pair made by an earlier run (--reuse) is encrypted with that run's ENCRYPTION_KEY: made again.
        encryptor = app.extensions["encryptor"]
        made = session.exec(select(SigningKey).where(SigningKey.vendor_id == vendor.id)).first()
        if made is not None and encryptor.decrypt(made.private_key_encrypted) is None:
            session.execute(delete(SigningKey).where(SigningKey.vendor_id == vendor.id))
        signing.ensure_key(session, vendor_id=vendor.id, encryptor=encryptor)
        key = session.exec(select(LicenseKey).where(
            LicenseKey.product_id == facts["product_id"], LicenseKey.block.is_(False),
            LicenseKey.expires > utcnow()).order_by(LicenseKey.id.desc()).limit(1)).one()
        activate_machine(session, key=key, mid=MACHINE, actor="bench")
        session.commit()
    app.extensions["db_engine"].dispose()
    return {"token": text, "product_id": facts["product_id"], "key": key.key}


def paths(api: dict) -> list[tuple[str, str, str, bool, str]]:
    """(name, path, who is logged in, htmx, what the answer must show), as bench/run.py's portal_paths."""
    common = {"token": api["token"], "ProductId": api["product_id"], "Key": api["key"], "Sign": "True"}
    activate = urllib.parse.urlencode(common | {"MachineCode": MACHINE})
    return [("api_activate", f"/api/key/Activate?{activate}", "nobody", False, MARKER),
            ("api_getkey", f"/api/key/GetKey?{urllib.parse.urlencode(common)}", "nobody", False, MARKER)]
