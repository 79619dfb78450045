"""Orders, payments, refunds, shipments, delivery."""

from __future__ import annotations

import functools
from datetime import datetime

from fastapi import APIRouter, Header, Query, Request
from starlette.concurrency import run_in_threadpool

from dingdan.domain.access.personal_data import masked_order, sees_masked
from dingdan.domain.access.roles import Action
from dingdan.services.access import audit_log
from dingdan.services.fulfilment import shipments
from dingdan.services.fulfilment.shapes import ExceptionCommand, ShipmentCommand
from dingdan.services.orders import edits, queries
from dingdan.services.orders.shapes import LineCancel, OrderEdit
from dingdan.services.payments import transactions
from dingdan.services.payments.shapes import (
    PaymentCommand,
    PaymentView,
    PaymentWithOrderView,
    RefundCommand,
)
from dingdan.services.shared.common import Actor, PageView
from dingdan.services.shared.view_types import OrderView, ShipmentView
from dingdan.web.api.orders.capture import answer_of, capture
from dingdan.web.api.orders.schemas import (
    CancelIn,
    ExceptionIn,
    LineCancelIn,
    NoteIn,
    OrderEditIn,
    OrderIn,
    PaymentIn,
    RefundIn,
    ShipmentIn,
)
from dingdan.web.api.orders.view_schemas import (
    Order,
    OrderEvents,
    OrderPage,
    PaymentList,
    PaymentWithOrder,
    Shipment,
    ShipmentList,
)
from dingdan.web.api.shared.commands import command
from dingdan.web.api.shared.deps import can, db_of
from dingdan.web.api.shared.errors import JSONAnswer, responses
from dingdan.web.api.shared.params import limit_query

router = APIRouter(prefix="/api/v1", tags=["orders"])
TRANSITION = ("forbidden", "not_found", "invalid_transition")


@router.post(
    "/orders",
    response_model=Order,
    status_code=201,
    responses={
        **responses("forbidden", "insufficient_stock", "idempotency_conflict", "conflict"),
        200: {
            "model": Order,
            "description": "The earlier order, unchanged: a replay of the same Idempotency-Key "
            "with an equal body, or of the same channel and external_id (a body that differs "
            "is recorded in the order's events as `replay_differs`).",
            "headers": {
                "Idempotent-Replayed": {
                    "description": "Always `true`: this answer replays an earlier request.",
                    "schema": {"type": "string", "enum": ["true"]},
                }
            },
        },
    },
)
async def place_order(
    request: Request,
    body: OrderIn,
    idempotency_key: str | None = Header(None, max_length=200),
    actor: Actor = can(Action.MANAGE_ORDERS),
) -> JSONAnswer:
    order, created = await capture(
        request.app.state, actor, body.model_dump(exclude_unset=True), idempotency_key
    )
    # Rendered here: the view is plain JSON already, and FastAPI neither validates nor encodes
    # a returned Response (the CPU it would cost). ``Order`` documents the body; the schemathesis
    # run and test_openapi_responses check that the two agree.
    return answer_of(order, created)


@router.get("/orders", response_model=OrderPage, responses=responses("forbidden"))
async def list_orders(
    request: Request,
    status: str | None = None,
    financial_status: str | None = None,
    fulfillment_status: str | None = None,
    channel: str | None = Query(None, max_length=32),
    q: str | None = Query(
        None,
        max_length=200,
        description="Case-insensitive substring of the number, email, name or phone; a whole "
        "email address finds the orders of that email only; a phone number as people write "
        "it (0912-345-678, +886 912 345 678) finds the orders of that number.",
    ),
    created_from: datetime | None = None,
    created_to: datetime | None = None,
    refund_due: bool | None = Query(
        None, description="true: only the orders that owe money back (refund_due > 0)"
    ),
    limit: int = limit_query(),
    cursor: str | None = Query(None, max_length=500),
    actor: Actor = can(Action.READ),
) -> JSONAnswer:
    page = await run_in_threadpool(
        lambda: queries.list_orders(
            db_of(request),
            status=status,
            financial_status=financial_status,
            fulfillment_status=fulfillment_status,
            channel=channel,
            q=q,
            created_from=created_from,
            created_to=created_to,
            refund_due=refund_due,
            limit=limit,
            cursor=cursor,
        )
    )
    # Plain JSON already (as in place_order): encoding 50 orders through FastAPI's validation
    # of the response model cost more than the queries.
    answer = page.as_dict()
    if sees_masked(actor.role):
        answer["items"] = [masked_order(o, actor.role) for o in answer["items"]]
    return JSONAnswer(answer)


@router.get("/orders/{number}", response_model=Order, responses=responses("forbidden", "not_found"))
async def get_order(request: Request, number: str, actor: Actor = can(Action.READ)) -> JSONAnswer:
    """The order; the customer's email and phone masked for the roles that see them masked
    (and the address's phone too, but for the warehouse). Each read is in the audit trail
    (``view`` of ``order:<number>``)."""
    db = db_of(request)
    view = await run_in_threadpool(queries.get_order, db, number)
    await run_in_threadpool(audit_log.record_view, db, actor, "order", view["number"])
    return JSONAnswer(masked_order(view, actor.role))


@router.get(
    "/orders/{number}/events",
    response_model=OrderEvents,
    responses=responses("forbidden", "not_found"),
)
async def order_events(
    request: Request, number: str, actor: Actor = can(Action.READ)
) -> JSONAnswer:
    events = await run_in_threadpool(queries.events, db_of(request), number)
    return JSONAnswer(events)


@router.post(
    "/orders/{number}/notes",
    response_model=Order,
    status_code=201,
    responses=responses("forbidden", "not_found"),
)
async def add_note(
    request: Request, number: str, body: NoteIn, actor: Actor = can(Action.MANAGE_ORDERS)
) -> OrderView:
    return await run_in_threadpool(shipments.add_note, db_of(request), actor, number, body.note)


@router.post("/orders/{number}/cancel", response_model=Order, responses=responses(*TRANSITION))
async def cancel_order(
    request: Request, number: str, body: CancelIn, actor: Actor = can(Action.MANAGE_ORDERS)
) -> OrderView:
    return await run_in_threadpool(
        shipments.cancel_order, db_of(request), actor, number, body.reason
    )


@router.post(
    "/orders/{number}/payments",
    response_model=PaymentWithOrder,
    status_code=201,
    responses=responses(*TRANSITION),
)
async def record_payment(
    request: Request, number: str, body: PaymentIn, actor: Actor = can(Action.RECORD_PAYMENTS)
) -> PaymentWithOrderView:
    return await run_in_threadpool(
        transactions.record_payment,
        db_of(request),
        actor,
        number,
        command(PaymentCommand, body, exclude_unset=True),
    )


@router.get(
    "/orders/{number}/payments",
    response_model=PaymentList,
    responses=responses("forbidden", "not_found"),
)
async def list_payments(
    request: Request, number: str, actor: Actor = can(Action.READ)
) -> PageView[PaymentView]:
    return await run_in_threadpool(transactions.payments_of, db_of(request), number)


@router.post(
    "/orders/{number}/refunds",
    response_model=PaymentWithOrder,
    status_code=201,
    responses=responses(*TRANSITION),
)
async def record_refund(
    request: Request, number: str, body: RefundIn, actor: Actor = can(Action.MANAGE_PAYMENTS)
) -> PaymentWithOrderView:
    return await run_in_threadpool(
        transactions.refund,
        db_of(request),
        actor,
        number,
        command(RefundCommand, body, exclude_unset=True),
    )


@router.post(
    "/orders/{number}/shipments",
    response_model=Shipment,
    status_code=201,
    responses=responses(*TRANSITION, "payment_required"),
)
async def create_shipment(
    request: Request, number: str, body: ShipmentIn, actor: Actor = can(Action.FULFIL)
) -> ShipmentView:
    data = command(ShipmentCommand, body, exclude_unset=True)
    return await run_in_threadpool(shipments.create_shipment, db_of(request), actor, number, data)


@router.get(
    "/orders/{number}/shipments",
    response_model=ShipmentList,
    responses=responses("forbidden", "not_found"),
)
async def list_shipments(
    request: Request, number: str, actor: Actor = can(Action.READ)
) -> PageView[ShipmentView]:
    return await run_in_threadpool(queries.shipments_of, db_of(request), number)


@router.post(
    "/shipments/{shipment_id}/delivered", response_model=Shipment, responses=responses(*TRANSITION)
)
async def mark_delivered(
    request: Request, shipment_id: str, actor: Actor = can(Action.FULFIL)
) -> ShipmentView:
    return await run_in_threadpool(shipments.mark_delivered, db_of(request), actor, shipment_id)


@router.post(
    "/shipments/{shipment_id}/exceptions", response_model=Shipment, responses=responses(*TRANSITION)
)
async def record_exception(
    request: Request, shipment_id: str, body: ExceptionIn, actor: Actor = can(Action.FULFIL)
) -> ShipmentView:
    return await run_in_threadpool(
        shipments.record_exception,
        db_of(request),
        actor,
        shipment_id,
        command(ExceptionCommand, body, exclude_unset=True),
    )


@router.patch(
    "/orders/{number}", response_model=Order, responses=responses(*TRANSITION, "insufficient_stock")
)
async def edit_order(
    request: Request, number: str, body: OrderEditIn, actor: Actor = can(Action.MANAGE_ORDERS)
) -> OrderView:
    data = command(OrderEdit, body, exclude_none=True)
    return await run_in_threadpool(
        functools.partial(edits.edit_order, look_up_invoice=True),
        db_of(request),
        actor,
        number,
        data,
    )


@router.post(
    "/orders/{number}/lines/{sku}/cancel", response_model=Order, responses=responses(*TRANSITION)
)
async def cancel_line(
    request: Request,
    number: str,
    sku: str,
    body: LineCancelIn,
    actor: Actor = can(Action.MANAGE_ORDERS),
) -> OrderView:
    return await run_in_threadpool(
        edits.cancel_line,
        db_of(request),
        actor,
        number,
        sku,
        command(LineCancel, body, exclude_none=True),
    )
