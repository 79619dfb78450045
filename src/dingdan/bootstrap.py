"""Wiring: the one place that builds concrete pieces (database, migrations) from settings."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from dingdan.config import Settings, get_settings
from dingdan.db.engine import Database


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


def database(settings: Settings | None = None) -> Database:
    s = settings or get_settings()
    return Database(
        s.database_url,
        pool_size=s.db_pool_size,
        sqlite_synchronous=s.sqlite_synchronous,
        sqlite_busy_timeout=s.sqlite_busy_timeout,
    )
