"""`dingdan reports rebuild`: the daily rollups the reports read, recomputed from the orders
(after a historical import, whose orders sent no events)."""

from __future__ import annotations

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from dingdan.cli.common import database, err, out, reported

reports_app = typer.Typer(help="Reports.", no_args_is_help=True)


@reports_app.command("rebuild")
def rebuild(
    batch: int = typer.Option(500, min=1, max=10_000, help="Orders per transaction."),
) -> None:
    """Recompute every order's share of the daily rollups and swap it in (safe beside a
    running worker: it changes only what differs); the kept customer-value fits are dropped
    (the next CLV report fits again on the orders as they are now)."""
    from dingdan.services.reports import clv, rollups

    bar = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
    )
    with reported(), bar:
        task = bar.add_task("orders", total=None)

        def progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        db = database()
        changed = rollups.rebuild(db, batch=batch, progress=progress)
        fits = clv.forget(db)
    out.print(
        f"rebuilt the report rollups: {changed} order(s) changed; "
        f"{fits} customer-value fit(s) dropped",
        highlight=False,
    )
