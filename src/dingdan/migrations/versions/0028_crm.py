"""clv_fits, clv_customers, customer_tags, customer_notes, rating_replies, product_pairs,
crm_job_runs: customers as the seller sees them (issue 24, parts 6 and 7)

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-07 06:38:40

"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import dingdan.db.types

revision = "0028"
down_revision = "0027"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "clv_fits",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("calibration_end", sa.Date(), nullable=False),
        sa.Column("customers", sa.Integer(), nullable=False),
        sa.Column("r", sa.Double(), nullable=False),
        sa.Column("alpha", sa.Double(), nullable=False),
        sa.Column("a", sa.Double(), nullable=False),
        sa.Column("b", sa.Double(), nullable=False),
        sa.Column("log_likelihood", sa.Double(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column("spend_p", sa.Double(), nullable=True),
        sa.Column("spend_q", sa.Double(), nullable=True),
        sa.Column("spend_v", sa.Double(), nullable=True),
        sa.Column("created_at", dingdan.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_clv_fits")),
        sa.UniqueConstraint("calibration_end", name=op.f("uq_clv_fits_calibration_end")),
    )
    op.create_table(
        "crm_job_runs",
        sa.Column("name", sa.String(length=50), nullable=False),
        sa.Column("ran_at", dingdan.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_crm_job_runs")),
    )
    op.create_table(
        "product_pairs",
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("other_sku", sa.String(length=64), nullable=False),
        sa.Column("together", sa.Integer(), nullable=False),
        sa.Column("sku_baskets", sa.Integer(), nullable=False),
        sa.Column("other_baskets", sa.Integer(), nullable=False),
        sa.Column("baskets", sa.Integer(), nullable=False),
        sa.Column("lift", sa.Double(), nullable=False),
        sa.Column("computed_at", dingdan.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("sku", "other_sku", name=op.f("pk_product_pairs")),
    )
    op.create_table(
        "clv_customers",
        sa.Column("fit_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "customer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("x", sa.Integer(), nullable=False),
        sa.Column("t_x", sa.Double(), nullable=False),
        sa.Column("T", sa.Double(), nullable=False),
        sa.Column("expected_purchases", sa.Double(), nullable=False),
        sa.Column("probability_alive", sa.Double(), nullable=False),
        sa.Column("expected_value_minor", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_clv_customers_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["fit_id"],
            ["clv_fits.id"],
            name=op.f("fk_clv_customers_fit_id_clv_fits"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("fit_id", "customer_id", name=op.f("pk_clv_customers")),
    )
    with op.batch_alter_table("clv_customers", schema=None) as batch_op:
        batch_op.create_index(
            "ix_clv_customers_fit_expected", ["fit_id", "expected_purchases"], unique=False
        )

    op.create_table(
        "customer_notes",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "customer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("body", sa.String(length=2000), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("created_at", dingdan.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_customer_notes_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customer_notes")),
    )
    with op.batch_alter_table("customer_notes", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_customer_notes_customer_id"), ["customer_id"], unique=False
        )

    op.create_table(
        "customer_tags",
        sa.Column(
            "customer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("tag", sa.String(length=50), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("created_at", dingdan.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_customer_tags_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("customer_id", "tag", name=op.f("pk_customer_tags")),
    )
    with op.batch_alter_table("customer_tags", schema=None) as batch_op:
        batch_op.create_index("ix_customer_tags_tag", ["tag"], unique=False)

    op.create_table(
        "rating_replies",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "rating_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("body", sa.String(length=2000), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("created_at", dingdan.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["rating_id"],
            ["order_ratings.id"],
            name=op.f("fk_rating_replies_rating_id_order_ratings"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rating_replies")),
    )
    with op.batch_alter_table("rating_replies", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_rating_replies_rating_id"), ["rating_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("rating_replies", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rating_replies_rating_id"))

    op.drop_table("rating_replies")
    with op.batch_alter_table("customer_tags", schema=None) as batch_op:
        batch_op.drop_index("ix_customer_tags_tag")

    op.drop_table("customer_tags")
    with op.batch_alter_table("customer_notes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_customer_notes_customer_id"))

    op.drop_table("customer_notes")
    with op.batch_alter_table("clv_customers", schema=None) as batch_op:
        batch_op.drop_index("ix_clv_customers_fit_expected")

    op.drop_table("clv_customers")
    op.drop_table("product_pairs")
    op.drop_table("crm_job_runs")
    op.drop_table("clv_fits")
