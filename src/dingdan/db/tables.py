"""Tables of the foundation: catalog, locations, stock ledger, access, audit and outbox.

Money is stored as integer minor units beside its ISO 4217 currency, so SQLite and
PostgreSQL compute it identically and nothing is ever a float.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from dingdan.db.types import UTCDateTime, utcnow

# A 64-bit key that is still SQLite's rowid alias (only INTEGER PRIMARY KEY autoincrements).
BigId = BigInteger().with_variant(Integer(), "sqlite")

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {
        datetime: UTCDateTime,
        dict[str, Any]: JSON,
        list[dict[str, Any]]: JSON,
    }


class Timestamps:
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Product(Timestamps, Base):
    __tablename__ = "products"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    sku: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(300))
    # One product per barcode (a packing scan names one SKU); many may have none.
    barcode: Mapped[str | None] = mapped_column(String(64))
    price_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    weight_grams: Mapped[int | None]
    length_mm: Mapped[int | None]
    width_mm: Mapped[int | None]
    height_mm: Mapped[int | None]
    category: Mapped[str | None] = mapped_column(String(100), index=True)
    brand: Mapped[str | None] = mapped_column(String(100))
    tax_class: Mapped[str] = mapped_column(String(50), default="standard")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    allow_backorder: Mapped[bool] = mapped_column(Boolean, default=False)
    # Available units at or below which the product counts as low on stock.
    low_stock_threshold: Mapped[int] = mapped_column(Integer, default=0)
    # Purchasing (issue 23): the reorder point set by hand (None: computed from demand and
    # the lead time), the preferred supplier (suppliers.id; no foreign key, so the catalog's
    # table does not depend on purchasing's), and the moving average cost of a unit, in
    # millionths of ``cost_currency``'s unit, updated on every PO receipt. (No CHECK: adding
    # one would rebuild the products table on SQLite; the service refuses a negative.)
    reorder_point: Mapped[int | None] = mapped_column(Integer)
    preferred_supplier_id: Mapped[int | None] = mapped_column(BigInteger)
    cost_micros: Mapped[int | None] = mapped_column(BigInteger)
    cost_currency: Mapped[str | None] = mapped_column(String(3))

    __table_args__ = (
        CheckConstraint("price_minor >= 0", name="price_not_negative"),
        CheckConstraint("low_stock_threshold >= 0", name="threshold_not_negative"),
        Index("uq_products_barcode", "barcode", unique=True),
    )


class Location(Timestamps, Base):
    __tablename__ = "locations"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20), default="warehouse")
    line1: Mapped[str | None] = mapped_column(String(300))
    line2: Mapped[str | None] = mapped_column(String(300))
    city: Mapped[str | None] = mapped_column(String(100))
    region: Mapped[str | None] = mapped_column(String(100))
    postal_code: Mapped[str | None] = mapped_column(String(20))
    country: Mapped[str] = mapped_column(String(2))
    phone: Mapped[str | None] = mapped_column(String(20))
    priority: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # ISO 3166 codes of the addresses it serves first (domain/shared/regions.py); empty:
    # everywhere. Read with the stock levels by the capture (one query).
    regions: Mapped[list[str]] = mapped_column(JSON, default=list, server_default="[]")


class StockLevel(Base):
    """What one location holds of one product. Changed only together with a movement row."""

    __tablename__ = "stock_levels"

    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), primary_key=True)
    location_id: Mapped[int] = mapped_column(ForeignKey("locations.id"), primary_key=True)
    on_hand: Mapped[int] = mapped_column(Integer, default=0)
    reserved: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (
        CheckConstraint("reserved >= 0 AND reserved <= on_hand", name="reserved_within_on_hand"),
        Index("ix_stock_levels_location", "location_id"),
    )


class StockMovement(Base):
    """The ledger: every change of a level, with why, who and when. Levels equal its sums."""

    __tablename__ = "stock_movements"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    location_id: Mapped[int] = mapped_column(ForeignKey("locations.id"))
    kind: Mapped[str] = mapped_column(String(20))
    on_hand_delta: Mapped[int] = mapped_column(Integer, default=0)
    reserved_delta: Mapped[int] = mapped_column(Integer, default=0)
    reason: Mapped[str | None] = mapped_column(String(200))
    reference: Mapped[str | None] = mapped_column(String(200))
    actor: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        Index("ix_stock_movements_product_id_id", "product_id", "id"),
        Index("ix_stock_movements_location_id", "location_id"),
    )


class ApiToken(Base):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(30))
    # SHA-256 of the secret; the secret itself is shown once and never stored.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]


class User(Timestamps, Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str | None] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(300))
    role: Mapped[str] = mapped_column(String(30))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    language: Mapped[str | None] = mapped_column(String(10))
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None]


class Session(Base):
    """A signed-in browser: the SHA-256 of its cookie's token, whose it is, and when it ends
    whatever the cookie says (migration 0013)."""

    __tablename__ = "sessions"
    __table_args__ = (Index("ix_sessions_user_id", "user_id"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id", ondelete="CASCADE"))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]


class SignInThrottle(Base):
    """Failed sign-ins per key (an email at an address, an address) and the time before
    which the key may not try again; kept for unknown emails alike (migration 0013)."""

    __tablename__ = "sign_in_throttle"
    __table_args__ = (Index("ix_sign_in_throttle_updated_at", "updated_at"),)

    key: Mapped[str] = mapped_column(String(400), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer)
    blocked_until: Mapped[datetime | None]
    updated_at: Mapped[datetime]


class AuditEntry(Base):
    """Who did what to which record, with the values before and after."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(50))
    entity_type: Mapped[str] = mapped_column(String(50))
    entity_id: Mapped[str] = mapped_column(String(100))
    before: Mapped[dict[str, Any] | None]
    after: Mapped[dict[str, Any] | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        Index("ix_audit_log_entity", "entity_type", "entity_id"),
        Index("ix_audit_log_created_at", "created_at"),
    )


class AuditSeal(Base):
    """One link of the audit trail's hash chain (migration 0026): entry ``entry_id`` sealed
    as the ``seq``-th, ``hash`` = SHA-256 of the previous link's hash and the entry. Like
    ``audit_log``, append-only (triggers refuse UPDATE and DELETE)."""

    __tablename__ = "audit_seals"

    seq: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)
    entry_id: Mapped[int] = mapped_column(BigId, unique=True)
    hash: Mapped[str] = mapped_column(String(64))
    sealed_at: Mapped[datetime] = mapped_column(default=utcnow)


class RequestReplay(Base):
    """The answer to a POST sent with an ``Idempotency-Key`` (migration 0013): ``running``
    while the first request runs, ``done`` with its answer, ``unknown`` when it ended
    without one (a 5xx, a crash): replayed, or refused, never run twice."""

    __tablename__ = "request_replays"

    scope: Mapped[str] = mapped_column(String(200), primary_key=True)
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(10))
    status_code: Mapped[int | None] = mapped_column(Integer)
    content_type: Mapped[str | None] = mapped_column(String(100))
    body: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class OutboxMessage(Base):
    """Side effects written in the same transaction as the change; drained after commit."""

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    topic: Mapped[str] = mapped_column(String(100))
    payload: Mapped[dict[str, Any]]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    available_at: Mapped[datetime] = mapped_column(default=utcnow)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    processed_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    # pending, or dead after its last attempt (kept to be seen and replayed). A server
    # default: PostgreSQL's order capture function writes rows without naming it.
    status: Mapped[str] = mapped_column(String(10), default="pending", server_default="pending")
    # The lease of the worker running the message's handler: no other worker takes it until
    # claimed_until has passed (a worker that died mid-handler lets it go that way).
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    claimed_until: Mapped[datetime | None]

    # AUTOINCREMENT on SQLite: an id is never used again once the queue is empty (a plain
    # rowid restarts at 1), so an event's id stays its identity for the consumers that key
    # what they write by it. PostgreSQL's identity never goes back.
    __table_args__ = (
        Index("ix_outbox_ready", "status", "available_at"),
        {"sqlite_autoincrement": True},
    )


class Setting(Base):
    """Seller settings as JSON by key (stage time limits, return policy, ...)."""

    __tablename__ = "settings"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[dict[str, Any]]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


def table_of(model: type[Base]) -> Table:
    """The Core table of a mapped class, for statements built once on hot paths (Core
    statements skip the ORM's per-statement work)."""
    return cast(Table, model.__table__)
