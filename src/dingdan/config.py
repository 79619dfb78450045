"""Settings from the environment (prefix ``DINGDAN_``); a ``.env`` file may add to them."""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_SECRET_KEY = "change-me-in-production"
# What public_url means while it is not set (`dingdan serve` sets it for its workers).
LOCAL_PUBLIC_URL = "http://127.0.0.1:8000"


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
    # Secret for signing back-office sessions; `dingdan serve` refuses the default on any
    # address but a loopback one.
    secret_key: str = DEFAULT_SECRET_KEY
    # Addresses of the reverse proxies whose X-Forwarded-For / X-Forwarded-Proto are
    # believed (comma-separated IPs or networks, "*" for any); empty: none, the peer's
    # address is the client's.
    forwarded_allow_ips: str = ""
    # The address customers reach Dingdan at (printed QR codes, links in stored PDFs), such
    # as https://shop.example.com; never taken from a request's Host header. Empty: `dingdan
    # serve` on a loopback address uses http://<host>:<port>; elsewhere it must be set.
    public_url: str = ""
    order_number_prefix: str = "DD"
    # Unpaid bank-transfer orders are cancelled after this many hours.
    bank_transfer_timeout_hours: float = 72.0
    # Where customer email goes out: smtp://user:pass@host:port, smtp://host:port?starttls=true
    # or smtps://user:pass@host:port. Empty: messages are kept as "not_configured", unsent.
    smtp_url: str = ""
    # The From address of customer email (the shop's name from its settings goes beside it).
    mail_from: str = ""
    # Run the outbox/housekeeping worker inside `dingdan serve`.
    run_worker: bool = True
    log_level: str = "info"
    # Where uploaded files (dispute evidence, return photos) are kept, outside the database.
    upload_dir: str = "uploads"
    # Largest uploaded file; multipart requests may be this large (plus form overhead).
    upload_max_bytes: int = 5 * 1024 * 1024
    # Outgoing webhooks may be posted to loopback, private and link-local addresses (for
    # development and tests only: in production an endpoint could reach the inside network).
    webhook_allow_private: bool = False

    def public_base_url(self) -> str:
        """``public_url`` without a trailing slash (``LOCAL_PUBLIC_URL`` when unset)."""
        return (self.public_url or LOCAL_PUBLIC_URL).rstrip("/")


@lru_cache
def get_settings() -> Settings:
    return Settings()
