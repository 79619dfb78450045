"""`dingdan products import` and `dingdan inventory import`: bulk loads from CSV or XLSX."""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)

from dingdan.cli.common import cli_actor, database, err, out, reported

if TYPE_CHECKING:
    from dingdan.services.catalog.imports import ImportResult

FILE_HELP = "A .csv (UTF-8) or .xlsx file whose first row names the columns."
SKIP_HELP = "Import the good rows and list the bad ones, instead of importing nothing."


class Mode(StrEnum):
    receive = "receive"
    set = "set"


def _bar() -> Progress:
    return Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
    )


def _run(path: Path, what: str, do: Callable[[Any, list[Any], Callable[[int], Any]], Any]) -> Any:
    """Read ``path`` and run ``do(db, rows, progress)`` under a progress bar on stderr."""
    from dingdan.services.catalog import imports

    with reported(), _bar() as bar:
        task = bar.add_task(f"reading {path.name}", total=None)
        rows = imports.read_rows(path)
        bar.update(task, description=f"importing {what}", total=len(rows), completed=0)
        return do(database(), rows, lambda n: bar.advance(task, n))


def _finish(result: ImportResult, summary: str) -> None:
    """List every bad row; exit 1 when nothing was imported because of them."""
    for e in result.errors:
        err.print(f"row {e.row}: {e.message}", markup=False, highlight=False)
    bad = len({e.row for e in result.errors})
    if result.errors and not result.imported:
        err.print(f"[red]nothing imported:[/red] {bad} bad row(s)", highlight=False)
        raise typer.Exit(1)
    if bad:
        summary += f"; {bad} bad row(s) skipped"
    out.print(summary, highlight=False, markup=False)


def products_import(
    file: Path = typer.Argument(..., help=FILE_HELP),
    skip_bad: bool = typer.Option(False, "--skip-bad", help=SKIP_HELP),
) -> None:
    """Create or update products from a file (columns sku, name, price, currency, ...)."""
    from dingdan.services.catalog import imports

    result = _run(
        file,
        "products",
        lambda db, rows, progress: imports.import_products(
            db, cli_actor(), rows, skip_bad=skip_bad, progress=progress, source=file.name
        ),
    )
    _finish(
        result,
        f"imported {result.imported} products: {result.created} created, {result.updated} updated",
    )


def inventory_import(
    file: Path = typer.Argument(..., help=FILE_HELP),
    mode: Mode = typer.Option(
        Mode.receive,
        "--mode",
        help="receive: add the quantities as a receipt; set: the "
        "quantities are a stock count (on hand after counting).",
    ),
    skip_bad: bool = typer.Option(False, "--skip-bad", help=SKIP_HELP),
) -> None:
    """Receive or count stock from a file (columns sku, location, quantity, reference, reason)."""
    from dingdan.services.catalog import imports

    result = _run(
        file,
        "stock",
        lambda db, rows, progress: imports.import_inventory(
            db,
            cli_actor(),
            rows,
            mode=mode.value,
            skip_bad=skip_bad,
            progress=progress,
            source=file.name,
        ),
    )
    summary = (
        f"imported {result.imported} stock rows ({mode.value}): {result.created} new "
        f"levels, {result.updated} changed"
    )
    if mode is Mode.set:
        summary += f", {result.unchanged} unchanged"
    _finish(result, summary)


def orders_import(
    file: Path = typer.Argument(..., help=FILE_HELP),
    historical: bool = typer.Option(
        False,
        "--historical",
        help="Past orders: stored as they were (created_at kept, completed, paid and "
        "shipped), with no stock moves and nothing sent, issued or held for them.",
    ),
    skip_bad: bool = typer.Option(False, "--skip-bad", help=SKIP_HELP),
) -> None:
    """Import orders from a file, one row per order line (columns channel, external_id,
    created_at, currency, customer_email, customer_phone, customer_name, country, sku,
    quantity, unit_price; city, postal_code, line1, shipping_price, payment_method)."""
    from dingdan.config import get_settings
    from dingdan.services.catalog import imports, order_imports

    prefix = get_settings().order_number_prefix
    with reported(), _bar() as bar:
        # The file is read twice, row by row (never held whole): checked, then imported.
        task = bar.add_task(f"checking {file.name}", total=None)

        def started(total: int) -> None:
            bar.update(task, description="importing orders", total=total, completed=0)

        result = order_imports.import_orders(
            database(),
            cli_actor(),
            lambda: imports.stream_rows(file),
            historical=historical,
            skip_bad=skip_bad,
            progress=lambda n: bar.advance(task, n),
            started=started,
            prefix=prefix,
            source=file.name,
        )
    for e in result.errors:
        err.print(f"row {e.row}: {e.message}", markup=False, highlight=False)
    bad = len({e.row for e in result.errors})
    if result.errors and not skip_bad:
        err.print(f"[red]nothing imported:[/red] {bad} bad row(s)", highlight=False)
        raise typer.Exit(1)
    for key in result.refused:
        err.print(f"refused for stock: {key}", markup=False, highlight=False)
    if bad:
        err.print(f"{bad} bad row(s) skipped", highlight=False)
    if result.existing:
        err.print(f"{result.existing} order(s) already imported, left as they were")
    out.print(f"imported {result.imported} orders", highlight=False, markup=False)
    if result.refused:
        raise typer.Exit(1)


orders_app = typer.Typer(help="Orders: import.", no_args_is_help=True)


def register(products_app: typer.Typer, inventory_app: typer.Typer) -> None:
    products_app.command("import")(products_import)
    inventory_app.command("import")(inventory_import)
    orders_app.command("import")(orders_import)
