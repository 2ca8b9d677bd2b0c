"""`flask api create-token` and `flask api public-key`: a vendor's Web API access from the command line; the demo
seed's token and public key."""

import os
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext

from portal.api import signing, tokens
from portal.db import get_session
from portal.domain import DomainError
from portal.vendors.services import find_vendor

api_group = AppGroup("api", help="The Web API: access tokens and the vendor's public key.")


def _vendor(session, slug: str):
    vendor = find_vendor(session, slug=slug)
    if vendor is None:
        raise click.ClickException(f"No vendor {slug}.")
    return vendor


@api_group.command("create-token")
@with_appcontext
@click.option("--vendor", "slug", required=True, help="The vendor's slug")
@click.option("--name", required=True, help="What the token is for (shown in the audit trail)")
@click.option("--scope", "scopes", multiple=True, type=click.Choice(tokens.GROUPS),
              help="A method group it may call (repeat; all groups when none is named)")
@click.option("--product-id", type=int, default=None, help="Only this product's keys")
def create_token_command(slug: str, name: str, scopes: tuple[str, ...], product_id: int | None) -> None:
    """Make an access token and print it, alone on the last line (it is shown only this once)."""
    session = get_session()
    vendor = _vendor(session, slug)
    try:
        token, text = tokens.create_token(session, vendor_id=vendor.id, name=name, scopes=list(scopes),
                                          product_id=product_id, actor="command line")
    except DomainError as error:
        raise click.ClickException(error.message) from error
    session.commit()
    click.echo(f"Token {token.name!r} for {vendor.slug}, groups: {token.scopes}. Keep it now, it is not shown again:")
    click.echo(text)


@api_group.command("public-key")
@with_appcontext
@click.option("--vendor", "slug", required=True, help="The vendor's slug")
def public_key_command(slug: str) -> None:
    """Print the vendor's public key as `<RSAKeyValue>` XML on one line (made now if the vendor has none)."""
    session = get_session()
    vendor = _vendor(session, slug)
    key = signing.ensure_key(session, vendor_id=vendor.id, encryptor=current_app.extensions["encryptor"])
    session.commit()
    click.echo(signing.public_key_xml(key.modulus))


DEMO_TOKEN_NAME = "Demo token"  # noqa: S105 - a name, not a secret


def seed_demo_api(session, vendor) -> None:
    """The demo vendor's token (its text from DEMO_API_TOKEN in `.env`) and its public key in
    `instance/demo-public-key.xml`, for the few lines of Python that activate a demo key."""
    text = os.environ.get("DEMO_API_TOKEN", "")
    if text and not tokens.has_token(session, text):
        # A `.env` made anew beside the old database: the demo's token is the new one, the old one revoked.
        tokens.create_token(session, vendor_id=vendor.id, name=DEMO_TOKEN_NAME, actor="seed-demo", text=text,
                            replacing=True)
    key = signing.ensure_key(session, vendor_id=vendor.id, encryptor=current_app.extensions["encryptor"])
    session.commit()
    Path(current_app.instance_path, "demo-public-key.xml").write_text(signing.public_key_xml(key.modulus) + "\n")


def show_demo_api(base_url: str) -> None:
    text = os.environ.get("DEMO_API_TOKEN", "")
    if text:
        click.echo(f"  Web API:               {base_url.rstrip('/')}/api/   token {text}")
        click.echo(f"      public key in      {Path(current_app.instance_path, 'demo-public-key.xml')}")
