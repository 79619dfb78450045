"""suppliers, supplier_products, purchase_orders (+ lines, receipts, receipt lines);
products.reorder_point, preferred_supplier_id, cost_micros, cost_currency

Revision ID: 0033
Revises: 0032
Create Date: 2026-12-07 07:00:00

"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import dingdan.db.types

revision = "0033"
down_revision = "0032"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_AT = dingdan.db.types.UTCDateTime(timezone=True)


def _stamps() -> list[sa.Column]:  # type: ignore[type-arg]
    return [
        sa.Column("created_at", _AT, nullable=False),
        sa.Column("updated_at", _AT, nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "suppliers",
        sa.Column("id", _ID, nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("phone", sa.String(length=30), nullable=True),
        sa.Column("contact", sa.String(length=200), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("lead_time_days", sa.Integer(), nullable=False),
        sa.Column("minimum_order_minor", sa.BigInteger(), nullable=False),
        sa.Column("minimum_order_quantity", sa.Integer(), nullable=False),
        sa.Column("pack_size", sa.Integer(), nullable=False),
        sa.Column("payment_terms", sa.String(length=100), nullable=True),
        sa.Column("language", sa.String(length=10), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        *_stamps(),
        sa.CheckConstraint("lead_time_days >= 0", name=op.f("ck_suppliers_lead_time_not_negative")),
        sa.CheckConstraint("pack_size >= 1", name=op.f("ck_suppliers_pack_size_positive")),
        sa.CheckConstraint(
            "minimum_order_minor >= 0", name=op.f("ck_suppliers_minimum_amount_not_negative")
        ),
        sa.CheckConstraint(
            "minimum_order_quantity >= 0",
            name=op.f("ck_suppliers_minimum_quantity_not_negative"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_suppliers")),
        sa.UniqueConstraint("code", name=op.f("uq_suppliers_code")),
    )
    op.create_table(
        "supplier_products",
        sa.Column("id", _ID, nullable=False),
        sa.Column("supplier_id", _ID, nullable=False),
        sa.Column("product_id", _ID, nullable=False),
        sa.Column("supplier_sku", sa.String(length=64), nullable=True),
        sa.Column("cost_minor", sa.BigInteger(), nullable=True),
        sa.Column("updated_at", _AT, nullable=False),
        sa.ForeignKeyConstraint(
            ["product_id"], ["products.id"], name=op.f("fk_supplier_products_product_id_products")
        ),
        sa.ForeignKeyConstraint(
            ["supplier_id"],
            ["suppliers.id"],
            name=op.f("fk_supplier_products_supplier_id_suppliers"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_supplier_products")),
        sa.UniqueConstraint("supplier_id", "product_id", name="uq_supplier_products_pair"),
    )
    op.create_index("ix_supplier_products_product_id", "supplier_products", ["product_id"])
    op.create_table(
        "purchase_orders",
        sa.Column("id", _ID, nullable=False),
        sa.Column("number", sa.String(length=20), nullable=False),
        sa.Column("supplier_id", _ID, nullable=False),
        sa.Column("location_id", _ID, nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("expected_date", sa.Date(), nullable=True),
        sa.Column("freight_minor", sa.BigInteger(), nullable=False),
        sa.Column("duty_minor", sa.BigInteger(), nullable=False),
        sa.Column("notes", sa.String(length=2000), nullable=True),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("sent_at", _AT, nullable=True),
        sa.Column("closed_at", _AT, nullable=True),
        *_stamps(),
        sa.CheckConstraint(
            "status IN ('draft', 'sent', 'partially_received', 'received', 'closed', 'cancelled')",
            name=op.f("ck_purchase_orders_status_known"),
        ),
        sa.CheckConstraint(
            "freight_minor >= 0 AND duty_minor >= 0",
            name=op.f("ck_purchase_orders_landed_not_negative"),
        ),
        sa.ForeignKeyConstraint(
            ["location_id"], ["locations.id"], name=op.f("fk_purchase_orders_location_id_locations")
        ),
        sa.ForeignKeyConstraint(
            ["supplier_id"], ["suppliers.id"], name=op.f("fk_purchase_orders_supplier_id_suppliers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_purchase_orders")),
        sa.UniqueConstraint("number", name=op.f("uq_purchase_orders_number")),
    )
    op.create_index("ix_purchase_orders_status", "purchase_orders", ["status", "id"])
    op.create_index("ix_purchase_orders_supplier_id", "purchase_orders", ["supplier_id"])
    op.create_table(
        "purchase_order_lines",
        sa.Column("id", _ID, nullable=False),
        sa.Column("purchase_order_id", _ID, nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("product_id", _ID, nullable=False),
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("received", sa.Integer(), nullable=False),
        sa.Column("unit_cost_minor", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("quantity >= 1", name=op.f("ck_purchase_order_lines_quantity_positive")),
        sa.CheckConstraint(
            "received >= 0 AND received <= quantity",
            name=op.f("ck_purchase_order_lines_received_within"),
        ),
        sa.CheckConstraint(
            "unit_cost_minor >= 0", name=op.f("ck_purchase_order_lines_cost_not_negative")
        ),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["products.id"],
            name=op.f("fk_purchase_order_lines_product_id_products"),
        ),
        sa.ForeignKeyConstraint(
            ["purchase_order_id"],
            ["purchase_orders.id"],
            name=op.f("fk_purchase_order_lines_purchase_order_id_purchase_orders"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_purchase_order_lines")),
        sa.UniqueConstraint("purchase_order_id", "product_id", name="uq_purchase_order_lines_sku"),
    )
    op.create_index("ix_purchase_order_lines_product_id", "purchase_order_lines", ["product_id"])
    op.create_table(
        "purchase_receipts",
        sa.Column("id", _ID, nullable=False),
        sa.Column("purchase_order_id", _ID, nullable=False),
        sa.Column("received_by", sa.String(length=200), nullable=False),
        sa.Column("reference", sa.String(length=200), nullable=True),
        sa.Column("created_at", _AT, nullable=False),
        sa.ForeignKeyConstraint(
            ["purchase_order_id"],
            ["purchase_orders.id"],
            name=op.f("fk_purchase_receipts_purchase_order_id_purchase_orders"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_purchase_receipts")),
    )
    op.create_index(
        "ix_purchase_receipts_purchase_order_id", "purchase_receipts", ["purchase_order_id"]
    )
    op.create_table(
        "purchase_receipt_lines",
        sa.Column("id", _ID, nullable=False),
        sa.Column("receipt_id", _ID, nullable=False),
        sa.Column("line_id", _ID, nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("landed_unit_cost_micros", sa.BigInteger(), nullable=False),
        sa.CheckConstraint(
            "quantity >= 1", name=op.f("ck_purchase_receipt_lines_quantity_positive")
        ),
        sa.ForeignKeyConstraint(
            ["line_id"],
            ["purchase_order_lines.id"],
            name=op.f("fk_purchase_receipt_lines_line_id_purchase_order_lines"),
        ),
        sa.ForeignKeyConstraint(
            ["receipt_id"],
            ["purchase_receipts.id"],
            name=op.f("fk_purchase_receipt_lines_receipt_id_purchase_receipts"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_purchase_receipt_lines")),
    )
    op.create_index(
        "ix_purchase_receipt_lines_receipt_id", "purchase_receipt_lines", ["receipt_id"]
    )
    with op.batch_alter_table("products", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reorder_point", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("preferred_supplier_id", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("cost_micros", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("cost_currency", sa.String(length=3), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("products", schema=None) as batch_op:
        batch_op.drop_column("cost_currency")
        batch_op.drop_column("cost_micros")
        batch_op.drop_column("preferred_supplier_id")
        batch_op.drop_column("reorder_point")
    op.drop_index("ix_purchase_receipt_lines_receipt_id", table_name="purchase_receipt_lines")
    op.drop_table("purchase_receipt_lines")
    op.drop_index("ix_purchase_receipts_purchase_order_id", table_name="purchase_receipts")
    op.drop_table("purchase_receipts")
    op.drop_index("ix_purchase_order_lines_product_id", table_name="purchase_order_lines")
    op.drop_table("purchase_order_lines")
    op.drop_index("ix_purchase_orders_supplier_id", table_name="purchase_orders")
    op.drop_index("ix_purchase_orders_status", table_name="purchase_orders")
    op.drop_table("purchase_orders")
    op.drop_index("ix_supplier_products_product_id", table_name="supplier_products")
    op.drop_table("supplier_products")
    op.drop_table("suppliers")
