"""The catalogue as channels and staff know it (issue 21, part 9).

A *style* (``product_styles``) is a product as a shop lists it, with up to three option
names (尺寸, 顏色); its *variants* are ordinary SKU rows of ``products`` joined by
``product_variants`` with their option values. Every flow that works on SKUs (stock,
orders, picking, reports by SKU) is unchanged: a SKU without a variant row is a simple
product. ``product_photos`` are uploaded pictures of a SKU or of a style, resized to a few
sizes and stored under the upload directory.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from dingdan.db.tables import Base, BigId, Timestamps
from dingdan.db.types import utcnow


class ProductStyle(Timestamps, Base):
    __tablename__ = "product_styles"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(300))
    # The option names in order, e.g. ["尺寸", "顏色"] (1 to 3).
    options: Mapped[list[str]] = mapped_column(JSON)
    # Copied onto every variant's SKU row when set (reports group SKUs by them).
    category: Mapped[str | None] = mapped_column(String(100))
    brand: Mapped[str | None] = mapped_column(String(100))


class ProductVariant(Base):
    __tablename__ = "product_variants"

    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), primary_key=True)
    style_id: Mapped[int] = mapped_column(ForeignKey("product_styles.id"))
    # The values in the style's option order, e.g. ["M", "紅"].
    option_values: Mapped[list[str]] = mapped_column(JSON)
    # The values joined with U+001F: one variant per combination, held by the index.
    option_key: Mapped[str] = mapped_column(String(400))
    position: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (
        UniqueConstraint("style_id", "option_key", name="uq_product_variants_combination"),
        Index("ix_product_variants_style_id", "style_id", "position"),
    )


class ProductPhoto(Base):
    __tablename__ = "product_photos"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    # A SKU's own photo, or a style's (shown for its variants without one).
    product_id: Mapped[int | None] = mapped_column(ForeignKey("products.id"))
    style_id: Mapped[int | None] = mapped_column(ForeignKey("product_styles.id"))
    position: Mapped[int] = mapped_column(Integer, default=0)
    # SHA-256 of the uploaded bytes: the photo's address (/product-photos/<key>/<size>).
    key: Mapped[str] = mapped_column(String(64))
    # size name -> {"path", "sha256", "width", "height"} of the stored JPEG.
    files: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        CheckConstraint("(product_id IS NULL) <> (style_id IS NULL)", name="photo_of_sku_or_style"),
        Index("ix_product_photos_product_id", "product_id", "position"),
        Index("ix_product_photos_style_id", "style_id", "position"),
        Index("ix_product_photos_key", "key"),
    )


__all__ = ["ProductPhoto", "ProductStyle", "ProductVariant"]
