"""Settings from the environment (prefix ``DINGDAN_``); a ``.env`` file may add to them."""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field, SecretStr
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
    # Reports and exports read from this PostgreSQL streaming replica of database_url's server
    # (a hot standby; the URL names the same database) while it keeps within
    # reports_max_lag_seconds of the primary; beyond that, or unreachable, they read from the
    # primary and a warning is logged. The lag is measured at most every
    # reports_lag_check_seconds per process (db/replica.py). Empty: reports read the primary.
    reports_database_url: str = ""
    reports_max_lag_seconds: float = Field(default=30.0, ge=0)
    reports_lag_check_seconds: float = Field(default=5.0, ge=0)
    # PostgreSQL: orders a worker process captures at once (POST /api/v1/orders); more wait
    # their turn. Past a few per core the database spends its CPU switching between them.
    capture_concurrency: int = Field(default=8, ge=1)
    # Live pages: open event streams (GET /live) one process serves at once; more are
    # answered 503 and their screens fall back to a refresh link.
    live_max_streams: int = Field(default=200, ge=1)
    # Secret for signing back-office sessions; `dingdan serve` refuses the default on any
    # address but a loopback one.
    secret_key: str = DEFAULT_SECRET_KEY
    # The key(s) DINGDAN_SECRET_KEY replaced (comma-separated): the secrets stored encrypted
    # with them are still read until `dingdan secrets rotate` has re-encrypted them
    # (db/secrets.py, docs/operations.md "Secrets at rest").
    secret_key_old: str = ""
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
    # Customers with no order for this many years are anonymised by the worker, once a day
    # (as the erase endpoint does; one with anything open is skipped). 0: never.
    retention_years: int = 0
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

    # E-invoice value-added centre (加值中心) the invoices are uploaded through: "ecpay",
    # "amego", "ezpay", or "" for none. The defaults of the keys are the centres' published sandbox
    # accounts (ECPay's B2C e-invoice test shop 2000132; Amego's test UBN 12345678), so a fresh
    # install talks to the sandboxes only; production sets its own and the production URL.
    einvoice_centre: str = ""
    einvoice_ecpay_url: str = "https://einvoice-stage.ecpay.com.tw"
    einvoice_ecpay_merchant_id: str = "2000132"
    einvoice_ecpay_hash_key: SecretStr = SecretStr("ejCk326UnaZWKisg")
    einvoice_ecpay_hash_iv: SecretStr = SecretStr("q9jcZX8Ib9LM8wYk")
    einvoice_amego_url: str = "https://invoice-api.amego.tw"
    einvoice_amego_ubn: str = "12345678"
    einvoice_amego_app_key: SecretStr = SecretStr("sHeq7t8G1wiQvhAuIM27")
    # ezPay publishes no shared test shop: its keys have no default (a seller applies for a
    # test account on the test host, cinv.ezpay.com.tw; production is inv.ezpay.com.tw).
    einvoice_ezpay_url: str = "https://cinv.ezpay.com.tw"
    einvoice_ezpay_merchant_id: str = ""
    einvoice_ezpay_hash_key: SecretStr = SecretStr("")
    einvoice_ezpay_hash_iv: SecretStr = SecretStr("")
    # Seconds to wait for a centre (connect and each read); past it the upload is retried.
    einvoice_centre_timeout: float = Field(default=10.0, gt=0)
    # Seconds to wait for the centre's answer to a mobile barcode or donation code lookup
    # while a buyer's invoice choice is taken (before the order's transaction); past it the
    # code is taken on its format and recorded as not verified.
    einvoice_lookup_timeout: float = Field(default=3.0, gt=0)
    # The seller's AES key for the printed proof's QR code: the 32 hex digits MOF's genKey
    # prints for the seed registered on the e-invoice platform (or the 16 bytes in base64).
    einvoice_qr_aes_key: SecretStr = SecretStr("")

    # ECPay all-in-one payments (綠界 全方位金流) on the customer's pay page: "stage" (ECPay's
    # test service), "production", or "" for none. The defaults of the keys are ECPay's
    # published test shop (3002607); production sets its own. ecpay_url replaces the
    # service's address (a local stand-in in tests).
    ecpay_mode: str = ""
    ecpay_merchant_id: str = "3002607"
    ecpay_hash_key: SecretStr = SecretStr("pwFHCqoQZGmho4w6")
    ecpay_hash_iv: SecretStr = SecretStr("EkRm7iFT261dpevs")
    ecpay_url: str = ""
    # Seconds to wait for ECPay's answer to a refund.
    ecpay_timeout: float = Field(default=10.0, gt=0)
    # ECPay logistics (物流整合) for convenience-store pickup: the store map, parcels made
    # through Express/Create, labels and status notices (MD5 CheckMacValue). The defaults are
    # ECPay's published B2C logistics test shop; a C2C (店到店) contract sets
    # ``ecpay_logistics_c2c`` and its own keys (the C2C test shop is 2000933 /
    # XBERn1YOvpM9nfZc / h1ONHk4P4yqbl5LK). Sender name and mobile go on every parcel (empty:
    # the shop's name and phone from its settings).
    # Empty: not configured, nothing is sent (https://logistics-stage.ecpay.com.tw: ECPay's
    # test shop, with the keys below).
    ecpay_logistics_url: str = ""
    ecpay_logistics_merchant_id: str = "2000132"
    ecpay_logistics_hash_key: SecretStr = SecretStr("5294y06JbISpM5x9")
    ecpay_logistics_hash_iv: SecretStr = SecretStr("v77hoKGq4kWxNNIS")
    ecpay_logistics_c2c: bool = False
    ecpay_logistics_sender_name: str = ""
    ecpay_logistics_sender_phone: str = ""
    # Seconds to wait for ECPay (connect and each read).
    ecpay_logistics_timeout: float = Field(default=10.0, gt=0)

    def public_base_url(self) -> str:
        """``public_url`` without a trailing slash (``LOCAL_PUBLIC_URL`` when unset)."""
        return (self.public_url or LOCAL_PUBLIC_URL).rstrip("/")


@lru_cache
def get_settings() -> Settings:
    return Settings()
