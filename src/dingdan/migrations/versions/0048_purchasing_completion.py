"""promotion_events.expected_uplift, location_reorder_points, message_attachments

Issue 23's remainder: the shop's promotions entered with the uplift the seller expects (or
none), reorder points a location sets for itself, and emails carrying stored documents (a
purchase order's PDF) as attachments.

Revision ID: 0048
Revises: 0047
Create Date: 2026-12-08 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import dingdan.db.types

revision = "0048"
down_revision = "0047"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_AT = dingdan.db.types.UTCDateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("promotion_events") as batch:
        batch.add_column(sa.Column("expected_uplift", sa.Float(), nullable=True))
        batch.add_column(sa.Column("created_by", sa.String(length=200), nullable=True))
        batch.create_check_constraint(
            op.f("ck_promotion_events_promotion_dates_ordered"), "ends_on >= starts_on"
        )
        batch.create_check_constraint(
            op.f("ck_promotion_events_promotion_uplift_range"),
            "expected_uplift IS NULL OR (expected_uplift > 0 AND expected_uplift <= 10)",
        )
    op.create_table(
        "location_reorder_points",
        sa.Column("product_id", _ID, nullable=False),
        sa.Column("location_id", _ID, nullable=False),
        sa.Column("reorder_point", sa.Integer(), nullable=False),
        sa.Column("updated_by", sa.String(length=200), nullable=False),
        sa.Column("updated_at", _AT, nullable=False),
        sa.CheckConstraint(
            "reorder_point >= 0",
            name=op.f("ck_location_reorder_points_location_reorder_point_not_negative"),
        ),
        sa.ForeignKeyConstraint(
            ["location_id"],
            ["locations.id"],
            name=op.f("fk_location_reorder_points_location_id_locations"),
        ),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["products.id"],
            name=op.f("fk_location_reorder_points_product_id_products"),
        ),
        sa.PrimaryKeyConstraint(
            "product_id", "location_id", name=op.f("pk_location_reorder_points")
        ),
    )
    op.create_table(
        "message_attachments",
        sa.Column("id", _ID, nullable=False),
        sa.Column("message_id", _ID, nullable=False),
        sa.Column("document_id", _ID, nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["documents.id"],
            name=op.f("fk_message_attachments_document_id_documents"),
        ),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["messages.id"],
            name=op.f("fk_message_attachments_message_id_messages"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_message_attachments")),
        sa.UniqueConstraint("message_id", "document_id", name="uq_message_attachments_document"),
    )
    op.create_index("ix_message_attachments_document_id", "message_attachments", ["document_id"])


def downgrade() -> None:
    op.drop_index("ix_message_attachments_document_id", table_name="message_attachments")
    op.drop_table("message_attachments")
    op.drop_table("location_reorder_points")
    with op.batch_alter_table("promotion_events") as batch:
        batch.drop_constraint(op.f("ck_promotion_events_promotion_uplift_range"), type_="check")
        batch.drop_constraint(op.f("ck_promotion_events_promotion_dates_ordered"), type_="check")
        batch.drop_column("created_by")
        batch.drop_column("expected_uplift")
