"""Request bodies of the catalog, stock and access endpoints. Strict: no coercion, no
unknown fields; the services check the business rules."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


Money = Field(pattern=r"^\d{1,15}(\.\d{1,4})?$", description='decimal string, e.g. "1299.00"')


class ProductIn(Strict):
    sku: str = Field(min_length=1, max_length=64)
    name: str = Field(min_length=1, max_length=300)
    price: str = Money
    currency: str = Field(min_length=3, max_length=3)
    barcode: str | None = Field(default=None, max_length=64)
    weight_grams: int | None = Field(default=None, ge=0)
    length_mm: int | None = Field(default=None, ge=0)
    width_mm: int | None = Field(default=None, ge=0)
    height_mm: int | None = Field(default=None, ge=0)
    category: str | None = Field(default=None, max_length=100)
    brand: str | None = Field(default=None, max_length=100)
    tax_class: str = "standard"
    active: bool = True
    allow_backorder: bool = False
    low_stock_threshold: int = Field(default=0, ge=0)


class ProductPatch(Strict):
    name: str | None = Field(default=None, min_length=1, max_length=300)
    price: str | None = Money
    currency: str | None = Field(default=None, min_length=3, max_length=3)
    barcode: str | None = Field(default=None, max_length=64)
    weight_grams: int | None = Field(default=None, ge=0)
    length_mm: int | None = Field(default=None, ge=0)
    width_mm: int | None = Field(default=None, ge=0)
    height_mm: int | None = Field(default=None, ge=0)
    category: str | None = Field(default=None, max_length=100)
    brand: str | None = Field(default=None, max_length=100)
    tax_class: str | None = None
    active: bool | None = None
    allow_backorder: bool | None = None
    low_stock_threshold: int | None = Field(default=None, ge=0)


class LocationIn(Strict):
    code: str = Field(min_length=1, max_length=32)
    name: str = Field(min_length=1, max_length=200)
    country: str = Field(min_length=2, max_length=2)
    priority: int = 0
    kind: str = "warehouse"
    line1: str | None = Field(default=None, max_length=300)
    line2: str | None = Field(default=None, max_length=300)
    city: str | None = Field(default=None, max_length=100)
    region: str | None = Field(default=None, max_length=100)
    postal_code: str | None = Field(default=None, max_length=20)
    phone: str | None = Field(default=None, max_length=20)
    active: bool = True


class LocationPatch(Strict):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    country: str | None = Field(default=None, min_length=2, max_length=2)
    priority: int | None = None
    kind: str | None = None
    line1: str | None = Field(default=None, max_length=300)
    line2: str | None = Field(default=None, max_length=300)
    city: str | None = Field(default=None, max_length=100)
    region: str | None = Field(default=None, max_length=100)
    postal_code: str | None = Field(default=None, max_length=20)
    phone: str | None = Field(default=None, max_length=20)
    active: bool | None = None


class StockLine(Strict):
    sku: str = Field(min_length=1, max_length=64)
    quantity: int = Field(ge=1, le=1_000_000_000)


class ReceiptIn(Strict):
    location: str = Field(min_length=1, max_length=32)
    lines: list[StockLine] = Field(min_length=1, max_length=1000)
    reference: str | None = Field(default=None, max_length=200)


class AdjustmentIn(Strict):
    location: str = Field(min_length=1, max_length=32)
    sku: str = Field(min_length=1, max_length=64)
    delta: int = Field(ge=-1_000_000_000, le=1_000_000_000)
    reason: str = Field(min_length=1, max_length=200)
    reference: str | None = Field(default=None, max_length=200)


class TransferIn(Strict):
    from_location: str = Field(min_length=1, max_length=32)
    to_location: str = Field(min_length=1, max_length=32)
    lines: list[StockLine] = Field(min_length=1, max_length=1000)
    reference: str | None = Field(default=None, max_length=200)


class TokenIn(Strict):
    name: str = Field(min_length=1, max_length=100)
    role: str


class UserIn(Strict):
    email: str = Field(min_length=3, max_length=254)
    role: str
    password: str = Field(min_length=1, max_length=500)
    name: str | None = Field(default=None, max_length=200)
