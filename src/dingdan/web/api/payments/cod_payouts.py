"""ECPay's COD payout reports (超商取貨付款 撥款) imported and matched to orders as COD
payments, and the rows that paid nothing (differences)."""

from __future__ import annotations

from fastapi import APIRouter, File, Form, Request, UploadFile
from pydantic import Field
from starlette.concurrency import run_in_threadpool

from dingdan.domain.access.roles import Action
from dingdan.services.payments import cod_settlement, shapes
from dingdan.services.shared.common import Actor
from dingdan.services.shared.uploads import max_upload_bytes
from dingdan.web.api.shared.common_schemas import Timestamp, View
from dingdan.web.api.shared.deps import can, db_of
from dingdan.web.api.shared.errors import responses

router = APIRouter(tags=["payments"])
API = "/api/v1"


class PayoutLine(View):
    row: int
    order: str | None
    trade_no: str | None
    amount: str
    outcome: str


class PayoutReport(View):
    reference: str
    matched: int
    differences: int
    lines: list[PayoutLine]


class PayoutDifference(View):
    report: str
    row: int
    order: str | None
    trade_no: str | None
    logistics_id: str | None
    amount: str
    expected: str | None
    payout_date: str | None
    outcome: str = Field(
        description="amount_differs, unknown_parcel, not_cod, not_collected, already_settled, "
        "over_balance"
    )
    at: Timestamp


class PayoutDifferences(View):
    items: list[PayoutDifference]
    next_cursor: str | None


@router.post(
    API + "/cod-payouts",
    response_model=PayoutReport,
    status_code=201,
    responses=responses("forbidden", "conflict"),
)
async def import_payouts(
    request: Request,
    file: UploadFile = File(..., description="ECPay's COD payout report, CSV (UTF-8)"),
    reference: str | None = Form(default=None, max_length=200),
    actor: Actor = can(Action.MANAGE_PAYMENTS),
) -> shapes.PayoutReportView:
    """ECPay's COD payout report (超商取貨付款 撥款): each row matched to its parcel and
    paid to its order as a COD payment when the amount is the one collected; every other row
    is listed as a difference. Columns: 廠商交易編號/MerchantTradeNo or
    物流交易編號/AllPayLogisticsID, 代收金額/CollectionAmount, optional 撥款日期/PayoutDate.
    A report (``reference``, default the file's name) is imported once (409 again)."""
    data = await file.read(max_upload_bytes() + 1)
    return await run_in_threadpool(
        cod_settlement.import_report, db_of(request), actor, file.filename, data, reference
    )


@router.get(
    API + "/cod-payouts/differences",
    response_model=PayoutDifferences,
    responses=responses("forbidden"),
)
async def payout_differences(
    request: Request, actor: Actor = can(Action.MANAGE_PAYMENTS)
) -> shapes.PayoutDifferences:
    """Rows of the imported COD payout reports that paid nothing, newest first."""
    return await run_in_threadpool(cod_settlement.differences, db_of(request))
