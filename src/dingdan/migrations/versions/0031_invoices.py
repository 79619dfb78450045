"""einvoice_tracks, invoice_series, invoices, invoice_lines, allowances, allowance_lines

Revision ID: 0031
Revises: 0030
Create Date: 2026-12-07 06:37:28

Invoices and Taiwan e-invoices (issue 22): db/invoice_tables.py says what each holds.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import dingdan.db.types

revision = "0031"
down_revision = "0030"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "einvoice_tracks",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("prefix", sa.String(length=2), nullable=False),
        sa.Column("start_no", sa.Integer(), nullable=False),
        sa.Column("end_no", sa.Integer(), nullable=False),
        sa.Column("next_no", sa.Integer(), nullable=False),
        sa.Column("low_alerted", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", dingdan.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "start_no <= end_no AND next_no >= start_no AND next_no <= end_no + 1",
            name=op.f("ck_einvoice_tracks_next_within_range"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_einvoice_tracks")),
        sa.UniqueConstraint("period", "prefix", "start_no", name="uq_einvoice_tracks_range"),
    )
    with op.batch_alter_table("einvoice_tracks", schema=None) as batch_op:
        batch_op.create_index(
            "ix_einvoice_tracks_period_prefix", ["period", "prefix", "start_no"], unique=False
        )

    op.create_table(
        "invoice_series",
        sa.Column("key", sa.String(length=40), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_invoice_series")),
    )
    op.create_table(
        "invoices",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("order_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "live_order_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("number", sa.String(length=20), nullable=True),
        sa.Column("einvoice", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("type", sa.String(length=3), nullable=False),
        sa.Column("period", sa.String(length=7), nullable=True),
        sa.Column("random_code", sa.String(length=4), nullable=True),
        sa.Column("carrier_type", sa.String(length=20), nullable=True),
        sa.Column("carrier_id", sa.String(length=64), nullable=True),
        sa.Column("donation_code", sa.String(length=7), nullable=True),
        sa.Column("buyer_ubn", sa.String(length=8), nullable=True),
        sa.Column("buyer_name", sa.String(length=200), nullable=True),
        sa.Column("seller_ubn", sa.String(length=8), nullable=True),
        sa.Column("seller_name", sa.String(length=200), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("total_minor", sa.BigInteger(), nullable=False),
        sa.Column("tax_minor", sa.BigInteger(), nullable=False),
        sa.Column("upload_status", sa.String(length=20), nullable=False),
        sa.Column("upload_error", sa.String(length=1000), nullable=True),
        sa.Column("mig_xml", sa.Text(), nullable=True),
        sa.Column("void_xml", sa.Text(), nullable=True),
        sa.Column("void_reason", sa.String(length=200), nullable=True),
        sa.Column(
            "replaced_by", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("created_at", dingdan.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("issued_at", dingdan.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("voided_at", dingdan.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "total_minor >= 0 AND tax_minor >= 0", name=op.f("ck_invoices_amounts_not_negative")
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_invoices_order_id_orders")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invoices")),
        sa.UniqueConstraint("live_order_id", name=op.f("uq_invoices_live_order_id")),
        sa.UniqueConstraint("number", name=op.f("uq_invoices_number")),
    )
    with op.batch_alter_table("invoices", schema=None) as batch_op:
        batch_op.create_index("ix_invoices_order_id", ["order_id", "id"], unique=False)
        batch_op.create_index("ix_invoices_status_id", ["status", "id"], unique=False)
        batch_op.create_index("ix_invoices_upload_status", ["upload_status", "id"], unique=False)

    op.create_table(
        "allowances",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "invoice_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("number", sa.String(length=20), nullable=False),
        sa.Column("source", sa.String(length=80), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("tax_minor", sa.BigInteger(), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=True),
        sa.Column("upload_status", sa.String(length=20), nullable=False),
        sa.Column("mig_xml", sa.Text(), nullable=True),
        sa.Column("void_xml", sa.Text(), nullable=True),
        sa.Column("issued_at", dingdan.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("voided_at", dingdan.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "amount_minor > 0 AND tax_minor >= 0", name=op.f("ck_allowances_amount_positive")
        ),
        sa.ForeignKeyConstraint(
            ["invoice_id"], ["invoices.id"], name=op.f("fk_allowances_invoice_id_invoices")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_allowances")),
        sa.UniqueConstraint("number", name=op.f("uq_allowances_number")),
        sa.UniqueConstraint("source", name=op.f("uq_allowances_source")),
    )
    with op.batch_alter_table("allowances", schema=None) as batch_op:
        batch_op.create_index("ix_allowances_invoice_id", ["invoice_id", "id"], unique=False)

    op.create_table(
        "invoice_lines",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "invoice_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("description", sa.String(length=500), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("unit_price_minor", sa.BigInteger(), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["invoice_id"],
            ["invoices.id"],
            name=op.f("fk_invoice_lines_invoice_id_invoices"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invoice_lines")),
        sa.UniqueConstraint("invoice_id", "sequence", name="uq_invoice_lines_seq"),
    )
    op.create_table(
        "allowance_lines",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "allowance_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("description", sa.String(length=500), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("unit_price_minor", sa.BigInteger(), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("tax_minor", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["allowance_id"],
            ["allowances.id"],
            name=op.f("fk_allowance_lines_allowance_id_allowances"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_allowance_lines")),
        sa.UniqueConstraint("allowance_id", "sequence", name="uq_allowance_lines_seq"),
    )


def downgrade() -> None:
    op.drop_table("allowance_lines")
    op.drop_table("invoice_lines")
    with op.batch_alter_table("allowances", schema=None) as batch_op:
        batch_op.drop_index("ix_allowances_invoice_id")

    op.drop_table("allowances")
    with op.batch_alter_table("invoices", schema=None) as batch_op:
        batch_op.drop_index("ix_invoices_upload_status")
        batch_op.drop_index("ix_invoices_status_id")
        batch_op.drop_index("ix_invoices_order_id")

    op.drop_table("invoices")
    op.drop_table("invoice_series")
    with op.batch_alter_table("einvoice_tracks", schema=None) as batch_op:
        batch_op.drop_index("ix_einvoice_tracks_period_prefix")

    op.drop_table("einvoice_tracks")
