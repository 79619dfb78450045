"""The shapes of the reports context's views (sales, top-N, heatmap, KPIs, carriers,
stock-outs, return rates, customer value, RFM, products bought together, the dashboard, the
orders at risk, the customer page) and of its commands, as TypedDicts: plain dicts at run
time (the reports build them as before, no conversion on their paths), checked by mypy
where they are built and read. The API's response models (``web/api/reports/``) describe
the same views for clients. A report over days leads with its range (``from``, ``to``,
``currency``): those use the functional form."""

from __future__ import annotations

from datetime import date

from typing_extensions import TypedDict

# ---- the range every rollup report leads with ------------------------------------------------

RangeView = TypedDict("RangeView", {"from": date, "to": date, "currency": str | None})


class Totals(TypedDict):
    orders: int
    units: int
    revenue: str
    average_order_value: str | None


class SalesItem(Totals):
    key: str
    label: str


class SalesView(RangeView):
    group_by: str
    items: list[SalesItem]
    total: Totals
    previous: Totals  # the period of as many days just before
    next_cursor: str | None


class HeatmapCell(TypedDict):
    weekday: int  # 1 Monday
    hour: int
    orders: int
    units: int
    revenue: str


class HeatmapView(RangeView):
    cells: list[HeatmapCell]


class TopItem(TypedDict):
    key: str
    label: str
    value: str | int  # a decimal string for revenue, else a count


class TopView(RangeView):
    dimension: str
    metric: str
    items: list[TopItem]


class StockoutRow(TypedDict):
    sku: str
    name: str
    stockout_days: int
    backordered_units: int
    backordered_revenue: str
    lost_units: int
    lost_revenue: str


class StockoutsView(RangeView):
    items: list[StockoutRow]


class Figures(TypedDict):
    """The KPIs of one range; rates from 0 to 1, None when nothing to divide by."""

    orders: int
    revenue: str
    average_order_value: str | None
    cancel_rate: float | None
    return_rate: float | None
    fill_rate: float | None
    backorder_rate: float | None
    on_time_ship_rate: float | None
    median_hours_to_ship: int | None
    p90_hours_to_ship: int | None
    perfect_order_rate: float | None
    inventory_turnover: float | None
    days_of_supply: float | None
    csat: float | None
    average_rating: float | None
    ratings: int


class KpisView(RangeView, Figures):
    ship_limit_hours: int
    previous: Figures


# ---- carriers --------------------------------------------------------------------------------


class TransitView(TypedDict):
    days: int
    shipments: int


class CarrierRow(TypedDict):
    carrier: str
    shipments: int
    units: int
    delivered: int
    median_transit_days: int | None
    p90_transit_days: int | None
    transit_days: list[TransitView]
    on_time_rate: float | None
    exception_rate: float | None
    loss_rate: float | None
    return_rate: float | None


class CarriersView(RangeView):
    items: list[CarrierRow]


class PromiseView(TypedDict):
    carrier: str
    region: str  # "" for everywhere else
    days: int


class PromisesView(TypedDict):
    default_days: int
    items: list[PromiseView]


# Every report the API also answers as a file (services/reports/report_files.py).
ReportView = SalesView | TopView | HeatmapView | KpisView | CarriersView | StockoutsView


# ---- return rates ----------------------------------------------------------------------------


class RateRow(TypedDict):
    key: str  # the reason code, SKU or carrier code ("" if unknown)
    returned: int
    shipped: int
    rate: str | None  # percent, one decimal


ReturnRatesView = TypedDict(
    "ReturnRatesView",
    {
        "from": str | None,
        "to": str | None,
        "shipped": int,
        "returned": int,
        "rate": str | None,
        "by_reason": list[RateRow],
        "by_sku": list[RateRow],
        "by_carrier": list[RateRow],
    },
)


# ---- customers: value, RFM, products bought together -----------------------------------------


class BgNbdParams(TypedDict):
    r: float
    alpha: float
    a: float
    b: float


class SpendModel(TypedDict):
    p: float
    q: float
    v: float
    currency: str


class ClvModelView(TypedDict):
    model: str  # always "bg_nbd"
    calibration_end: str  # YYYY-MM-DD
    customers: int
    params: BgNbdParams
    log_likelihood: float
    spend_model: SpendModel | None


class MoneyView(TypedDict):
    currency: str
    amount: str


class CustomerClvView(TypedDict):
    customer_id: str
    calibration_end: str
    horizon_weeks: int
    repeat_purchases: int
    expected_purchases: float
    probability_alive: float | None
    expected_value: MoneyView | None


class ClvRow(TypedDict):
    """One customer's predictions of a fit, as kept (``clv_customers``)."""

    customer_id: int
    x: int
    t_x: float
    T: float
    expected_purchases: float
    probability_alive: float
    expected_value_minor: int | None


class LikelyCustomer(TypedDict):
    customer_id: str
    name: str | None
    email: str | None
    phone: str | None
    expected_purchases: float
    probability_alive: float
    expected_value: str | None
    currency: str | None


class RfmCustomer(TypedDict):
    customer_id: str
    name: str | None
    email: str | None
    phone: str | None
    orders: int
    last_order_at: str | None
    recency_days: int
    monetary: MoneyView | None
    r: int
    f: int
    m: int
    segment: str


class ScoredCustomer(RfmCustomer):
    """A customer as scored, with what the sorts read (not answered by the API)."""

    monetary_minor: int


class BoughtWithView(TypedDict):
    sku: str
    name: str | None
    because_of: str  # the SKU asked about that leads to this one
    together: int
    support: float
    confidence: float
    lift: float


class CrmRun(TypedDict, total=False):
    """The worker's daily customer jobs (``recommendations.run_if_due``), each when it ran."""

    product_pairs: int  # pairs kept
    clv: str  # the customer-value fit's calibration end (ISO date)


# ---- the dashboard and the orders at risk ----------------------------------------------------


class StageLimit(TypedDict):
    hours: int | float
    owner: str  # a role


class AmountView(TypedDict):
    currency: str
    amount: str


class TodayView(TypedDict):
    orders: int
    sales: list[AmountView]
    received: list[AmountView]


class LateOrder(TypedDict):
    number: str
    stage: str
    since: str | None
    hours: float
    owner: str


class BackorderedSku(TypedDict):
    sku: str
    name: str
    units: int
    orders: int


class ReturnsWaiting(TypedDict):
    requested: int
    approved: int


class LowStockItem(TypedDict):
    sku: str
    name: str
    location: str
    available: int
    on_order: int
    level: int | None
    source: str | None
    stockout_date: str | None


class DashboardView(TypedDict):
    today: TodayView
    counts: dict[str, int]  # open orders per stage
    late: list[LateOrder]
    late_total: int
    backorders: list[BackorderedSku]
    returns: ReturnsWaiting
    low_stock: list[LowStockItem]
    low_stock_total: int
    limits: dict[str, StageLimit]


class StageOrder(TypedDict):
    number: str
    since: str | None
    hours: float
    late: bool


class StageOrdersView(TypedDict):
    stage: str
    total: int
    limit: StageLimit
    items: list[StageOrder]


class PaceView(TypedDict):
    median_hours: float | None
    per_hour: float | None


class AtRiskOrder(TypedDict):
    number: str
    stage: str
    since: str | None
    due: str | None
    expected: str | None
    ahead: int
    owner: str


class AtRiskView(TypedDict):
    paces: dict[str, PaceView]
    items: list[AtRiskOrder]


# ---- the customer page -----------------------------------------------------------------------


class NoteView(TypedDict):
    id: str
    text: str
    actor: str
    created_at: str | None


class ReplyView(TypedDict):
    text: str
    actor: str
    created_at: str | None


class RatingView(TypedDict):
    id: str
    rating: int
    comment: str | None
    created_at: str | None
    number: str
    customer_id: str
    customer_name: str | None
    replies: list[ReplyView]


class RatingSummary(TypedDict):
    count: int
    average: float | None
    by_rating: list[int]  # how many of 1 to 5


class CustomerReturnRow(TypedDict):
    id: str
    number: str
    status: str
    refund: str | None
    currency: str
    created_at: str | None


class CustomerDisputeRow(TypedDict):
    id: str
    number: str
    type: str
    status: str
    summary: str | None
    created_at: str | None


class CustomerMessageRow(TypedDict):
    number: str | None
    kind: str
    channel: str
    subject: str | None
    status: str
    created_at: str | None
    sent_at: str | None


class CustomerPageExtras(TypedDict):
    returns: list[CustomerReturnRow]
    disputes: list[CustomerDisputeRow]
    messages: list[CustomerMessageRow]
    ratings: list[RatingView]
    tags: list[str]
    notes: list[NoteView]


# ---- commands --------------------------------------------------------------------------------


class PromiseCommand(TypedDict, total=False):
    carrier: str | None
    region: str | None  # "" or left out: everywhere else
    days: int | None  # None: remove the setting
