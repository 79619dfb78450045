"""Wiring: the one place that builds concrete pieces (database, migrations) from settings."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from dingdan.config import Settings, get_settings
from dingdan.db.engine import Database
from dingdan.db.replica import ReportsDatabase


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", "dingdan:migrations")
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def migrate(url: str) -> None:
    command.upgrade(alembic_config(url), "head")


def schema_is_current(db: Database) -> bool:
    """Whether the database's schema is at the newest migration (``dingdan db upgrade``
    brings it there)."""
    head = ScriptDirectory.from_config(alembic_config(str(db.url))).get_current_head()
    # A reader: SQLite's writing engine begins with BEGIN IMMEDIATE, the write lock.
    with db.read_engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision() == head


def wire() -> None:
    """Hand the pieces of upper contexts to the lower ones that call them: the e-invoice
    centre's barcode and donation code lookups to the orders context's invoice choices."""
    from dingdan.services.invoicing import lookups
    from dingdan.services.orders import invoice_lookup

    invoice_lookup.use(lookups.exists)


def database(settings: Settings | None = None) -> Database:
    s = settings or get_settings()
    return Database(
        s.database_url,
        pool_size=s.db_pool_size,
        sqlite_synchronous=s.sqlite_synchronous,
        sqlite_busy_timeout=s.sqlite_busy_timeout,
    )


def reports_database(
    settings: Settings | None = None, primary: Database | None = None
) -> Database | ReportsDatabase:
    """Where reports and exports read: ``primary`` (the configured database when not given),
    or, with ``DINGDAN_REPORTS_DATABASE_URL`` set, its PostgreSQL streaming replica while
    that keeps within the lag bound (db/replica.py)."""
    s = settings or get_settings()
    main = primary or database(s)
    if not s.reports_database_url:
        return main
    replica = Database(s.reports_database_url, pool_size=s.db_pool_size)
    if main.is_sqlite or replica.is_sqlite:
        replica.dispose()
        raise ValueError(
            "DINGDAN_REPORTS_DATABASE_URL names a PostgreSQL streaming replica of a PostgreSQL "
            "DINGDAN_DATABASE_URL; SQLite has no replicas"
        )
    return ReportsDatabase(
        main,
        replica,
        max_lag=s.reports_max_lag_seconds,
        check_every=s.reports_lag_check_seconds,
    )
