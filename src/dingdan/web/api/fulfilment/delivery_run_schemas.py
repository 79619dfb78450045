"""Own delivery: the bodies and answers of the delivery-run endpoints."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from dingdan.web.api.shared.common_schemas import Amount, Cursor, Timestamp, View
from dingdan.web.api.shared.schemas import Money, Strict

OrderNumbers = list[str]


class RunIn(Strict):
    driver: str = Field(min_length=1, max_length=254, description="the driver user's email")
    date: str = Field(min_length=10, max_length=10, description="the day, YYYY-MM-DD")
    currency: str | None = Field(None, min_length=3, max_length=3, description="TWD unless given")
    note: str | None = Field(None, max_length=500)
    orders: list[str] | None = Field(
        None, max_length=200, description="order numbers to put on the run at once"
    )


class OrdersIn(Strict):
    orders: list[str] = Field(min_length=1, max_length=200)


class AreaIn(Strict):
    area: str = Field(min_length=1, max_length=80, description="an area key from the planning")


class FailIn(Strict):
    reason: Literal["not_home", "refused", "wrong_address", "unreachable", "damaged", "other"]
    note: str | None = Field(None, max_length=500, description="required for other")


class CashIn(Strict):
    amount: str = Money


class CloseIn(Strict):
    note: str | None = Field(
        None, max_length=500, description="required when the cash differs from the collected"
    )


class Driver(View):
    id: str
    email: str
    name: str | None


class Recipient(View):
    name: str | None
    phone: str | None
    line1: str | None
    line2: str | None
    city: str | None
    region: str | None
    postal_code: str | None
    country: str | None


class Stop(View):
    id: str
    position: int = Field(description="1 for the first stop on the road")
    order: str
    shipment_id: str
    status: str = Field(description="pending, delivered, failed")
    area: str
    recipient: Recipient
    payment_method: str
    cod_due: Amount = Field(description="what to collect at the door (0 but for COD)")
    cod_collected: Amount | None
    fail_reason: str | None
    note: str | None
    photo: bool
    signature: bool
    done_by: str | None
    done_at: Timestamp | None


class Counts(View):
    pending: int
    delivered: int
    failed: int


class CashLine(View):
    order: str
    expected: Amount
    collected: Amount
    difference: Amount


class Cash(View):
    expected: Amount = Field(description="COD due on the delivered orders")
    collected: Amount = Field(description="what the driver says was collected")
    handed_in: Amount | None
    difference: Amount | None = Field(description="handed in less collected")
    recorded_by: str | None
    orders: list[CashLine]


class Run(View):
    id: str
    driver: Driver
    date: str
    status: str = Field(description="open, closed")
    currency: str
    note: str | None
    created_by: str
    created_at: Timestamp
    counts: Counts
    stops: list[Stop]
    cash: Cash
    closed_by: str | None
    closed_at: Timestamp | None
    close_note: str | None


class RunSummary(View):
    id: str
    driver: Driver
    date: str
    status: str
    currency: str
    counts: Counts


class RunPage(View):
    items: list[RunSummary]
    next_cursor: Cursor


class PlannedOrder(View):
    order: str
    shipment_id: str


class PlanArea(View):
    key: str
    label: str
    orders: list[PlannedOrder]
    suggested_run: str | None


class Planning(View):
    date: str
    areas: list[PlanArea]
