"""Command-line verbs: `flask --app wsgi create-vendor`, `seed-demo`, `show-demo`."""

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from portal.accounts.services import create_account, find_account
from portal.api.commands import api_group, seed_demo_api, show_demo_api
from portal.billing.commands import stripe_group
from portal.billing.demo import connect_demo
from portal.customers import services as customers
from portal.db import get_session
from portal.domain import DomainError
from portal.keys import services as keys
from portal.models import Customer, Vendor
from portal.products.services import create_product, list_products
from portal.urls import absolute_url
from portal.vendors import services as vendors
from portal.words import possessive

DEMO_SLUG = "demo"
DEMO_EMAIL = "owner@demo.test"
DEMO_PASSWORD = "demo-password"  # noqa: S105 - the demo seed's documented login, never made in production
DEMO_BUYER = "grace@example.test"  # a second demo customer, with a portal login, who can subscribe


@click.command("create-vendor")
@with_appcontext
@click.option("--slug", required=True, help="The portal address, e.g. acme.io")
@click.option("--name", required=True, help="The company name shown to customers")
@click.option("--email", required=True, help="The owner's login")
@click.password_option(help="The owner's password")
def create_vendor_command(slug: str, name: str, email: str, password: str) -> None:
    """Create a vendor and its owner's login."""
    session = get_session()
    try:
        vendors.register_vendor(session, name=name, slug=slug, email=email, password=password)
    except DomainError as error:
        raise click.ClickException(_refusal(error)) from error
    session.commit()
    click.echo(f"Vendor {slug} created; its owner logs in as {email}.")


@click.command("set-vendor-password")
@with_appcontext
@click.option("--email", required=True, help="The vendor user's login")
@click.password_option(help="The new password")
def set_vendor_password_command(email: str, password: str) -> None:
    """Set a vendor user's password (for one who is locked out); ends the user's sessions."""
    session = get_session()
    user = vendors.find_vendor_user(session, email=email)
    if user is None:
        raise click.ClickException(f"No vendor user {email}.")
    try:
        vendors.set_vendor_password(session, user=user, password=password, actor="command line")
    except DomainError as error:
        raise click.ClickException(_refusal(error)) from error
    session.commit()
    click.echo(f"Password of {user.email} set; their sessions are ended.")


@click.command("seed-demo")
@with_appcontext
def seed_demo_command() -> None:
    """Create the demo vendor and a demo customer with association enabled (kept if they exist)."""
    if current_app.config["ENV_NAME"] == "production":
        raise click.ClickException("The demo seed is for development only.")
    session = get_session()
    vendor = vendors.find_vendor(session, slug=DEMO_SLUG)
    if vendor is None:
        user = vendors.register_vendor(session, name="Demo Software Ltd", slug=DEMO_SLUG, email=DEMO_EMAIL,
                                       password=DEMO_PASSWORD)
        vendor = vendors.get_vendor(session, vendor_id=user.vendor_id)
    customer = customers.first_customer(session, vendor_id=vendor.id)
    if customer is None:
        customer = customers.create_customer(session, vendor_id=vendor.id, actor="seed-demo",
                                             encryptor=current_app.extensions["encryptor"],
                                             enable_customer_association=True, name="Ada Lovelace",
                                             email="ada@example.test", company_name="Analytical Engines Ltd",
                                             allow_activation_management=True)
    if not list_products(session, vendor_id=vendor.id):
        _seed_demo_product(session, vendor, customer)
    if find_account(session, vendor_id=vendor.id, email=DEMO_BUYER) is None:
        buyer = customers.create_customer(session, vendor_id=vendor.id, actor="seed-demo", name="Grace Hopper",
                                          email=DEMO_BUYER, company_name="Compilers Inc")
        create_account(session, vendor_id=vendor.id, customer_id=buyer.id, email=DEMO_BUYER, name="Grace Hopper",
                       password=DEMO_PASSWORD, verified=True)
    session.commit()
    seed_demo_api(session, vendor)
    _seed_demo_stripe(session, vendor)
    click.echo("Demo vendor ready.")


def _seed_demo_stripe(session, vendor: Vendor) -> None:
    """With the stand-in's demo account in the configuration (`make run`): connect it and link two plans."""
    config = current_app.config
    if not (config["STRIPE_API_BASE"] and config["STRIPE_SECRET_KEY"] and config["STRIPE_WEBHOOK_SECRET"]):
        return
    product = next((p for p, _count in list_products(session, vendor_id=vendor.id) if p.name == "Demo App"), None)
    if product is None:
        return
    try:
        made = connect_demo(session, current_app.extensions["stripe_access"], vendor_id=vendor.id,
                            product_id=product.id, secret_key=config["STRIPE_SECRET_KEY"],
                            webhook_secret=config["STRIPE_WEBHOOK_SECRET"])
    except DomainError as error:
        session.rollback()
        click.echo(f"The demo's Stripe is not set up: {error.message}", err=True)
        return
    if made:
        click.echo(f"Demo vendor connected to the Stripe stand-in, with {made} plans of {product.name}.")


def _seed_demo_product(session, vendor: Vendor, customer: Customer) -> None:
    """"Demo App" with named features and a dozen keys; two belong to the demo customer, one is in use."""
    product = create_product(session, vendor_id=vendor.id, actor="seed-demo", name="Demo App",
                             description="The demo vendor's product.", f1_name="Pro", f2_name="Export",
                             f3_name="Cloud sync", f4_name="Priority support")
    for n in range(10):
        keys.create_key(session, product=product, actor="seed-demo", settings=keys.KeySettings(
            period=30 * (n + 1), features={"f1": n % 2 == 0, "f2": n % 3 == 0}, notes=f"Demo key {n + 1}"))
    pro = keys.create_key(session, product=product, actor="seed-demo", settings=keys.KeySettings(
        period=365, features={"f1": True, "f2": True, "f3": True}, max_no_of_machines=3, customer_id=customer.id,
        notes="Ada's Pro licence"))
    keys.create_key(session, product=product, actor="seed-demo", settings=keys.KeySettings(
        period=10, features={"f2": True}, max_no_of_machines=1, customer_id=customer.id, notes="Ada's trial",
        trial_activation=True))
    keys.activate_machine(session, key=pro, mid="5f1c9a7e-demo-laptop", ip="127.0.0.1",
                          friendly_name="Ada's laptop", actor="seed-demo")


@click.command("show-demo")
@with_appcontext
@click.option("--base-url", default="http://127.0.0.1:5000", show_default=True)
def show_demo_command(base_url: str) -> None:
    """Print where to click and how to log in."""
    current_app.config["PORTAL_BASE_URL"] = current_app.config["PORTAL_BASE_URL"] or base_url.rstrip("/")
    session = get_session()
    vendor = vendors.find_vendor(session, slug=DEMO_SLUG)
    owner = vendors.owner_of(session, vendor_id=vendor.id) if vendor else None
    if owner is None:
        raise click.ClickException("No demo vendor: run `flask --app wsgi seed-demo` first.")
    customer = customers.first_customer(session, vendor_id=vendor.id)
    code = customers.association_code(customer, current_app.extensions["encryptor"]) if customer else None
    with current_app.test_request_context(base_url=base_url):
        click.echo("")
        click.echo(f"  Vendor dashboard:      {absolute_url('vendors.home')}")
        click.echo(f"      log in as          {owner.email} / {DEMO_PASSWORD}")
        click.echo(f"  Generic sign-up link:  {absolute_url('signup.sign_up', vendor_slug=vendor.slug)}")
        if code and customers.link_usable(customer):
            click.echo(f"  Demo customer's association link ({customer.name}):")
            click.echo(f"      {absolute_url('signup.associate', vendor_slug=vendor.slug, id=customer.id, auth=code)}")
        elif customer:
            click.echo(f"  {possessive(customer.name)} association link has been used; make a new one on the customer "
                       "page:")
            click.echo(f"      {absolute_url('customers.show', customer_id=customer.id)}")
        if current_app.config["MAIL_BACKEND"] == "console":
            click.echo(f"  Mail sent by the portal: {absolute_url('outbox.index')}")
        if find_account(session, vendor_id=vendor.id, email=DEMO_BUYER) is not None:
            click.echo(f"  Customer portal:       {absolute_url('dashboard.index', vendor_slug=vendor.slug)}")
            click.echo(f"      log in as          {DEMO_BUYER} / {DEMO_PASSWORD}")
            click.echo("      then Subscribe, pay with 4242 4242 4242 4242, and watch the license key appear")
        show_demo_api(base_url)
        if current_app.config["STRIPE_API_BASE"] and current_app.config["STRIPE_SECRET_KEY"]:
            click.echo(f"  Stripe stand-in: {current_app.config['STRIPE_API_BASE']}"
                       f"  secret key {current_app.config['STRIPE_SECRET_KEY']}")
        click.echo("")


def _refusal(error: DomainError) -> str:
    """A service's refusal as the command line says it: the option it concerns, then the form's message."""
    return f"--{error.field}: {error.message}" if error.field else error.message


def init_app(app: Flask) -> None:
    for command in (create_vendor_command, set_vendor_password_command, seed_demo_command, show_demo_command,
                    stripe_group, api_group):
        app.cli.add_command(command)
