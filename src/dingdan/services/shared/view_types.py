"""The shapes of the most-read service views, as TypedDicts: the order, the product, the
stock of a SKU. Plain dicts at run time (the order read and capture paths build and encode
them without a conversion), checked by mypy where they are built and read. The API's
response models (``web/api/*_schemas.py``) describe the same fields for clients."""

from __future__ import annotations

from typing import Any, TypedDict


class OrderLineView(TypedDict):
    sku: str
    name: str
    quantity: int
    unit_price: str
    tax: str
    allocated: int
    backordered: int
    shipped: int
    returned: int
    cancelled: int


class AllocationView(TypedDict):
    location: str
    sku: str
    quantity: int


class OrderView(TypedDict):
    number: str
    channel: str
    external_id: str | None
    status: str
    financial_status: str
    fulfillment_status: str
    currency: str
    customer: dict[str, Any]
    shipping_address: dict[str, Any]
    payment_method: str
    note: str | None
    locale: str
    lines: list[OrderLineView]
    allocations: list[AllocationView]
    subtotal: str
    shipping_total: str
    tax_total: str
    total: str
    paid: str
    refunded: str
    balance_due: str
    refund_due: str
    prices_include_tax: bool
    cancel_reason: str | None
    tracking_token: str | None
    # Pickup instead of delivery (shared/CONTRACT.md, "Pickup"); None: shipped to the address.
    delivery: dict[str, Any] | None
    risk: dict[str, Any] | None  # {"score", "level", "reasons"}; None: not assessed
    hold: str | None  # e.g. "risk_review": not picked, packed or shipped while set
    created_at: str | None
    updated_at: str | None


class ShippedLine(TypedDict):
    sku: str
    quantity: int


class ShipmentView(TypedDict):
    """A shipment (``services/orders/queries.py:shipment_view``)."""

    id: str
    order: str  # the order's number
    location: str
    carrier: str
    tracking_number: str | None
    status: str
    lines: list[ShippedLine]
    exception: str | None
    created_at: str | None
    delivered_at: str | None


class ProductView(TypedDict):
    id: str
    sku: str
    name: str
    barcode: str | None
    price: str
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
    reorder_point: int | None
    supplier: str | None
    cost: str | None
    cost_currency: str | None
    style: str | None  # the style's code when the SKU is a variant of one
    style_name: str | None
    options: dict[str, str] | None  # {"尺寸": "M", "顏色": "紅"}
    created_at: str | None
    updated_at: str | None


class LocationLevelView(TypedDict):
    location: str
    on_hand: int
    reserved: int
    available: int


class StockView(TypedDict):
    sku: str
    on_hand: int
    reserved: int
    available: int
    backordered: int
    on_order: int
    locations: list[LocationLevelView]


class DocumentView(TypedDict):
    """A rendered (or pending) PDF (``services/shared/documents.py``)."""

    id: str
    status: str
    filename: str
    size_bytes: int | None
    sha256: str | None
    requested_by: str
    created_at: str | None
    rendered_at: str | None


class PdfRequested(TypedDict):
    id: str
    status: str


class PdfState(TypedDict):
    pending: bool
    failed: bool
    ready: DocumentView | None


class StoredFile(TypedDict):
    id: int
    status: str
    filename: str
    storage_path: str | None
    sha256: str | None


class LatestPdf(TypedDict):
    data: bytes
    filename: str
    order_numbers: list[str]


class ProviderKeyView(TypedDict):
    """One field of a provider's keys as the settings page shows it."""

    name: str
    secret: bool
    shown: str
    source: str  # "stored" or "environment"
