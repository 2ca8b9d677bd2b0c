"""The code's shape that every entry point relies on: services import without the web layer and write no file,
the job queue follows the app's configuration, and the command line applies the forms' rules."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from huey.storage import RedisStorage, SqliteStorage
from sqlmodel import select

from portal import create_app, jobs
from portal.models import Vendor

ROOT = Path(__file__).resolve().parent.parent
SERVICE_MODULES = sorted(
    ".".join(path.relative_to(ROOT).with_suffix("").parts)
    for path in (ROOT / "portal").rglob("*.py")
    if path.name == "services.py" or path.parent.name == "query"
    or path.stem in {"models", "billing_models", "batches", "lookup", "export", "search", "rules", "pending", "sync",
                     "events", "plans", "connection", "skm", "gateway", "demo"})

# Importing the modules one after another in one interpreter loads the union of what each loads alone: a routes
# module, an app or queue storage that one of them brought in shows up right after its import.
_PROBE = """
import importlib, json, sys
import portal.jobs
found = {}
for module in sys.argv[1:]:
    importlib.import_module(module)
    found[module] = {"web": sorted(name for name in sys.modules if name.startswith("portal")
                                   and (name.endswith(".routes") or name in ("portal.cli", "portal.worker"))),
                     "storage": type(portal.jobs.huey.storage).__name__}
print(json.dumps(found))
"""


def test_service_modules_import_without_the_web_layer(tmp_path):
    """In a fresh interpreter and an empty folder: no routes, no app, no queue storage, no file written."""
    instance = ROOT / "instance"
    before = sorted(instance.rglob("*")) if instance.exists() else []
    done = subprocess.run([sys.executable, "-c", _PROBE, *SERVICE_MODULES], cwd=tmp_path, capture_output=True,
                          text=True, check=True, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    found = json.loads(done.stdout)
    assert len(found) == len(SERVICE_MODULES) > 15
    for module, loaded in found.items():
        assert loaded == {"web": [], "storage": "MemoryStorage"}, module
    assert list(tmp_path.iterdir()) == []
    assert (sorted(instance.rglob("*")) if instance.exists() else []) == before


def test_only_the_gateway_imports_stripe_and_nothing_in_the_portal_imports_the_stand_in():
    importers = {path.relative_to(ROOT).as_posix() for path in (ROOT / "portal").rglob("*.py")
                 if any(line.split()[:2] in (["import", "stripe"], ["from", "stripe"])
                        or line.startswith(("import stripe.", "from stripe."))
                        for line in path.read_text().splitlines())}
    assert importers == {"portal/billing/gateway.py"}
    assert not [path for path in (ROOT / "portal").rglob("*.py") if "devtools" in path.read_text()]


def test_a_process_loads_stripes_sdk_only_when_it_calls_stripe():
    """About 13 MB of each worker's memory, for the workers that never talk to Stripe (portal/billing/gateway.py);
    and the terminal library only for the command line's reconcile table (2 MB)."""
    script = ("import sys; from portal import create_app; app = create_app({'TESTING': True, 'SECRET_KEY': 'x' * 40, "
              "'DATABASE_URL': 'sqlite://'}); app.test_client().get('/healthz'); "
              "print(sorted({'stripe', 'requests', 'rich'} & set(sys.modules)))")
    loaded = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True,
                            env={**os.environ, "PORTAL_NO_DOTENV": "1"})
    assert loaded.stdout.strip().splitlines()[-1] == "[]", loaded.stderr


def test_stripes_sdk_is_loaded_without_the_async_http_library_the_portal_never_uses():
    """The SDK imports aiohttp at its own import wherever it is installed (10 MB a worker); the gateway hides it for
    that import only: aiohttp can still be imported afterwards, and a process that had it keeps it."""
    script = ("import sys; from portal.billing import gateway; gateway._sdk(); print('aiohttp' in sys.modules); "
              "import aiohttp; print(aiohttp.__name__)")
    loaded = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True)
    assert loaded.stdout.split() == ["False", "aiohttp"], loaded.stderr
    script = ("import aiohttp, sys; from portal.billing import gateway; "
              "print(gateway._sdk().__name__, sys.modules['aiohttp'])")
    kept = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True)
    assert kept.stdout.startswith("stripe <module 'aiohttp'"), kept.stderr


def test_a_thread_asking_for_stripes_sdk_while_another_imports_it_waits_for_the_whole_module():
    """sys.modules holds a module from the moment its import starts: a second thread (the job consumer's, a threaded
    server's) must not be handed the half-made SDK (the second reader's finding)."""
    script = """
import sys, threading
from portal.billing import gateway
errors = []
def second():
    while "stripe" not in sys.modules:
        pass
    try:
        gateway._sdk().StripeClient
    except AttributeError as error:
        errors.append(repr(error))
waiting = threading.Thread(target=second)
waiting.start()
gateway._sdk()
waiting.join()
print(errors)
"""
    ran = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True)
    assert ran.stdout.strip() == "[]", ran.stdout + ran.stderr


def test_the_job_queue_follows_the_apps_configuration(app, tmp_path):
    config = {key: app.config[key] for key in ("TESTING", "DATABASE_URL", "SECRET_KEY", "MAIL_BACKEND")}
    try:
        create_app(config | {"JOBS_IMMEDIATE": False, "JOBS_SQLITE_PATH": str(tmp_path / "queue" / "jobs.db")})
        assert isinstance(jobs.huey.storage, SqliteStorage) and not jobs.huey.immediate
        assert jobs.huey.storage.filename == str(tmp_path / "queue" / "jobs.db")
        create_app(config | {"JOBS_IMMEDIATE": False, "REDIS_URL": "redis://127.0.0.1:6379/14"})
        assert isinstance(jobs.huey.storage, RedisStorage)
        assert jobs.huey.storage.conn.connection_pool.connection_kwargs["db"] == 14
    finally:
        create_app(config | {"JOBS_IMMEDIATE": True})
    assert jobs.huey.immediate


def test_the_consumer_entry_point_declares_every_job(tmp_path):
    """`huey_consumer portal.worker.huey` imports only portal.worker: that must declare every job."""
    probe = """
import json, sys
import portal.worker
huey = portal.worker.huey
print(json.dumps({"modules": sorted(sys.modules), "storage": type(huey.storage).__name__,
                  "filename": getattr(huey.storage, "filename", "")}))
"""
    env = {"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin", "PORTAL_NO_DOTENV": "1",
           "JOBS_SQLITE_PATH": str(tmp_path / "jobs.db"), "DATABASE_URL": f"sqlite:///{tmp_path / 'portal.db'}"}
    done = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, capture_output=True, text=True, check=True,
                          env=env)
    found = json.loads(done.stdout)
    assert {"portal.mail", "portal.accounts.services", "portal.signup.pending", "portal.keys.batches",
            "portal.keys.sweep", "portal.dataobjects.resets"} <= set(found["modules"])
    assert found["storage"] == "SqliteStorage" and found["filename"] == str(tmp_path / "jobs.db")


@pytest.mark.parametrize(("options", "message"), [
    ({"--slug": "a..b"}, "Use 3 to 63 lowercase letters, digits, dots and hyphens, e.g. acme.io."),
    ({"--slug": "x"}, "Use 3 to 63 lowercase letters, digits, dots and hyphens, e.g. acme.io."),
    ({"--password": "p"}, "Use 10 to 200 characters."),
    ({"--email": "not-an-email"}, "Enter a valid e-mail address."),
    ({"--name": "Two\nlines"}, "Use one line without control characters."),
    ({"--name": "n" * 101}, "At most 100 characters."),
])
def test_create_vendor_refuses_what_the_registration_form_refuses(runner, db, options, message):
    args = {"--slug": "umbrella", "--name": "Umbrella", "--email": "ceo@umbrella.test",
            "--password": "a-long-password"} | options
    result = runner.invoke(args=["create-vendor", *(part for pair in args.items() for part in pair)])
    assert result.exit_code != 0
    assert message in result.output and "created" not in result.output
    assert db.exec(select(Vendor)).all() == []


def test_set_vendor_password_refuses_a_short_one(runner, make, vendor):
    result = runner.invoke(args=["set-vendor-password", "--email", "owner@acme.io.test", "--password", "short"])
    assert result.exit_code != 0 and "Use 10 to 200 characters." in result.output
    weak = runner.invoke(args=["set-vendor-password", "--email", "owner@acme.io.test", "--password", "1234567890"])
    assert weak.exit_code != 0 and "This password is too easy to guess." in weak.output


def test_no_form_compares_numbers_through_floats():
    """WTForms' NumberRange compares through floats, which a number of hundreds of digits overflows into an error
    page: number fields use portal.forms.between."""
    users = [path.relative_to(ROOT).as_posix() for path in (ROOT / "portal").rglob("*.py")
             if "NumberRange(" in path.read_text()]
    assert users == []
