"""`flask stripe reconcile [--vendor SLUG] [--dry-run]`: bring every connected vendor's keys and Stripe into
agreement, with a progress bar and a summary table. Exits 0 whether or not it found drift; non-zero only when
Stripe or the database cannot be reached."""

import sys

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy.exc import OperationalError

from portal.billing.connection import connected_vendors
from portal.billing.gateway import StripeRefused, StripeUnavailable
from portal.billing.reconcile import reconcile
from portal.db import get_session
from portal.domain import DomainError
from portal.urls import url_outside_request

stripe_group = AppGroup("stripe", help="Stripe: reconcile subscriptions and keys.")
KINDS = {"no_key": "paid, no key", "no_key_id": "no skm_key_id in Stripe", "unknown_key": "skm_key_id names no key",
         "wrong_key": "key of another product or customer", "write_back": "write-back pending",
         "blocked": "blocked while paid up", "customer_unlinked": "customer without skm_customer_id"}


@stripe_group.command("reconcile")
@click.option("--vendor", "slug", help="only this vendor (its portal address); default: every connected vendor")
@click.option("--dry-run", is_flag=True, help="list what is wrong and change nothing")
def reconcile_command(slug: str | None, dry_run: bool) -> None:
    """Walk each vendor's Stripe subscriptions and customers, repair what disagrees, redo failed deliveries."""
    # Loaded here, by the command alone: every worker registers the CLI at start and would otherwise carry the
    # terminal library (about 2 MB of each worker's memory) without ever drawing a table.
    from rich.console import Console
    from rich.progress import Progress
    from rich.table import Table

    # A terminal's own width; piped or captured, wide enough that a row is one line a script can read.
    console = Console() if sys.stdout.isatty() else Console(width=200)
    session = get_session()
    try:
        vendors = connected_vendors(session, slug)
    except OperationalError as error:
        raise click.ClickException(f"The database cannot be reached: {error.orig}") from error
    if not vendors:
        console.print(f"No vendor {slug} with Stripe connected." if slug else "No vendor has Stripe connected.")
        return
    table = Table(title="Stripe reconcile" + (" (dry run: nothing changed)" if dry_run else ""))
    for column in ("vendor", "subscriptions", "customers", "found", "repaired", "events redone", "not repaired"):
        table.add_column(column)
    access = current_app.extensions["stripe_access"]
    for vendor, connection in vendors:
        with Progress(console=console, transient=True) as progress:
            task = progress.add_task(f"{vendor.slug}: asking Stripe…", total=None)
            try:
                summary = reconcile(session, access, connection=connection, dry_run=dry_run,
                                    actor="stripe reconcile (command line)",
                                    portal_link=url_outside_request("dashboard.index", vendor_slug=vendor.slug),
                                    step=lambda what, task=task, slug=vendor.slug: progress.update(
                                        task, description=f"{slug}: {what}"))
            except (StripeUnavailable, StripeRefused) as error:
                raise click.ClickException(f"{vendor.slug}: Stripe answered: {error}") from error
            except (DomainError, OperationalError) as error:
                raise click.ClickException(f"{vendor.slug}: {getattr(error, 'message', None) or error}") from error
        found = ", ".join(f"{count} {KINDS.get(kind, kind)}" for kind, count in sorted(summary.found.items()))
        failed = "; ".join(f"{what}: {why}" for what, why in summary.failed.items())
        table.add_row(vendor.slug, str(summary.subscriptions), str(summary.customers), found or "nothing",
                      str(summary.repaired), str(summary.events_redone), failed or "none")
    console.print(table)
