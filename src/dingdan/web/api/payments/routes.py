"""Authorizations (hold, capture, void) and carriers' COD remittances."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from dingdan.domain.access.roles import Action
from dingdan.services.payments import authorizations, transactions
from dingdan.services.shared.common import Actor
from dingdan.web.api.orders.schemas import AuthorizeIn, CaptureIn, RemittanceIn
from dingdan.web.api.orders.view_schemas import Payment, PaymentWithOrder, Remittance
from dingdan.web.api.shared.deps import can, db_of
from dingdan.web.api.shared.errors import responses

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
) -> dict[str, Any]:
    return await run_in_threadpool(
        authorizations.authorize, db_of(request), actor, number, body.model_dump(exclude_none=True)
    )


@router.post(
    "/payments/{payment_id}/capture",
    response_model=PaymentWithOrder,
    status_code=201,
    responses=responses(*TRANSITION),
)
async def capture(
    request: Request, payment_id: str, body: CaptureIn, actor: Actor = can(Action.MANAGE_PAYMENTS)
) -> dict[str, Any]:
    return await run_in_threadpool(
        authorizations.capture,
        db_of(request),
        actor,
        payment_id,
        body.model_dump(exclude_none=True),
    )


@router.post(
    "/payments/{payment_id}/void", response_model=Payment, responses=responses(*TRANSITION)
)
async def void(
    request: Request, payment_id: str, actor: Actor = can(Action.MANAGE_PAYMENTS)
) -> dict[str, Any]:
    return await run_in_threadpool(authorizations.void, db_of(request), actor, payment_id)


@router.post(
    "/cod-remittances", response_model=Remittance, status_code=201, responses=responses("forbidden")
)
async def cod_remittance(
    request: Request, body: RemittanceIn, actor: Actor = can(Action.MANAGE_PAYMENTS)
) -> dict[str, Any]:
    return await run_in_threadpool(
        transactions.record_cod_remittance, db_of(request), actor, body.model_dump()
    )
