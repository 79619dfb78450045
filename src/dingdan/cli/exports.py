"""`dingdan export KIND`: a list as CSV or XLSX, as the API's ``GET /api/v1/exports/{kind}``
streams it, into a file."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import typer
from rich.progress import DownloadColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from dingdan.cli.common import cli_actor, err, out, reported, reports_database

FILTER_HELP = (
    "One of the list's filters as NAME=VALUE (status=open, q=王, location=TPE); repeatable."
)


def export(
    kind: str = typer.Argument(
        ...,
        help="orders, order-lines, customers, products, inventory, movements, returns or payments",
    ),
    format: str = typer.Option("csv", "--format", "-f", help="csv (UTF-8 with a BOM) or xlsx"),
    date_from: str | None = typer.Option(None, "--from", help="From this day (YYYY-MM-DD)"),
    date_to: str | None = typer.Option(None, "--to", help="To this day, included"),
    filters: list[str] = typer.Option([], "--filter", help=FILTER_HELP),  # noqa: B008
    output: Path | None = typer.Option(
        None, "--output", "-o", help="The file to write (default: KIND-YYYYMMDD.FORMAT here)"
    ),
) -> None:
    """Export a list with its filters. The file appears whole or not at all."""
    from dingdan.services.reports import exports

    params: dict[str, str] = {}
    for f in filters:
        name, sep, value = f.partition("=")
        if not sep or not name.strip():
            err.print(f"[red]error:[/red] --filter {f!r} is not NAME=VALUE", highlight=False)
            raise typer.Exit(2)
        params[name.strip()] = value
    params |= {k: v for k, v in {"from": date_from, "to": date_to}.items() if v}
    with reported():
        started = exports.start(reports_database(), cli_actor(), kind, format, params)
        target = output or Path(started.filename)
        folder = target.resolve().parent
        fd, partial = tempfile.mkstemp(prefix=f".{target.name}.", dir=folder)
        try:
            with os.fdopen(fd, "wb") as file, _bar() as bar:
                task = bar.add_task(f"exporting {kind}", total=None)
                for chunk in started.chunks:
                    file.write(chunk)
                    bar.advance(task, len(chunk))
            os.replace(partial, target)
        except BaseException:
            Path(partial).unlink(missing_ok=True)
            raise
    out.print(f"exported {kind} to {target}", highlight=False, markup=False)


def _bar() -> Progress:
    return Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        DownloadColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
    )


def register(app: typer.Typer) -> None:
    app.command("export")(export)
