"""The shapes of the purchasing context's commands in and views out (suppliers, purchase
orders and their receipts, replenishment, planning settings, reorder points, cycle counts,
forecasts, the ABC report, stock-outs), as TypedDicts: plain dicts at run time, checked by
mypy where they are built and read. A command's field may be ``None`` where a page passes
on a blank form field: the service checks every field and refuses a bad one with its code.
The API's response models (``web/api/purchasing/``, ``web/api/reports/abc.py``) describe the
same views for clients. Views with a ``class`` field use the functional form."""

from __future__ import annotations

from datetime import date
from fractions import Fraction

from typing_extensions import TypedDict

from dingdan.services.inventory.shapes import StockLineIn, StockLineOut

# ---- suppliers -------------------------------------------------------------------------------


class SupplierView(TypedDict):
    id: str
    code: str
    name: str
    email: str | None
    phone: str | None
    contact: str | None
    currency: str
    lead_time_days: int
    minimum_order: str
    minimum_order_quantity: int
    pack_size: int
    payment_terms: str | None
    language: str
    active: bool
    created_at: str | None
    updated_at: str | None


class SupplierProductView(TypedDict):
    sku: str
    name: str
    supplier_sku: str | None
    cost: str | None
    preferred: bool


class SupplierProducts(TypedDict):
    items: list[SupplierProductView]


# ---- purchase orders -------------------------------------------------------------------------


class POLineView(TypedDict):
    sku: str
    quantity: int
    received: int
    unit_cost: str


class ReceiptSummaryView(TypedDict):
    id: str
    received_by: str
    reference: str | None
    created_at: str | None
    lines: list[StockLineOut]


class PurchaseOrderView(TypedDict):
    id: str
    number: str
    status: str
    supplier: str
    supplier_name: str
    location: str
    currency: str
    expected_date: str | None  # YYYY-MM-DD
    freight: str
    duty: str
    notes: str | None
    lines: list[POLineView]
    total: str
    receipts: list[ReceiptSummaryView]
    created_by: str
    created_at: str | None
    updated_at: str | None
    sent_at: str | None
    closed_at: str | None


class PurchaseOrderRow(TypedDict):
    """A purchase order in the list."""

    id: str
    number: str
    status: str
    supplier: str
    supplier_name: str
    location: str
    currency: str
    expected_date: str | None
    created_at: str | None


class POReceiptView(TypedDict):
    id: str
    purchase_order: PurchaseOrderView
    lines: list[StockLineOut]
    received_by: str
    reference: str | None
    created_at: str | None


class CheckedPOLine(TypedDict):
    """A line of a draft PO to write, already checked (``insert_purchase_order``)."""

    product_id: int
    sku: str
    quantity: int
    unit_cost_minor: int


# ---- replenishment ---------------------------------------------------------------------------


class SuggestionView(TypedDict):
    sku: str
    location: str
    available: int
    on_order: int
    reorder_point: int
    suggested_quantity: int
    supplier: str | None
    stockout_date: str | None  # YYYY-MM-DD; None without demand


class Ranked(TypedDict):
    """What ``replenishment.soonest_first`` orders by (a suggestion, the dashboard's low
    stock)."""

    sku: str
    location: str
    available: int
    stockout_date: str | None


class Suggestions(TypedDict):
    items: list[SuggestionView]


class DraftsView(TypedDict):
    items: list[PurchaseOrderView]
    skipped: list[str]  # SKUs suggested but without a preferred supplier


class StockoutView(TypedDict):
    """A SKU at a location with a forecast: when it runs out (``planning.stockouts``)."""

    sku: str
    name: str
    location: str
    available: int
    on_order: int
    stockout_date: str | None
    days_left: int | None
    lead_time_days: int
    before_delivery: bool


class PositionView(TypedDict):
    """A SKU's reorder point at one location, as the stock page shows it."""

    location: str
    available: int
    on_order: int
    computed_point: int | None
    location_point: int | None
    point: int | None
    source: str | None
    low: bool
    stockout_date: str | None


# ---- planning settings and reorder points ----------------------------------------------------


class PromotionView(TypedDict):
    id: str
    name: str
    starts_on: str
    ends_on: str
    expected_uplift: float | None
    created_by: str | None
    created_at: str | None


class PromotionColumns(TypedDict):
    """A promotion once checked (``planning_settings.check_promotion``)."""

    name: str
    starts_on: date
    ends_on: date
    expected_uplift: float | None


class Promotions(TypedDict):
    items: list[PromotionView]


class AbcLimits(TypedDict):
    """The ABC/XYZ thresholds as the report reads them (``abc.thresholds``)."""

    a: Fraction
    b: Fraction
    x: float
    y: float


class LocationPointView(TypedDict):
    location: str
    reorder_point: int


class ReorderPointsView(TypedDict):
    sku: str
    reorder_point: int | None  # the product's own
    locations: list[LocationPointView]


# ---- cycle counts ----------------------------------------------------------------------------

CycleCountLineView = TypedDict(
    "CycleCountLineView",
    {
        "sku": str,
        "name": str,
        "barcode": str | None,
        "class": str,  # ABC class when the sheet was made
        "xyz": str | None,
        "last_counted_at": str | None,
        "counted": int | None,
        "on_hand_at_count": int | None,
        "difference": int | None,
        "counted_by": str | None,
        "counted_at": str | None,
        "posted_delta": int | None,
    },
)


class CycleCountView(TypedDict):
    id: str
    location: str
    status: str
    created_by: str
    created_at: str | None
    posted_by: str | None
    posted_at: str | None
    lines: list[CycleCountLineView]


class CycleCountItem(TypedDict):
    """A count in the list: how many lines, how many counted."""

    id: str
    location: str
    status: str
    created_by: str
    created_at: str | None
    posted_at: str | None
    lines: int
    counted: int


CountedLine = TypedDict(
    "CountedLine",
    {
        "sku": str,
        "class": str,
        "counted": int | None,
        "on_hand_at_count": int | None,
        "difference": int | None,
    },
)


class CycleCountSummary(TypedDict):
    """What the audit trail keeps of a count."""

    location: str
    status: str
    lines: list[CountedLine]


# ---- forecasts and the ABC report ------------------------------------------------------------


class BacktestView(TypedDict):
    mase: float | None
    naive_mase: float | None


class ForecastDay(TypedDict):
    date: str  # YYYY-MM-DD
    quantity: str  # two decimals


class ForecastView(TypedDict):
    sku: str
    model: str
    history_days: int
    backtest: BacktestView
    daily: list[ForecastDay]
    demand_class: str
    computed_at: str | None


class ScheduledRun(TypedDict):
    """What the worker's forecast job ran."""

    kind: str  # full or changed
    slot: str
    series: int


AbcItem = TypedDict(
    "AbcItem",
    {
        "sku": str,
        "revenue": str,
        "share": float,
        "cumulative_share": float,
        "class": str,  # A, B or C
        "xyz": str,  # X, Y or Z
        "cv": float | None,
    },
)


class AbcReport(TypedDict):
    currency: str | None
    items: list[AbcItem]


AbcClasses = TypedDict("AbcClasses", {"class": str, "xyz": str})


# ---- commands --------------------------------------------------------------------------------


class SupplierPatch(TypedDict, total=False):
    """The fields of a supplier to change (only those present change)."""

    name: str | None
    lead_time_days: int | None
    currency: str | None
    email: str | None
    phone: str | None
    contact: str | None
    minimum_order: str | None  # decimal text in the supplier's currency
    minimum_order_quantity: int | None
    pack_size: int | None
    payment_terms: str | None
    language: str | None  # en, zh-Hant, zh-Hans
    active: bool | None


class SupplierCommand(SupplierPatch, total=False):
    """A supplier to create (``code``, ``name``, ``lead_time_days`` and ``currency``
    required)."""

    code: str | None


class SupplierProductCommand(TypedDict, total=False):
    supplier_sku: str | None
    cost: str | None  # decimal text; None: unknown
    preferred: bool | None


class POLineIn(TypedDict):
    sku: str
    quantity: int | None
    unit_cost: str


class PurchaseOrderPatch(TypedDict, total=False):
    expected_date: str | None  # YYYY-MM-DD
    freight: str | None
    duty: str | None
    notes: str | None


class PurchaseOrderCommand(PurchaseOrderPatch, total=False):
    supplier: str | None  # its code
    location: str | None  # its code
    lines: list[POLineIn]


class ReceiveCommand(TypedDict, total=False):
    lines: list[StockLineIn]
    reference: str | None


class DraftsCommand(TypedDict, total=False):
    location: str | None
    skus: list[str] | None


class PromotionCommand(TypedDict):
    name: str
    starts_on: str  # YYYY-MM-DD
    ends_on: str  # YYYY-MM-DD, included
    expected_uplift: float | str | None  # a number, or the decimal text a form sends


class ThresholdsCommand(TypedDict):
    """A number, or the decimal text a form sends (None: blank)."""

    a: float | str | None
    b: float | str | None
    x: float | str | None
    y: float | str | None


class ReorderPointCommand(TypedDict):
    reorder_point: int | None  # None: the product's point applies there again


class CycleCountCommand(TypedDict, total=False):
    location: str | None
    skus: list[str] | None  # left out: the SKUs due


class CountLineCommand(TypedDict, total=False):
    sku: str | None  # or its barcode
    counted: int | None
