"""`dingdan forecasts run [--all|--changed] [--processes N]`: demand forecasts now, as the
worker's nightly run does (services/purchasing/forecasts.py)."""

from __future__ import annotations

import time

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from dingdan.cli.common import database, err, out, reported

forecasts_app = typer.Typer(help="Demand forecasts.", no_args_is_help=True)


@forecasts_app.command("run")
def forecasts_run(
    every: bool = typer.Option(False, "--all", help="Every SKU (the default)."),
    changed: bool = typer.Option(
        False,
        "--changed",
        help="Only SKUs with sales since their last forecast, refitting their chosen model.",
    ),
    processes: int = typer.Option(1, help="Processes fitting the models (one per core)."),
) -> None:
    """Compute the forecasts of every SKU (or only of those with new sales) and keep them."""
    from dingdan.services.purchasing import forecasts

    if every and changed:
        err.print("[red]error:[/red] --all and --changed exclude each other")
        raise typer.Exit(2)
    if processes < 1:
        err.print("[red]error:[/red] --processes must be at least 1")
        raise typer.Exit(2)
    db = database()
    started = time.perf_counter()
    with reported():
        ids = forecasts.changed_products(db) if changed else forecasts.all_products(db)
        with Progress(
            TextColumn("forecasting"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=err,
            transient=True,
        ) as bar:
            task = bar.add_task("forecasting", total=len(ids))
            series = forecasts.compute_products(
                db,
                ids,
                processes=processes,
                progress=lambda n: bar.advance(task, n),
                refit=changed,
            )
    seconds = time.perf_counter() - started
    out.print(
        f"forecast {len(ids)} SKU(s), {series} series, in {seconds:.1f} s",
        markup=False,
        highlight=False,
    )
