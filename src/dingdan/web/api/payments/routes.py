"""Authorizations (hold, capture, void), carriers' COD remittances, and payment intents for
staff (those the provider answered and Dingdan could not record)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request
from starlette.concurrency import run_in_threadpool

from dingdan.domain.access.roles import Action
from dingdan.services.payments import authorizations, intent_review, transactions
from dingdan.services.payments.shapes import (
    AuthorizeCommand,
    CaptureCommand,
    CloseIntentCommand,
    IntentView,
    PaymentView,
    PaymentWithOrderView,
    RemittanceCommand,
    RemittanceView,
)
from dingdan.services.shared.common import Actor
from dingdan.web.api.orders.schemas import AuthorizeIn, CaptureIn, RemittanceIn
from dingdan.web.api.orders.view_schemas import Payment, PaymentWithOrder, Remittance
from dingdan.web.api.payments.schemas import CloseIntentIn, PaymentIntent, PaymentIntentPage
from dingdan.web.api.shared.commands import command
from dingdan.web.api.shared.deps import can, db_of
from dingdan.web.api.shared.errors import responses
from dingdan.web.api.shared.params import limit_query

router = APIRouter(prefix="/api/v1", tags=["payments"])
TRANSITION = ("forbidden", "not_found", "invalid_transition", "payment_required")


@router.post(
    "/orders/{number}/authorizations",
    response_model=Payment,
    status_code=201,
    responses=responses(*TRANSITION),
)
async def authorize(
    request: Request, number: str, body: AuthorizeIn, actor: Actor = can(Action.MANAGE_PAYMENTS)
) -> PaymentView:
    cmd = command(AuthorizeCommand, body, exclude_none=True)
    return await run_in_threadpool(authorizations.authorize, db_of(request), actor, number, cmd)


@router.post(
    "/payments/{payment_id}/capture",
    response_model=PaymentWithOrder,
    status_code=201,
    responses=responses(*TRANSITION),
)
async def capture(
    request: Request, payment_id: str, body: CaptureIn, actor: Actor = can(Action.MANAGE_PAYMENTS)
) -> PaymentWithOrderView:
    cmd = command(CaptureCommand, body, exclude_none=True)
    return await run_in_threadpool(authorizations.capture, db_of(request), actor, payment_id, cmd)


@router.post(
    "/payments/{payment_id}/void", response_model=Payment, responses=responses(*TRANSITION)
)
async def void(
    request: Request, payment_id: str, actor: Actor = can(Action.MANAGE_PAYMENTS)
) -> PaymentView:
    return await run_in_threadpool(authorizations.void, db_of(request), actor, payment_id)


@router.post(
    "/cod-remittances", response_model=Remittance, status_code=201, responses=responses("forbidden")
)
async def cod_remittance(
    request: Request, body: RemittanceIn, actor: Actor = can(Action.MANAGE_PAYMENTS)
) -> RemittanceView:
    cmd = command(RemittanceCommand, body)
    return await run_in_threadpool(transactions.record_cod_remittance, db_of(request), actor, cmd)


@router.get("/payment-intents", response_model=PaymentIntentPage, responses=responses("forbidden"))
async def list_payment_intents(
    request: Request,
    status: str | None = Query(
        None, max_length=20, description="pending, succeeded, failed, attention, resolved"
    ),
    limit: int = limit_query(),
    cursor: str | None = Query(None, max_length=500),
    actor: Actor = can(Action.MANAGE_PAYMENTS),
) -> dict[str, Any]:
    page = await run_in_threadpool(
        intent_review.list_intents, db_of(request), status, limit, cursor
    )
    return page.as_dict()


@router.post(
    "/payment-intents/{intent_id}/record",
    response_model=PaymentIntent,
    responses=responses(*TRANSITION, "provider_unavailable"),
)
async def record_payment_intent(
    request: Request, intent_id: str, actor: Actor = can(Action.MANAGE_PAYMENTS)
) -> IntentView:
    return await run_in_threadpool(intent_review.record_again, db_of(request), actor, intent_id)


@router.post(
    "/payment-intents/{intent_id}/close",
    response_model=PaymentIntent,
    responses=responses("forbidden", "not_found", "invalid_transition"),
)
async def close_payment_intent(
    request: Request,
    intent_id: str,
    body: CloseIntentIn,
    actor: Actor = can(Action.MANAGE_PAYMENTS),
) -> IntentView:
    cmd = command(CloseIntentCommand, body)
    return await run_in_threadpool(intent_review.close, db_of(request), actor, intent_id, cmd)
