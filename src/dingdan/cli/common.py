"""What every command shares: the database, the system actor, and errors as exit codes."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import typer
from rich.console import Console

from dingdan.domain.access.roles import Role
from dingdan.domain.shared.errors import DomainError
from dingdan.services.shared.common import Actor

T = TypeVar("T")
err = Console(stderr=True, soft_wrap=True)
out = Console(soft_wrap=True)


def cli_actor() -> Actor:
    import getpass

    try:
        user = getpass.getuser()
    except Exception:  # noqa: BLE001 - no login name in some containers
        user = "unknown"
    return Actor(f"cli:{user}", Role.ADMIN)


@contextmanager
def reported() -> Iterator[None]:
    """Turn a domain error into a readable message on stderr and exit status 1."""
    try:
        yield
    except DomainError as exc:
        err.print(f"[red]error:[/red] {exc.detail}", highlight=False)
        for e in exc.errors:
            err.print(f"  {e.field}: {e.message}", highlight=False, markup=False)
        raise typer.Exit(1) from None


def run(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    with reported():
        return fn(*args, **kwargs)


def database() -> Any:
    """The configured database, once its schema is known to be current: a command on a
    database that was never migrated (or is behind) exits with what to do, not with the
    first statement's missing table."""
    from sqlalchemy.exc import SQLAlchemyError

    from dingdan import bootstrap

    db = bootstrap.database()
    try:
        current = bootstrap.schema_is_current(db)
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        err.print(f"[red]error:[/red] cannot read the database: {reason}", highlight=False)
        raise typer.Exit(1) from None
    if not current:
        err.print(
            "[red]error:[/red] the database's schema is not current: "
            "run `dingdan db upgrade` first",
            highlight=False,
        )
        raise typer.Exit(1)
    return db


def reports_database() -> Any:
    """Where reports and exports read: the configured database, or its streaming replica
    while it keeps up (``DINGDAN_REPORTS_DATABASE_URL``)."""
    from dingdan import bootstrap

    return bootstrap.reports_database(primary=database())


def read_stdin_secret() -> str:
    data = sys.stdin.readline()
    return data.rstrip("\r\n")
