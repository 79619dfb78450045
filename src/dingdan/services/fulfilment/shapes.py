"""The shapes of the fulfilment context's commands in and views out (carriers, pick lists,
packs, packing slips, labels, store pickups, delivery runs, ECPay's convenience-store
parcels, tracking events), as TypedDicts: plain dicts at run time, checked by mypy where
they are built and read. ``web/api/fulfilment/*schemas.py`` (and ``labels.py``,
``pickup.py``) describe the same views for clients.

The order's shipment view is the orders context's (``services/orders/queries.py:
shipment_view``); fulfilment hands it on as it comes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import NotRequired

from typing_extensions import TypedDict

from dingdan.services.orders.shapes import PickupPlace

# ---- carriers -------------------------------------------------------------------------------


class CarrierView(TypedDict):
    code: str
    name: str
    names: dict[str, str]  # en, zh_Hant, zh_Hans
    tracking_format: str | None
    tracking_url: str | None
    store_pickup: bool
    active: bool
    builtin: bool
    webhook_secret_set: bool
    updated_at: str | None


class CarrierList(TypedDict):
    items: list[CarrierView]
    next_cursor: None


class WebhookSecretView(TypedDict):
    code: str
    secret: str  # shown only in this answer


# ---- pick lists and packing -----------------------------------------------------------------


class PickOrderView(TypedDict):
    order: str
    quantity: int


class PickLineView(TypedDict):
    sku: str
    name: str
    barcode: str | None
    quantity: int
    orders: list[PickOrderView]


class PickListView(TypedDict):
    location: str
    location_name: str
    generated_at: str | None
    orders: list[str]  # order numbers
    lines: list[PickLineView]
    total_quantity: int


class PickedMark(TypedDict):
    """An order's last ``picked`` event at a location."""

    at: str | None
    actor: str


class PackedLineView(TypedDict):
    sku: str
    name: str | None  # None: no product has the SKU any more
    quantity: int


class ExpectedLineView(TypedDict):
    sku: str
    name: str | None
    quantity: int
    barcode: str | None
    scanned: int


class PackDifferenceView(TypedDict):
    kind: str  # missing, extra, wrong_item, unknown
    sku: str | None
    code: str | None  # a scanned code that is no product's
    quantity: int
    message: str


class PackCheckView(TypedDict):
    order: str
    location: str
    ok: bool
    complete: bool
    expected: list[ExpectedLineView]
    scanned: list[PackedLineView]
    differences: list[PackDifferenceView]


class PackRecordView(TypedDict):
    id: str
    order: str
    location: str
    lines: list[PackedLineView]
    actor: str | None
    shipment_id: str | None
    created_at: str | None


class PackRecordList(TypedDict):
    items: list[PackRecordView]
    next_cursor: None


# ---- places, packing slips, labels ----------------------------------------------------------


class PlaceView(PickupPlace):
    """A location of the seller as a slip or a pickup shows it: the tracking page's place
    (orders' ``PickupPlace``) and the location's code."""

    code: str


class SlipLineView(TypedDict):
    sku: str
    name: str
    barcode: str | None
    ordered: int
    to_pack: int


class SlipShipmentView(TypedDict):
    id: str
    carrier: str
    tracking_number: str | None
    shipped_at: str | None


class SlipView(TypedDict):
    shipment: SlipShipmentView | None  # set on the slip of a shipment already made
    notes: Sequence[Mapping[str, object]]  # the orders context's notes (notes_in)
    number: str
    channel: str
    external_id: str | None
    status: str
    ready_to_ship: bool
    ordered_at: str | None
    tracking_token: str
    customer_name: str | None
    ship_to: Mapping[str, object]  # the order's shipping address
    pickup: Mapping[str, object] | None  # the convenience store of a store pickup
    ship_from: PlaceView
    lines: list[SlipLineView]
    units: int


class OrderSlips(TypedDict):
    number: str
    status: str
    ready_to_ship: bool
    location: str | None
    slips: list[SlipView]


class LocationSlips(TypedDict):
    location: str
    location_name: str
    orders: list[str]
    slips: list[SlipView]


class LabelRangeView(TypedDict):
    id: str
    carrier: str
    start: str
    end: str
    check_digit: str
    next: str | None  # None: used up
    used: int
    remaining: int
    created_by: str
    created_at: str | None


class LabelRangeList(TypedDict):
    items: list[LabelRangeView]
    next_cursor: None


class LabelAddressView(TypedDict):
    name: str
    phone: str
    postal_code: str
    region: str
    city: str
    line1: str
    line2: str
    country: str


class LabelView(TypedDict):
    shipment_id: str
    carrier: str
    number: str
    order: str
    location: str
    sender: LabelAddressView
    recipient: LabelAddressView
    cod: bool
    cod_amount: str | None
    currency: str
    pieces: int
    shipped_on: str
    width_mm: int
    height_mm: int


# ---- store pickup ---------------------------------------------------------------------------


class PickupState(TypedDict):
    code: str
    status: str  # ready, handed_over
    location: PlaceView
    ready_at: str | None
    handed_over_at: str | None


class PickupView(PickupState):
    """A hand-over's answer."""

    order: str
    shipment_id: str


class OpenPickup(TypedDict):
    number: str
    name: str
    ready_at: str | None


# ---- own delivery ---------------------------------------------------------------------------


class DriverView(TypedDict):
    id: str
    email: str
    name: str | None


class RecipientView(TypedDict):
    name: str | None
    phone: str | None
    line1: str | None
    line2: str | None
    city: str | None
    region: str | None
    postal_code: str | None
    country: str | None


class StopView(TypedDict):
    id: str
    position: int  # 1 for the first stop on the road
    order: str
    shipment_id: str
    status: str  # pending, delivered, failed
    area: str
    recipient: RecipientView
    payment_method: str
    cod_due: str
    cod_collected: str | None
    fail_reason: str | None
    note: str | None
    photo: bool
    signature: bool
    done_by: str | None
    done_at: str | None


class StopCounts(TypedDict):
    pending: int
    delivered: int
    failed: int


class CashLineView(TypedDict):
    order: str
    expected: str
    collected: str
    difference: str


class CashView(TypedDict):
    expected: str
    collected: str
    handed_in: str | None
    difference: str | None
    recorded_by: str | None
    orders: list[CashLineView]


class RunView(TypedDict):
    id: str
    driver: DriverView
    date: str
    status: str
    currency: str
    note: str | None
    created_by: str
    created_at: str | None
    counts: StopCounts
    stops: list[StopView]
    cash: CashView
    closed_by: str | None
    closed_at: str | None
    close_note: str | None


class RunSummaryView(TypedDict):
    id: str
    driver: DriverView
    date: str
    status: str
    currency: str
    counts: StopCounts


class PlannedOrderView(TypedDict):
    order: str
    shipment_id: str


class PlanAreaView(TypedDict):
    key: str
    label: str
    orders: list[PlannedOrderView]
    suggested_run: str | None


class PlanningView(TypedDict):
    date: str
    areas: list[PlanAreaView]


# ---- ECPay convenience-store pickup ---------------------------------------------------------


class CvsDeliveryView(TypedDict):
    """An order's ``delivery`` when it is collected at a convenience store."""

    type: str  # cvs_pickup
    brand: str
    store_id: str
    store_name: str
    address: NotRequired[str]


class BrowserForm(TypedDict):
    """A form for the browser to post (ECPay's map or label page)."""

    url: str
    fields: dict[str, str]


class ParcelView(TypedDict):
    trade_no: str
    brand: str
    logistics_sub_type: str
    store_id: str
    state: str  # pending, created, refused
    logistics_id: str | None
    payment_no: str | None
    validation_no: str | None
    goods_amount: int
    collection_amount: int
    shipment_id: str | None
    last_code: str | None
    last_message: str | None
    store_closed: bool


class ExchangeView(TypedDict):
    id: str
    direction: str  # out, in
    operation: str
    trade_no: str | None
    url: str
    outcome: str
    http_status: int | None
    code: str | None
    error: str | None
    request_body: str
    response_body: str | None
    at: str | None
    answered_at: str | None


class CvsShipmentView(TypedDict):
    shipment: Mapping[str, object]  # the orders context's shipment view
    parcel: ParcelView


class CvsCustomerView(TypedDict):
    """What the tracking page shows of a store pickup."""

    delivery: CvsDeliveryView | None
    store_closed: bool
    may_choose: bool
    brands: tuple[str, ...]


class CvsStaffView(TypedDict):
    number: str
    status: str
    payment_method: str
    delivery: CvsDeliveryView | None
    store_closed: bool
    on_its_way: bool
    token: str | None
    parcels: list[ParcelView]
    exchanges: list[ExchangeView]
    brands: tuple[str, ...]


# ---- tracking events ------------------------------------------------------------------------


class TrackingEventView(TypedDict):
    id: str
    carrier: str
    tracking_number: str
    shipment_id: str | None  # None: no shipment has this number (unmatched)
    order: str | None
    status: str
    exception: str | None
    occurred_at: str | None
    location: str | None
    description: str | None
    source: str  # webhook, csv, api
    applied: bool
    received_at: str | None


class TrackingEventList(TypedDict):
    items: list[TrackingEventView]
    next_cursor: str | None


# Commands: what a caller hands over. The service checks every field and refuses a bad one
# with its code (a page passes on what a form held, None for a blank field).


class CarrierCommand(TypedDict, total=False):
    code: str | None
    name: str | None
    tracking_format: str | None
    tracking_url: str | None
    store_pickup: bool | None
    active: bool | None


class CarrierChanges(TypedDict, total=False):
    """The fields of a carrier to change (only those present change)."""

    name: str | None
    tracking_format: str | None
    tracking_url: str | None
    store_pickup: bool | None
    active: bool | None


class StockLineIn(TypedDict):
    sku: str
    quantity: int


class ShipmentCommand(TypedDict, total=False):
    carrier: str | None
    tracking_number: str | None
    location: str | None  # left out: the only location holding the order's allocations
    lines: list[StockLineIn] | None  # left out: all that is allocated there


class ExceptionCommand(TypedDict, total=False):
    kind: str | None
    note: str | None


class PackCommand(TypedDict, total=False):
    location: str | None
    scans: list[str]


class LabelRangeCommand(TypedDict, total=False):
    carrier: str
    start: str
    end: str
    check_digit: str | None  # mod7, none; left out: the carrier's


class RunCommand(TypedDict, total=False):
    driver: str | None  # the driver user's email
    date: str | None  # YYYY-MM-DD
    currency: str | None
    note: str | None
    orders: list[str] | None


class StoreCommand(TypedDict, total=False):
    brand: str | None
    store_id: str | None
    store_name: str | None
    address: str | None


class CvsShipmentCommand(TypedDict, total=False):
    location: str | None
    lines: list[StockLineIn] | None
    collect: bool  # a COD order: collect its balance on pickup
