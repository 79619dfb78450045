"""`dingdan tracking import FILE [--skip-bad]`: carriers' tracking events from a file."""

from __future__ import annotations

from pathlib import Path

import typer

from dingdan.cli.common import cli_actor, database, err, out, reported

tracking_app = typer.Typer(help="Carrier tracking events.", no_args_is_help=True)


@tracking_app.command("import")
def tracking_import(
    file: Path = typer.Argument(
        ...,
        help="A .csv (UTF-8) or .xlsx file: carrier, tracking_number, status, time "
        "[, location, exception, description, id].",
    ),
    skip_bad: bool = typer.Option(
        False, "--skip-bad", help="Store the good rows and list the bad ones, instead of none."
    ),
) -> None:
    """Store tracking events and move their shipments, as the carriers' webhook does."""
    from dingdan.services.fulfilment import tracking_imports

    try:
        data = file.read_bytes()
    except OSError as exc:
        err.print(f"[red]error:[/red] {file}: {exc.strerror or exc}", highlight=False)
        raise typer.Exit(1) from None
    with reported():
        result = tracking_imports.import_file(
            database(), cli_actor(), file.name, data, skip_bad=skip_bad
        )
    for e in result.errors:
        err.print(f"row {e.row}: {e.message}", markup=False, highlight=False)
    bad = len({e.row for e in result.errors})
    if result.errors and not skip_bad:
        err.print(f"[red]nothing stored:[/red] {bad} bad row(s)", highlight=False)
        raise typer.Exit(1)
    summary = (
        f"applied {result.applied}, recorded only {result.stored}, "
        f"duplicates {result.duplicates}, unmatched {result.unmatched}"
    )
    if bad:
        summary += f"; {bad} bad row(s) skipped"
    out.print(summary, markup=False, highlight=False)
