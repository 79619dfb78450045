"""Returns, the return policy and store credit."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request
from starlette.concurrency import run_in_threadpool

from dingdan.domain.access.roles import Action
from dingdan.services.after_sales import return_policy, return_queries, return_settlement, returns
from dingdan.services.after_sales.shapes import (
    ExchangeRequest,
    PolicyRequest,
    PolicyView,
    RefundRequest,
    ReturnReceipt,
    ReturnRequest,
    ReturnView,
)
from dingdan.services.payments import store_credit
from dingdan.services.payments.shapes import StoreCreditView
from dingdan.services.shared.common import Actor
from dingdan.web.api.after_sales.schemas import (
    ExchangeIn,
    ReceiveIn,
    RejectIn,
    Return,
    ReturnIn,
    ReturnPage,
    ReturnPolicy,
    ReturnPolicyIn,
    ReturnRefundIn,
    StoreCredit,
)
from dingdan.web.api.shared.commands import command
from dingdan.web.api.shared.deps import can, db_of
from dingdan.web.api.shared.errors import responses
from dingdan.web.api.shared.params import limit_query

router = APIRouter(prefix="/api/v1", tags=["returns"])
STEP = ("forbidden", "not_found", "invalid_transition")


@router.get(
    "/settings/return-policy", response_model=ReturnPolicy, responses=responses("forbidden")
)
async def get_return_policy(request: Request, actor: Actor = can(Action.READ)) -> PolicyView:
    return await run_in_threadpool(return_policy.get_policy, db_of(request))


@router.put(
    "/settings/return-policy", response_model=ReturnPolicy, responses=responses("forbidden")
)
async def put_return_policy(
    request: Request, body: ReturnPolicyIn, actor: Actor = can(Action.MANAGE_SETTINGS)
) -> PolicyView:
    cmd = command(PolicyRequest, body, exclude_none=True)
    return await run_in_threadpool(return_policy.put_policy, db_of(request), actor, cmd)


@router.post(
    "/orders/{number}/returns", response_model=Return, status_code=201, responses=responses(*STEP)
)
async def request_return(
    request: Request, number: str, body: ReturnIn, actor: Actor = can(Action.MANAGE_RETURNS)
) -> ReturnView:
    data = command(ReturnRequest, body, exclude_unset=True)
    return await run_in_threadpool(returns.request_return, db_of(request), actor, number, data)


@router.get("/returns", response_model=ReturnPage, responses=responses("forbidden"))
async def list_returns(
    request: Request,
    status: str | None = Query(None, max_length=20),
    order: str | None = Query(None, max_length=40),
    limit: int = limit_query(),
    cursor: str | None = Query(None, max_length=500),
    actor: Actor = can(Action.READ),
) -> dict[str, Any]:
    page = await run_in_threadpool(
        lambda: return_queries.list_returns(
            db_of(request), status=status, order=order, limit=limit, cursor=cursor
        )
    )
    return page.as_dict()


@router.get(
    "/returns/{return_id}", response_model=Return, responses=responses("forbidden", "not_found")
)
async def get_return(
    request: Request, return_id: str, actor: Actor = can(Action.READ)
) -> ReturnView:
    return await run_in_threadpool(return_queries.get_return, db_of(request), return_id)


@router.post("/returns/{return_id}/approve", response_model=Return, responses=responses(*STEP))
async def approve_return(
    request: Request, return_id: str, actor: Actor = can(Action.MANAGE_RETURNS)
) -> ReturnView:
    return await run_in_threadpool(returns.approve_return, db_of(request), actor, return_id)


@router.post("/returns/{return_id}/reject", response_model=Return, responses=responses(*STEP))
async def reject_return(
    request: Request, return_id: str, body: RejectIn, actor: Actor = can(Action.MANAGE_RETURNS)
) -> ReturnView:
    return await run_in_threadpool(
        returns.reject_return, db_of(request), actor, return_id, body.reason
    )


@router.post("/returns/{return_id}/receive", response_model=Return, responses=responses(*STEP))
async def receive_return(
    request: Request, return_id: str, body: ReceiveIn, actor: Actor = can(Action.RECEIVE_RETURNS)
) -> ReturnView:
    data = command(ReturnReceipt, body)
    return await run_in_threadpool(returns.receive_return, db_of(request), actor, return_id, data)


@router.post("/returns/{return_id}/refund", response_model=Return, responses=responses(*STEP))
async def refund_return(
    request: Request,
    return_id: str,
    body: ReturnRefundIn | None = None,
    actor: Actor = can(Action.MANAGE_PAYMENTS),
) -> ReturnView:
    data: RefundRequest = (
        command(RefundRequest, body, exclude_none=True) if body is not None else {}
    )
    return await run_in_threadpool(
        return_settlement.refund_return, db_of(request), actor, return_id, data
    )


@router.post(
    "/returns/{return_id}/exchange",
    response_model=Return,
    responses=responses(*STEP, "insufficient_stock"),
)
async def exchange_return(
    request: Request, return_id: str, body: ExchangeIn, actor: Actor = can(Action.MANAGE_RETURNS)
) -> ReturnView:
    prefix = request.app.state.settings.order_number_prefix
    data = command(ExchangeRequest, body)
    return await run_in_threadpool(
        return_settlement.exchange_return, db_of(request), actor, return_id, data, prefix
    )


@router.get(
    "/customers/{customer_id}/store-credit",
    response_model=StoreCredit,
    responses=responses("forbidden", "not_found"),
)
async def customer_store_credit(
    request: Request, customer_id: str, actor: Actor = can(Action.READ)
) -> StoreCreditView:
    return await run_in_threadpool(store_credit.store_credit_of, db_of(request), customer_id)
