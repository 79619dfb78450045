"""`dingdan audit`: seal the audit trail's new entries and check its hash chain."""

from __future__ import annotations

import typer

from dingdan.cli.common import database, err, out, run

audit_app = typer.Typer(help="The audit trail.", no_args_is_help=True)


@audit_app.command("seal")
def audit_seal() -> None:
    """Seal every entry not yet in the hash chain (the worker does this every round)."""
    from dingdan.services.access import audit_chain

    n = run(audit_chain.seal_all, database())
    out.print(f"{n} audit entries sealed")


@audit_app.command("verify")
def audit_verify() -> None:
    """Recompute the audit trail's hash chain; non-zero exit naming each break."""
    from dingdan.services.access import audit_chain

    verdict = run(audit_chain.verify, database())
    if verdict.intact:
        out.print(
            f"audit trail intact: {verdict.sealed} entries in the chain, "
            f"{verdict.unsealed} waiting for the worker to seal them",
            highlight=False,
        )
        return
    for problem in verdict.problems:
        err.print(problem, highlight=False, markup=False)
    err.print(f"[red]the audit trail was tampered with: {len(verdict.problems)} break(s)[/red]")
    raise typer.Exit(1)
