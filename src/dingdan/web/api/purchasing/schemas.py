"""Bodies and answers of suppliers, purchase orders, receipts and replenishment."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from dingdan.domain.shared.numbers import MAX_INT
from dingdan.web.api.shared.common_schemas import Amount, Cursor, StockLineOut, Timestamp, View
from dingdan.web.api.shared.schemas import Money, MoneyText, StockLine, Strict

Language = Literal["en", "zh-Hant", "zh-Hans"]
POStatusName = Literal["draft", "sent", "partially_received", "received", "closed", "cancelled"]


class SupplierIn(Strict):
    code: str = Field(min_length=1, max_length=32)
    name: str = Field(min_length=1, max_length=200)
    lead_time_days: int = Field(ge=0, le=3650)
    currency: str = Field(min_length=3, max_length=3)
    email: str | None = Field(default=None, max_length=254)
    phone: str | None = Field(default=None, max_length=30)
    contact: str | None = Field(default=None, max_length=200)
    minimum_order: MoneyText | None = None
    minimum_order_quantity: int = Field(default=0, ge=0, le=MAX_INT)
    pack_size: int = Field(default=1, ge=1, le=MAX_INT)
    payment_terms: str | None = Field(default=None, max_length=100)
    language: Language = "en"
    active: bool = True


class SupplierPatch(Strict):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    lead_time_days: int | None = Field(default=None, ge=0, le=3650)
    currency: str | None = Field(default=None, min_length=3, max_length=3)
    email: str | None = Field(default=None, max_length=254)
    phone: str | None = Field(default=None, max_length=30)
    contact: str | None = Field(default=None, max_length=200)
    minimum_order: MoneyText | None = None
    minimum_order_quantity: int | None = Field(default=None, ge=0, le=MAX_INT)
    pack_size: int | None = Field(default=None, ge=1, le=MAX_INT)
    payment_terms: str | None = Field(default=None, max_length=100)
    language: Language | None = None
    active: bool | None = None


class Supplier(View):
    id: str
    code: str
    name: str
    email: str | None
    phone: str | None
    contact: str | None
    currency: str
    lead_time_days: int
    minimum_order: Amount
    minimum_order_quantity: int
    pack_size: int
    payment_terms: str | None
    language: str
    active: bool
    created_at: Timestamp
    updated_at: Timestamp


class SupplierPage(View):
    items: list[Supplier]
    next_cursor: Cursor


class SupplierProductIn(Strict):
    supplier_sku: str | None = Field(default=None, max_length=64)
    cost: MoneyText | None = None
    preferred: bool | None = None


class SupplierProduct(View):
    sku: str
    name: str
    supplier_sku: str | None
    cost: Amount | None
    preferred: bool


class SupplierProducts(View):
    items: list[SupplierProduct]


class POLineIn(Strict):
    sku: str = Field(min_length=1, max_length=64)
    quantity: int = Field(ge=1, le=1_000_000_000)
    unit_cost: str = Money


class PurchaseOrderIn(Strict):
    supplier: str = Field(min_length=1, max_length=32)
    location: str = Field(min_length=1, max_length=32)
    lines: list[POLineIn] = Field(min_length=1, max_length=1000)
    expected_date: str | None = Field(
        default=None, pattern=r"^\d{4}-\d{2}-\d{2}$", description="YYYY-MM-DD"
    )
    freight: MoneyText | None = None
    duty: MoneyText | None = None
    notes: str | None = Field(default=None, max_length=2000)


class PurchaseOrderPatch(Strict):
    expected_date: str | None = Field(
        default=None, pattern=r"^\d{4}-\d{2}-\d{2}$", description="YYYY-MM-DD"
    )
    freight: MoneyText | None = None
    duty: MoneyText | None = None
    notes: str | None = Field(default=None, max_length=2000)


class POLine(View):
    sku: str
    quantity: int
    received: int
    unit_cost: Amount


class ReceiptSummary(View):
    id: str
    received_by: str
    reference: str | None
    created_at: Timestamp
    lines: list[StockLineOut]


class PurchaseOrder(View):
    id: str
    number: str = Field(examples=["PO-2026-0001"])
    status: POStatusName
    supplier: str
    supplier_name: str
    location: str
    currency: str
    expected_date: str | None
    freight: Amount
    duty: Amount
    notes: str | None
    lines: list[POLine]
    total: Amount
    receipts: list[ReceiptSummary]
    created_by: str
    created_at: Timestamp
    updated_at: Timestamp
    sent_at: Timestamp | None
    closed_at: Timestamp | None


class PurchaseOrderRow(View):
    id: str
    number: str
    status: POStatusName
    supplier: str
    supplier_name: str
    location: str
    currency: str
    expected_date: str | None
    created_at: Timestamp


class PurchaseOrderPage(View):
    items: list[PurchaseOrderRow]
    next_cursor: Cursor


class POReceiptIn(Strict):
    lines: list[StockLine] = Field(min_length=1, max_length=1000)
    reference: str | None = Field(default=None, max_length=200)


class POReceipt(View):
    id: str
    purchase_order: PurchaseOrder
    lines: list[StockLineOut]
    received_by: str
    reference: str | None
    created_at: Timestamp


class Suggestion(View):
    sku: str
    location: str
    available: int
    on_order: int
    reorder_point: int
    suggested_quantity: int
    supplier: str | None
    stockout_date: str | None = Field(description="YYYY-MM-DD; null without demand")


class Suggestions(View):
    items: list[Suggestion]


class DraftsIn(Strict):
    location: str | None = Field(default=None, max_length=32)
    skus: list[str] | None = Field(default=None, max_length=1000)


class Drafts(View):
    items: list[PurchaseOrder]
    skipped: list[str] = Field(description="SKUs suggested but without a preferred supplier")
