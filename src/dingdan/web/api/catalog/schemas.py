"""Answers of the catalog (products, locations) and stock endpoints; the request bodies of
sales channels and tax rates."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from dingdan.domain.shared.numbers import MAX_INT
from dingdan.web.api.shared.common_schemas import Amount, Cursor, StockLineOut, Timestamp, View
from dingdan.web.api.shared.schemas import Money, MoneyText, Strict


class Product(View):
    id: str
    sku: str
    name: str
    barcode: str | None
    price: Amount
    currency: str
    weight_grams: int | None
    length_mm: int | None
    width_mm: int | None
    height_mm: int | None
    category: str | None
    brand: str | None
    tax_class: str
    active: bool
    allow_backorder: bool
    low_stock_threshold: int
    reorder_point: int | None = Field(description="set by hand; null: computed from demand")
    supplier: str | None = Field(description="the preferred supplier's code")
    cost: Amount | None = Field(description="moving average unit cost, landed")
    cost_currency: str | None
    style: str | None = Field(None, description="the style's code when the SKU is a variant")
    style_name: str | None = None
    options: dict[str, str] | None = Field(
        None, description='the variant\'s option values, e.g. {"尺寸": "M", "顏色": "紅"}'
    )
    created_at: Timestamp
    updated_at: Timestamp


class ProductPage(View):
    items: list[Product]
    next_cursor: Cursor


class Location(View):
    id: str
    code: str
    name: str
    kind: str
    line1: str | None
    line2: str | None
    city: str | None
    region: str | None
    postal_code: str | None
    country: str
    phone: str | None
    priority: int
    active: bool
    regions: list[str] = Field(
        description="ISO 3166-1 or 3166-2 codes of the addresses it serves first; empty: everywhere"
    )
    created_at: Timestamp
    updated_at: Timestamp


class LocationPage(View):
    items: list[Location]
    next_cursor: Cursor


class LocationLevel(View):
    location: str
    on_hand: int
    reserved: int
    available: int = Field(description="on_hand - reserved")


class SkuLevel(LocationLevel):
    sku: str


class Receipt(View):
    location: str
    reference: str | None
    lines: list[StockLineOut]
    levels: list[SkuLevel] = Field(description="each line's level at the location afterwards")


class Adjustment(SkuLevel):
    delta: int
    reason: str
    reason_code: str


class Transfer(View):
    from_location: str
    to_location: str
    reference: str | None
    lines: list[StockLineOut]


class Stock(View):
    """The contract's stock view of one SKU, summed over locations."""

    sku: str
    on_hand: int
    reserved: int
    available: int
    backordered: int = Field(description="ordered and not yet allocated")
    on_order: int = Field(description="on sent and partially received POs, not yet received")
    locations: list[LocationLevel]


class LevelRow(SkuLevel):
    name: str
    low_stock_threshold: int


class LevelPage(View):
    items: list[LevelRow]
    next_cursor: Cursor


class Movement(View):
    id: str
    sku: str
    location: str
    kind: str
    on_hand_delta: int
    reserved_delta: int
    reason: str | None
    reference: str | None
    actor: str | None
    created_at: Timestamp


class MovementPage(View):
    items: list[Movement]
    next_cursor: Cursor


class ChannelIn(Strict):
    code: str = Field(min_length=1, max_length=32, description="lower case, e.g. shopee")
    name: str = Field(min_length=1, max_length=100)
    kind: Literal["manual", "shopify", "woocommerce", "standard"] = "manual"
    webhook_secret: str | None = Field(
        default=None, max_length=200, description="needed by every kind but manual"
    )


class ChannelPatch(Strict):
    name: str | None = Field(default=None, min_length=1, max_length=100)
    active: bool | None = None
    pick_priority: int | None = Field(
        default=None, ge=0, le=99, description="lower is picked first; null: the default"
    )


class TaxRateIn(Strict):
    rate: str = Field(
        max_length=10, description='percent as a decimal string, at most 4 decimals, e.g. "5.0"'
    )
    prices_include_tax: bool


class Channel(View):
    code: str
    name: str
    builtin: bool
    active: bool
    kind: str = "manual"
    pick_priority: int = Field(
        default=10, description="the pick queue's order, lower first (store and pos: 0)"
    )
    created_at: Timestamp | None
    updated_at: Timestamp | None


class ChannelList(View):
    items: list[Channel]
    next_cursor: None = None


class TaxRule(View):
    rate: str = Field(description="percent as a decimal string")
    prices_include_tax: bool


class TaxRate(View):
    country: str
    tax_class: str
    rate: str = Field(description="percent as a decimal string, the one that applies")
    prices_include_tax: bool
    source: str = Field(description="default or override")
    default: TaxRule | None
    updated_at: Timestamp | None


class TaxRateList(View):
    items: list[TaxRate]
    next_cursor: None = None


class ProductIn(Strict):
    sku: str = Field(min_length=1, max_length=64)
    name: str = Field(min_length=1, max_length=300)
    price: str = Money
    currency: str = Field(min_length=3, max_length=3)
    barcode: str | None = Field(default=None, max_length=64)
    weight_grams: int | None = Field(default=None, ge=0, le=MAX_INT)
    length_mm: int | None = Field(default=None, ge=0, le=MAX_INT)
    width_mm: int | None = Field(default=None, ge=0, le=MAX_INT)
    height_mm: int | None = Field(default=None, ge=0, le=MAX_INT)
    category: str | None = Field(default=None, max_length=100)
    brand: str | None = Field(default=None, max_length=100)
    tax_class: str = "standard"
    active: bool = True
    allow_backorder: bool = False
    low_stock_threshold: int = Field(default=0, ge=0, le=MAX_INT)


class ProductPatch(Strict):
    name: str | None = Field(default=None, min_length=1, max_length=300)
    price: MoneyText | None = None
    currency: str | None = Field(default=None, min_length=3, max_length=3)
    barcode: str | None = Field(default=None, max_length=64)
    weight_grams: int | None = Field(default=None, ge=0, le=MAX_INT)
    length_mm: int | None = Field(default=None, ge=0, le=MAX_INT)
    width_mm: int | None = Field(default=None, ge=0, le=MAX_INT)
    height_mm: int | None = Field(default=None, ge=0, le=MAX_INT)
    category: str | None = Field(default=None, max_length=100)
    brand: str | None = Field(default=None, max_length=100)
    tax_class: str | None = None
    active: bool | None = None
    allow_backorder: bool | None = None
    low_stock_threshold: int | None = Field(default=None, ge=0, le=MAX_INT)
    reorder_point: int | None = Field(
        default=None, ge=0, le=MAX_INT, description="units; null: computed from demand"
    )
    supplier: str | None = Field(
        default=None, max_length=32, description="the preferred supplier's code; null: none"
    )


class LocationIn(Strict):
    code: str = Field(min_length=1, max_length=32)
    name: str = Field(min_length=1, max_length=200)
    country: str = Field(min_length=2, max_length=2)
    priority: int = Field(default=0, ge=-MAX_INT, le=MAX_INT)
    kind: str = "warehouse"
    line1: str | None = Field(default=None, max_length=300)
    line2: str | None = Field(default=None, max_length=300)
    city: str | None = Field(default=None, max_length=100)
    region: str | None = Field(default=None, max_length=100)
    postal_code: str | None = Field(default=None, max_length=20)
    phone: str | None = Field(default=None, max_length=20)
    active: bool = True
    regions: list[str] = Field(
        default_factory=list,
        max_length=100,
        description='ISO 3166-1 or 3166-2 codes it serves first ("TW", "HK", "TW-TPE");'
        " empty: everywhere",
    )


class LocationPatch(Strict):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    country: str | None = Field(default=None, min_length=2, max_length=2)
    priority: int | None = Field(default=None, ge=-MAX_INT, le=MAX_INT)
    kind: str | None = None
    line1: str | None = Field(default=None, max_length=300)
    line2: str | None = Field(default=None, max_length=300)
    city: str | None = Field(default=None, max_length=100)
    region: str | None = Field(default=None, max_length=100)
    postal_code: str | None = Field(default=None, max_length=20)
    phone: str | None = Field(default=None, max_length=20)
    active: bool | None = None
    regions: list[str] | None = Field(default=None, max_length=100)
