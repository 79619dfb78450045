"""One product per barcode

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 00:40:00

A packing scan of a barcode must name one SKU, so ``products.barcode`` becomes unique
(``uq_products_barcode`` replaces the plain ``ix_products_barcode``); products without a
barcode stay many (NULLs are distinct). An empty barcode becomes NULL. Where products
already share a barcode, the oldest keeps it and the others lose it, each recorded in the
audit log (``barcode_cleared``) with the barcode it had, for staff to give them their own.
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import dingdan.db.types

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

_products = sa.table(
    "products", sa.column("id", sa.BigInteger), sa.column("sku"), sa.column("barcode")
)
_audit = sa.table(
    "audit_log",
    sa.column("actor"),
    sa.column("action"),
    sa.column("entity_type"),
    sa.column("entity_id"),
    sa.column("before", sa.JSON),
    sa.column("after", sa.JSON),
    sa.column("created_at", dingdan.db.types.UTCDateTime(timezone=True)),
)


def _clear_shared_barcodes(conn: sa.Connection) -> None:
    conn.execute(sa.update(_products).where(_products.c.barcode == "").values(barcode=None))
    rows = conn.execute(
        sa.select(_products.c.id, _products.c.sku, _products.c.barcode)
        .where(_products.c.barcode.is_not(None))
        .order_by(_products.c.barcode, _products.c.id)
    ).all()
    seen: set[str] = set()
    for pid, sku, barcode in rows:
        if barcode not in seen:
            seen.add(barcode)
            continue
        conn.execute(sa.update(_products).where(_products.c.id == pid).values(barcode=None))
        conn.execute(
            sa.insert(_audit).values(
                actor="migration:0014",
                action="barcode_cleared",
                entity_type="product",
                entity_id=sku,
                before={"barcode": barcode},
                after={"barcode": None},
                created_at=datetime.now(UTC),
            )
        )


def upgrade() -> None:
    _clear_shared_barcodes(op.get_bind())
    with op.batch_alter_table("products", schema=None) as batch_op:
        batch_op.drop_index("ix_products_barcode")
        batch_op.create_index("uq_products_barcode", ["barcode"], unique=True)


def downgrade() -> None:
    with op.batch_alter_table("products", schema=None) as batch_op:
        batch_op.drop_index("uq_products_barcode")
        batch_op.create_index("ix_products_barcode", ["barcode"], unique=False)
