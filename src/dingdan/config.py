"""Settings from the environment (prefix ``DINGDAN_``); a ``.env`` file may add to them."""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DINGDAN_", env_file=".env", extra="ignore")

    database_url: str = "sqlite:///dingdan.db"
    # Largest request body accepted, in bytes; larger ones get 413 payload_too_large.
    max_body_bytes: int = 1024 * 1024
    # SQLite durability: FULL survives power loss; NORMAL may lose the last commits, never corrupts.
    sqlite_synchronous: str = "FULL"
    # Seconds a writer waits for SQLite's single write lock before retrying.
    sqlite_busy_timeout: float = 10.0
    db_pool_size: int = 10
    # PostgreSQL: orders a worker process captures at once (POST /api/v1/orders); more wait
    # their turn. Past a few per core the database spends its CPU switching between them.
    capture_concurrency: int = Field(default=8, ge=1)
    # Secret for signing back-office sessions; set it in production.
    secret_key: str = "change-me-in-production"
    order_number_prefix: str = "DD"
    # Unpaid bank-transfer orders are cancelled after this many hours.
    bank_transfer_timeout_hours: float = 72.0
    # Run the outbox/housekeeping worker inside `dingdan serve`.
    run_worker: bool = True
    log_level: str = "info"
    # Where uploaded files (dispute evidence, return photos) are kept, outside the database.
    upload_dir: str = "uploads"
    # Largest uploaded file; multipart requests may be this large (plus form overhead).
    upload_max_bytes: int = 5 * 1024 * 1024


@lru_cache
def get_settings() -> Settings:
    return Settings()
