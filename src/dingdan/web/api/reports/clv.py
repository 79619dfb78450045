"""Customer value (shared/CONTRACT.md, "Reports": ``clv``): the BG/NBD model fitted on every
customer's purchases up to ``calibration_end``, and one customer's predictions."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from fastapi import APIRouter, Query, Request
from pydantic import Field
from starlette.concurrency import run_in_threadpool

from dingdan.domain.access.personal_data import mask_email, mask_phone, sees_masked
from dingdan.domain.access.roles import Action
from dingdan.services.reports import clv
from dingdan.services.shared.common import Actor
from dingdan.web.api.reports.report_files import FILES, file_answer
from dingdan.web.api.shared.common_schemas import Amount, View
from dingdan.web.api.shared.deps import can, db_of
from dingdan.web.api.shared.errors import responses

router = APIRouter(prefix="/api/v1", tags=["reports"])


class BgNbdParams(View):
    r: float
    alpha: float
    a: float
    b: float


class SpendModel(View):
    """The Gamma-Gamma spend model, fitted on the customers with repeat purchases in
    ``currency`` (the currency most orders are in)."""

    p: float
    q: float
    v: float
    currency: str


class ClvModel(View):
    model: str = Field(description='Always "bg_nbd"', examples=["bg_nbd"])
    calibration_end: str = Field(description="YYYY-MM-DD", examples=["2026-12-06"])
    customers: int = Field(description="Customers with a purchase on or before calibration_end")
    params: BgNbdParams
    log_likelihood: float
    spend_model: SpendModel | None = Field(description="null: no repeat purchases to fit")


class Money(View):
    currency: str
    amount: Amount


class CustomerClv(View):
    customer_id: str
    calibration_end: str
    horizon_weeks: int = Field(examples=[52])
    repeat_purchases: int = Field(description="Distinct purchase days after the first")
    expected_purchases: float = Field(description="Purchases expected in the next 52 weeks")
    probability_alive: float | None = Field(description="null: no purchase by calibration_end")
    expected_value: Money | None = Field(
        description="Expected purchases times the Gamma-Gamma expected spend, not discounted"
    )


class LikelyCustomer(View):
    customer_id: str
    name: str | None
    email: str | None
    phone: str | None
    expected_purchases: float
    probability_alive: float
    expected_value: Amount | None
    currency: str | None


class LikelyCustomers(View):
    items: list[LikelyCustomer]


CLV_HEADER = ("model", "calibration_end", "customers", "r", "alpha", "a", "b", "log_likelihood")


@router.get("/reports/clv", response_model=ClvModel, responses={**responses("forbidden"), **FILES})
async def clv_model(
    request: Request,
    calibration_end: date = Query(
        description="The last day (seller's time zone) of the purchases fitted, YYYY-MM-DD"
    ),
    format: Literal["json", "csv", "xlsx"] = "json",
    actor: Actor = can(Action.READ),
) -> Any:
    """The BG/NBD model (Fader, Hardie and Lee, 2005) fitted on every customer's purchases
    up to ``calibration_end`` (cancelled orders left out, repeat purchases counted in distinct
    days, time in weeks). The first question for a day fits (up to a minute on a large
    shop); the fit is kept and later questions answer from it. ``format=csv|xlsx``: the
    model as one row."""
    body = await run_in_threadpool(clv.report, db_of(request), calibration_end)
    if format == "json":
        return body
    p = body["params"]
    row = [body["model"], body["calibration_end"], body["customers"]]
    row += [repr(p["r"]), repr(p["alpha"]), repr(p["a"]), repr(p["b"])]
    return file_answer("clv", format, CLV_HEADER, [row + [repr(body["log_likelihood"])]])


@router.get(
    "/customers/{customer_id}/clv",
    response_model=CustomerClv,
    responses=responses("forbidden", "not_found"),
)
async def customer_clv(
    request: Request,
    customer_id: str,
    calibration_end: date | None = Query(
        None, description="Default: the newest kept fit, or one to yesterday"
    ),
    actor: Actor = can(Action.READ),
) -> Any:
    """The customer's expected purchases in the 52 weeks after the calibration end, the
    probability that they are still a customer, and the expected value (Gamma-Gamma)."""
    return await run_in_threadpool(clv.for_customer, db_of(request), customer_id, calibration_end)


@router.get(
    "/reports/likely-to-buy", response_model=LikelyCustomers, responses=responses("forbidden")
)
async def likely_to_buy(
    request: Request,
    limit: int = Query(50, ge=1, le=200),
    actor: Actor = can(Action.READ),
) -> Any:
    """Customers of the newest kept fit expected to buy the most in the next 52 weeks: a
    list to contact (empty before the first fit). Warehouse and viewer see contacts masked."""
    items = await run_in_threadpool(clv.likely_to_buy, db_of(request), limit)
    if sees_masked(actor.role):
        for c in items:
            c["email"], c["phone"] = mask_email(c["email"]), mask_phone(c["phone"])
    return {"items": items}
