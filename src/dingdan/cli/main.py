"""The `dingdan` command."""

from __future__ import annotations

import os
from typing import Any

import typer

from dingdan.cli import common
from dingdan.cli.common import cli_actor, database, err, out, run

app = typer.Typer(
    help="Dingdan (訂單): order management.", no_args_is_help=True, pretty_exceptions_enable=False
)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
token_app = typer.Typer(help="API tokens.", no_args_is_help=True)
user_app = typer.Typer(help="Back-office users.", no_args_is_help=True)
inventory_app = typer.Typer(help="Stock.", no_args_is_help=True)
products_app = typer.Typer(help="Products.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(token_app, name="token")
app.add_typer(user_app, name="user")
app.add_typer(inventory_app, name="inventory")
app.add_typer(products_app, name="products")


def _upgrade() -> None:
    from dingdan import bootstrap
    from dingdan.config import get_settings

    with common.reported():
        try:
            bootstrap.migrate(get_settings().database_url)
        except Exception as exc:  # noqa: BLE001 - any failure here is fatal and explained
            err.print(f"[red]error:[/red] could not migrate the database: {exc}")
            raise typer.Exit(1) from None


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply pending migrations to the configured database."""
    _upgrade()
    out.print("database is up to date")


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    port: int = typer.Option(8000, help="Port to listen on."),
    workers: int = typer.Option(1, help="Worker processes."),
) -> None:
    """Run the web app (API + back office); applies pending migrations first. With
    several workers, each listens on its own socket and the kernel spreads connections."""
    from dingdan.cli import serving
    from dingdan.config import get_settings

    if workers < 1:
        err.print("[red]error:[/red] --workers must be at least 1")
        raise typer.Exit(2)
    settings = get_settings()
    reason = serving.refusal(host, port, settings)
    if reason is not None:
        err.print(f"[red]error:[/red] {reason}", highlight=False)
        raise typer.Exit(2)
    if not settings.public_url:
        # The workers (and this process) read it from the environment.
        os.environ["DINGDAN_PUBLIC_URL"] = serving.local_public_url(host, port)
        get_settings.cache_clear()
    _upgrade()
    if workers > 1 and serving.spreads_connections() and serving.port_in_use(host, port):
        err.print(f"[red]error:[/red] {host}:{port} is already in use")
        raise typer.Exit(1)
    out.print(f"Dingdan is listening on http://{host}:{port}/  (API docs: /docs)")
    serving.serve(host, port, workers)


@token_app.command("create")
def token_create(
    name: str = typer.Option(..., help="What the token is for."),
    role: str = typer.Option(
        ..., help="admin, manager, customer_service, warehouse, finance or viewer."
    ),
) -> None:
    """Create an API token; prints the token alone on the last line."""
    from dingdan.services.access import accounts

    secret, view = run(accounts.create_token, database(), cli_actor(), name, role)
    out.print(
        f"Created token {view['name']!r} with role {view['role']} (shown only once):",
        highlight=False,
    )
    print(secret)


@user_app.command("create")
def user_create(
    email: str = typer.Option(..., help="Sign-in email."),
    role: str = typer.Option(..., help="The user's role."),
    name: str = typer.Option(None, help="Display name."),
) -> None:
    """Create a back-office user; reads the password from stdin."""
    from dingdan.services.access import accounts

    password = common.read_stdin_secret()
    view = run(
        lambda: accounts.create_user(
            database(), cli_actor(), email=email, role=role, password=password, name=name
        )
    )
    out.print(f"Created user {view['email']} with role {view['role']}", highlight=False)


@inventory_app.command("verify")
def inventory_verify() -> None:
    """Recompute every stock level from the ledger; non-zero exit listing each difference."""
    from dingdan.services.inventory import stock

    diffs = run(stock.verify, database())
    if not diffs:
        out.print("all stock levels agree with the ledger")
        return
    for d in diffs:
        err.print(
            f"{d['sku']} at {d['location']}: level on_hand={d['level']['on_hand']} "
            f"reserved={d['level']['reserved']}, ledger on_hand={d['ledger']['on_hand']} "
            f"reserved={d['ledger']['reserved']}",
            highlight=False,
            markup=False,
        )
    err.print(f"[red]{len(diffs)} stock level(s) differ from the ledger[/red]")
    raise typer.Exit(1)


def _register_more() -> None:
    from dingdan.cli import audit, exports, forecasts, imports, reports, secrets, tracking

    app.add_typer(audit.audit_app, name="audit")
    imports.register(products_app, inventory_app)
    app.add_typer(imports.orders_app, name="orders")
    app.add_typer(tracking.tracking_app, name="tracking")
    app.add_typer(forecasts.forecasts_app, name="forecasts")
    app.add_typer(reports.reports_app, name="reports")
    app.add_typer(secrets.secrets_app, name="secrets")
    exports.register(app)


_register_more()


@app.command()
def demo(
    if_empty: bool = typer.Option(
        False, "--if-empty", help="Do nothing when the database already has data."
    ),
) -> None:
    """Fill the configured database with demo data."""
    from dingdan.services import demo as demo_data

    db = database()
    if not demo_data.is_empty(db):
        if if_empty:
            out.print(
                f"Demo data already loaded. Sign in as {demo_data.DEMO_ADMIN} / "
                f"{demo_data.DEMO_PASSWORD}",
                highlight=False,
            )
            return
        err.print("[red]error:[/red] the database already has data; demo needs an empty one")
        raise typer.Exit(1)
    info = run(demo_data.load, db, cli_actor())
    out.print("Demo data loaded.", highlight=False)
    out.print(
        f"Back office: sign in as {info['admin_email']} / {info['password']}", highlight=False
    )
    out.print(f"API admin token: {info['token']}", highlight=False)


def _outbox_said(drained: Any) -> str:
    """What the outbox round did, in words: a message no handler exists for is only logged
    and marked done, which is not the same as sent."""
    return (
        f"outbox: {drained.handled} handled, "
        f"{drained.unhandled} message(s) had no handler and were marked done, "
        f"{drained.failed} failed (retried later)"
    )


def _messages_said(m: Any, reminders: list[str]) -> str:
    """Customer emails: delivered means a mail server accepted them; without one configured
    they are kept (status not_configured), and said to be."""
    said = f"customer emails: {m.sent} delivered, {m.failed} failed (retried later)"
    if m.not_configured:
        said += f", {m.not_configured} kept undelivered (no DINGDAN_SMTP_URL)"
    return said + f", payment reminders queued: {len(reminders)}"


@app.command()
def worker(
    once: bool = typer.Option(False, "--once", help="Run one round and exit."),
    interval: float = typer.Option(5.0, help="Seconds between rounds."),
) -> None:
    """Run the background worker (outbox, SQLite's order search index, unpaid bank-transfer
    cancellation, payment intents left pending, PDF documents, outgoing webhooks) in the
    foreground."""
    import time

    from dingdan.config import get_settings
    from dingdan.services.jobs import worker as jobs

    db = database()
    hours = get_settings().bank_transfer_timeout_hours
    while True:
        result = run(jobs.run_once, db, hours, background=not once)
        out.print(
            f"{_outbox_said(result['outbox'])}, "
            f"orders indexed for search: {result['search_indexed']}, "
            f"cancelled: {len(result['cancelled'])}, "
            f"idempotency keys purged: {result['purged_keys']}, "
            f"payment intents settled: {result['payment_intents']}, "
            f"documents rendered: {result['documents']}, "
            f"webhook deliveries started: {result['webhooks']}, "
            f"{_messages_said(result['messages'], result['payment_reminders'])}",
            highlight=False,
        )
        if once:
            return
        time.sleep(interval)
