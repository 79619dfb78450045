"""product_styles, product_variants, product_photos: variants, photos (issue 21, part 9)

Revision ID: 0045
Revises: 0044
Create Date: 2026-12-08 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import dingdan.db.types

revision = "0045"
down_revision = "0044"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_AT = dingdan.db.types.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "product_styles",
        sa.Column("id", _ID, nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("options", sa.JSON(), nullable=False),
        sa.Column("category", sa.String(length=100), nullable=True),
        sa.Column("brand", sa.String(length=100), nullable=True),
        sa.Column("created_at", _AT, nullable=False),
        sa.Column("updated_at", _AT, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_product_styles")),
        sa.UniqueConstraint("code", name=op.f("uq_product_styles_code")),
    )
    op.create_table(
        "product_variants",
        sa.Column("product_id", _ID, nullable=False),
        sa.Column("style_id", _ID, nullable=False),
        sa.Column("option_values", sa.JSON(), nullable=False),
        sa.Column("option_key", sa.String(length=400), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["product_id"], ["products.id"], name=op.f("fk_product_variants_product_id_products")
        ),
        sa.ForeignKeyConstraint(
            ["style_id"],
            ["product_styles.id"],
            name=op.f("fk_product_variants_style_id_product_styles"),
        ),
        sa.PrimaryKeyConstraint("product_id", name=op.f("pk_product_variants")),
        sa.UniqueConstraint("style_id", "option_key", name="uq_product_variants_combination"),
    )
    op.create_index("ix_product_variants_style_id", "product_variants", ["style_id", "position"])
    op.create_table(
        "product_photos",
        sa.Column("id", _ID, nullable=False),
        sa.Column("product_id", _ID, nullable=True),
        sa.Column("style_id", _ID, nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("files", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", _AT, nullable=False),
        sa.CheckConstraint(
            "(product_id IS NULL) <> (style_id IS NULL)",
            name=op.f("ck_product_photos_photo_of_sku_or_style"),
        ),
        sa.ForeignKeyConstraint(
            ["product_id"], ["products.id"], name=op.f("fk_product_photos_product_id_products")
        ),
        sa.ForeignKeyConstraint(
            ["style_id"],
            ["product_styles.id"],
            name=op.f("fk_product_photos_style_id_product_styles"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_product_photos")),
    )
    op.create_index("ix_product_photos_product_id", "product_photos", ["product_id", "position"])
    op.create_index("ix_product_photos_style_id", "product_photos", ["style_id", "position"])
    op.create_index("ix_product_photos_key", "product_photos", ["key"])


def downgrade() -> None:
    op.drop_index("ix_product_photos_key", table_name="product_photos")
    op.drop_index("ix_product_photos_style_id", table_name="product_photos")
    op.drop_index("ix_product_photos_product_id", table_name="product_photos")
    op.drop_table("product_photos")
    op.drop_index("ix_product_variants_style_id", table_name="product_variants")
    op.drop_table("product_variants")
    op.drop_table("product_styles")
