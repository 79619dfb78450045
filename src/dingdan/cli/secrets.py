"""`dingdan secrets rotate`: re-encrypt every stored secret with the current key."""

from __future__ import annotations

import typer

from dingdan.cli.common import database, err, out, run

secrets_app = typer.Typer(help="Secrets stored encrypted in the database.", no_args_is_help=True)


@secrets_app.command("rotate")
def secrets_rotate() -> None:
    """Re-encrypt every stored secret with DINGDAN_SECRET_KEY, opening the ones encrypted
    with a key of DINGDAN_SECRET_KEY_OLD; then that old key may be removed."""
    from dingdan.services.shared import secrets

    try:
        done = run(secrets.rotate, database())
    except secrets.SecretKeyMismatch as exc:
        err.print(f"[red]{exc}[/red]", highlight=False)
        raise typer.Exit(1) from None
    out.print(
        f"{done.resealed} secrets encrypted with the current key "
        f"({done.plain_sealed} of them were stored unencrypted)",
        highlight=False,
    )
    if done.fingerprints:
        out.print(f"{done.fingerprints} card fingerprints computed with it", highlight=False)
