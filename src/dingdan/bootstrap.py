"""Wiring: the one place that builds concrete pieces (database, migrations) from settings."""

from __future__ import annotations

from alembic import command
from alembic.config import Config

from dingdan.config import Settings, get_settings
from dingdan.db.engine import Database


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", "dingdan:migrations")
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def migrate(url: str) -> None:
    command.upgrade(alembic_config(url), "head")


def database(settings: Settings | None = None) -> Database:
    s = settings or get_settings()
    return Database(
        s.database_url,
        pool_size=s.db_pool_size,
        sqlite_synchronous=s.sqlite_synchronous,
        sqlite_busy_timeout=s.sqlite_busy_timeout,
    )
