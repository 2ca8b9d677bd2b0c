"""The demo seed's Web API: the token kept in `.env` works, the public key file verifies a demo activation."""

from licensing.methods import Helpers, Key
from sqlmodel import select

from portal.models import LicenseKey, Product


def test_the_demo_token_and_public_key_activate_a_demo_key(server, api_app, runner, db, tmp_path, monkeypatch):
    monkeypatch.setenv("DEMO_API_TOKEN", "demo-token-for-the-test")
    api_app.instance_path = str(tmp_path)
    assert runner.invoke(args=["seed-demo"]).exit_code == 0
    assert runner.invoke(args=["seed-demo"]).exit_code == 0  # a second run keeps the token
    public_key = (tmp_path / "demo-public-key.xml").read_text().strip()
    product = db.exec(select(Product)).first()
    key = db.exec(select(LicenseKey).where(LicenseKey.product_id == product.id, LicenseKey.block.is_(False),
                                           LicenseKey.max_no_of_machines == 0)).first()
    license_key, message = Key.activate("demo-token-for-the-test", public_key, product.id, key.key, "my-machine")
    assert license_key is not None and Helpers.IsOnRightMachine(license_key, custom_machine_code="my-machine"), message
    shown = runner.invoke(args=["show-demo"])
    assert "demo-token-for-the-test" in shown.output and "demo-public-key.xml" in shown.output
    # A `.env` made anew beside the old database: the new token is the demo's, the old one revoked.
    monkeypatch.setenv("DEMO_API_TOKEN", "another-demo-token")
    assert runner.invoke(args=["seed-demo"]).exit_code == 0
    assert Key.activate("another-demo-token", public_key, product.id, key.key, "my-machine")[0] is not None
    assert Key.activate("demo-token-for-the-test", public_key, product.id, key.key, "my-machine")[0] is None
