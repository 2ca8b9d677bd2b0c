"""The stand-in as a server: the outage switch, JSON persistence across a restart, and the command line."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
import stripe

from devtools.stripe_standin import StandIn
from tests.support.standin import stripe_client

ROOT = Path(__file__).resolve().parents[2]


def test_while_unavailable_every_call_fails_fast(stripe_standin, sdk, acme, receiver):
    stripe_standin.register_webhook(acme.secret_key, receiver.url, "whsec_x")
    customer = sdk.v1.customers.create(params={"name": "Ann"})

    with stripe_standin.unavailable():
        started = time.monotonic()
        with pytest.raises((stripe.APIConnectionError, stripe.APIError)):
            sdk.v1.customers.retrieve(customer.id)
        assert time.monotonic() - started < 2
        stripe_standin.wait_idle()
        assert receiver.types == ["customer.created"]  # deliveries keep working

    stripe_standin.unavailable = True
    assert stripe_standin.unavailable
    stripe_standin.unavailable = False
    assert sdk.v1.customers.retrieve(customer.id).name == "Ann"


def test_data_survives_a_restart_and_no_pickle_is_written(tmp_path):
    pickle = Path("/tmp/localstripe.pickle")  # noqa: S108 (the fixed path localstripe itself would write)
    pickle_before = pickle.stat().st_mtime if pickle.exists() else None
    with StandIn(data_dir=tmp_path) as first:
        account = first.create_account("Acme Ltd")
        endpoint = first.register_webhook(account.secret_key, "http://127.0.0.1:9/hook", "whsec_kept")
        sdk = stripe_client(first, account.secret_key)
        customer = sdk.v1.customers.create(params={"email": "ann@example.com"})
        price = sdk.v1.prices.create(params={"product_data": {"name": "Pro"}, "unit_amount": 500, "currency": "usd",
                                             "recurring": {"interval": "week"}})
        subscription = sdk.v1.subscriptions.create(params={"customer": customer.id, "items": [{"price": price.id}]})
        sdk.v1.subscriptions.update(subscription.id, params={"metadata": {"skm_key_id": "1"}})

    assert [p.name for p in tmp_path.iterdir()] == [f"{account.id}.json"]
    with StandIn(data_dir=tmp_path) as second:
        sdk = stripe_client(second, account.secret_key)
        again = sdk.v1.subscriptions.retrieve(subscription.id, params={"expand": ["items.data.price.product"]})
        assert again.metadata["skm_key_id"] == "1"
        assert again["items"]["data"][0]["price"]["product"]["name"] == "Pro"
        assert sdk.v1.customers.retrieve(customer.id).email == "ann@example.com"
        assert [e.id for e in sdk.v1.webhook_endpoints.list().data] == [endpoint]
        assert sdk.v1.events.list(params={"delivery_success": False}).data  # the unreachable hook never took them
    assert (pickle.stat().st_mtime if pickle.exists() else None) == pickle_before


def test_the_command_line_serves_until_terminated(tmp_path):
    """Started on a port of its own choosing (`--port 0`) and asked where from its own line, so that no other server
    can take a port picked beforehand (tests run side by side)."""
    key = "sk_test_cli_account_key_1234"
    process = subprocess.Popen(
        [sys.executable, "-m", "devtools.stripe_standin", "--port", "0", "--data-dir", str(tmp_path),
         "--account", f"{key}:Demo Vendor"],
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        lines = []
        for line in process.stdout:  # ends if the process does
            lines.append(line)
            if "listening on " in line:
                base = line.split("listening on ", 1)[1].strip()
                break
        else:
            raise AssertionError("".join(lines))
        answer = requests.get(f"{base}/v1/account", auth=(key, ""), timeout=5)
        assert answer.json()["settings"]["dashboard"]["display_name"] == "Demo Vendor"
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
    assert (tmp_path / f"{answer.json()['id']}.json").exists()
