"""Bodies of the pick, pack and carrier endpoints (shape only; services check the rules)."""

from __future__ import annotations

from pydantic import Field

from dingdan.web.api.shared.common_schemas import Timestamp, View
from dingdan.web.api.shared.schemas import Strict

OrderNumber = Field(min_length=1, max_length=40)
Code = Field(min_length=1, max_length=100, description="a SKU or a product barcode")


class PickIn(Strict):
    orders: list[str] = Field(min_length=1, max_length=200, description="order numbers")


class PackIn(Strict):
    location: str | None = Field(
        default=None,
        max_length=32,
        description="may be left out when one location holds the order's unshipped allocations",
    )
    scans: list[str] = Field(
        max_length=5000, description="every scanned unit, a SKU or a product barcode each"
    )


class CarrierIn(Strict):
    code: str = Field(min_length=1, max_length=50, description="lower case, e.g. kerry")
    name: str = Field(min_length=1, max_length=100)
    tracking_format: str | None = Field(
        default=None, max_length=50, description="tcat, s10, ups, fedex, dhl; null: generic"
    )
    tracking_url: str | None = Field(default=None, max_length=300, description="link with {number}")
    store_pickup: bool = False
    active: bool = True


class CarrierPatch(Strict):
    name: str | None = Field(default=None, min_length=1, max_length=100)
    tracking_format: str | None = Field(default=None, max_length=50)
    tracking_url: str | None = Field(default=None, max_length=300)
    store_pickup: bool | None = None
    active: bool | None = None


# Answers ---------------------------------------------------------------------------------


class PickOrder(View):
    order: str
    quantity: int


class PickLine(View):
    sku: str
    name: str
    barcode: str | None
    quantity: int
    orders: list[PickOrder]


class PickList(View):
    location: str
    location_name: str
    generated_at: Timestamp
    orders: list[str] = Field(description="order numbers")
    lines: list[PickLine]
    total_quantity: int


class PackedLine(View):
    sku: str
    name: str
    quantity: int


class PackRecord(View):
    id: str
    order: str
    location: str
    lines: list[PackedLine]
    actor: str | None
    shipment_id: str | None
    created_at: Timestamp


class PackRecordList(View):
    items: list[PackRecord]
    next_cursor: None = None


class ExpectedLine(View):
    sku: str
    name: str
    quantity: int
    barcode: str | None
    scanned: int


class PackDifference(View):
    kind: str = Field(description="missing, extra, wrong_item, unknown_code")
    sku: str | None
    code: str | None = Field(description="a scanned code that is no product's")
    quantity: int
    message: str


class PackCheck(View):
    order: str
    location: str
    ok: bool
    complete: bool
    expected: list[ExpectedLine]
    scanned: list[PackedLine]
    differences: list[PackDifference]


class Carrier(View):
    code: str
    name: str
    names: dict[str, str] = Field(description="the name per language: en, zh_Hant, zh_Hans")
    tracking_format: str | None
    tracking_url: str | None
    store_pickup: bool
    active: bool
    builtin: bool
    webhook_secret_set: bool = Field(
        default=False, description="whether the carrier may send signed tracking webhooks"
    )
    updated_at: Timestamp | None


class CarrierList(View):
    items: list[Carrier]
    next_cursor: None = None
