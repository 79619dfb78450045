"""ECPay's callbacks (綠界): the payment result (``ReturnURL``) and the ATM account or CVS
code given (``PaymentInfoURL``). No bearer token: the CheckMacValue is the authentication.
ECPay reads exactly ``1|OK`` (text/plain) as taken and posts again otherwise; anything we
refuse (a wrong CheckMacValue, a different amount, a replay that differs) is ``0|error``
and changes nothing. Every callback is kept (``payment_exchanges``)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse
from starlette.concurrency import run_in_threadpool

from dingdan.services.payments import ecpay
from dingdan.web.api.shared.deps import db_of

router = APIRouter(tags=["payments"])

_FORM: dict[str, Any] = {
    "requestBody": {
        "required": False,
        "content": {
            "application/x-www-form-urlencoded": {
                "schema": {
                    "type": "object",
                    "additionalProperties": {"type": "string"},
                    "description": "ECPay's fields, with CheckMacValue (SHA256)",
                }
            }
        },
    }
}
_ANSWER: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "`1|OK` when taken (also for the same result again), `0|error` when refused",
        "content": {"text/plain": {"schema": {"type": "string", "enum": ["1|OK", "0|error"]}}},
    }
}


async def _receive(request: Request, operation: str) -> PlainTextResponse:
    body = await request.body()
    db = db_of(request)
    answer = await run_in_threadpool(ecpay.receive, db, operation, body)
    return PlainTextResponse(answer)


@router.post(
    "/hooks/ecpay/result",
    response_class=PlainTextResponse,
    responses=_ANSWER,
    openapi_extra=_FORM,
)
async def ecpay_result(request: Request) -> PlainTextResponse:
    """ECPay's payment result (ReturnURL): RtnCode 1 records the payment on the order."""
    return await _receive(request, "result")


@router.post(
    "/hooks/ecpay/payment-info",
    response_class=PlainTextResponse,
    responses=_ANSWER,
    openapi_extra=_FORM,
)
async def ecpay_payment_info(request: Request) -> PlainTextResponse:
    """ECPay's PaymentInfoURL: the ATM virtual account (RtnCode 2) or CVS payment code
    (RtnCode 10100073) of an attempt, with its deadline."""
    return await _receive(request, "payment_info")
