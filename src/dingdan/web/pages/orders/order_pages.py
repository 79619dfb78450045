"""Orders: the list with filters and search, the detail, and each role's actions on it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response

from dingdan.domain.access.roles import Action
from dingdan.domain.orders.rules import BUILTIN_CHANNELS, PaymentMethod
from dingdan.domain.orders.status import FinancialStatus, FulfillmentStatus, Status
from dingdan.domain.shared.errors import DomainError
from dingdan.services.access import audit_log
from dingdan.services.fulfilment import shipments
from dingdan.services.orders import queries
from dingdan.services.payments import transactions
from dingdan.web.pages.after_sales.returns import order_returns
from dingdan.web.pages.shared.core import Form, Page, PageRoute, User, form_text
from dingdan.web.pages.shared.fields import form_amount

router = APIRouter(route_class=PageRoute, include_in_schema=False)
FILTERS = ("status", "financial_status", "fulfillment_status", "channel")


def _filters(request: Request) -> dict[str, Any]:
    allowed = {
        "status": {s.value for s in Status},
        "financial_status": {s.value for s in FinancialStatus},
        "fulfillment_status": {s.value for s in FulfillmentStatus},
        "channel": set(BUILTIN_CHANNELS),
    }
    out: dict[str, Any] = {}
    for name in FILTERS:
        value = request.query_params.get(name)
        if value in allowed[name]:
            out[name] = value
    return out


@router.get("/orders")
def order_list(request: Request, page: User) -> Response:
    filters = _filters(request)
    q = (request.query_params.get("q") or "").strip()[:200]
    cursor = request.query_params.get("cursor") or None
    try:
        result = queries.list_orders(
            request.app.state.db, **filters, q=q or None, limit=50, cursor=cursor
        )
    except DomainError as exc:
        page.flash_error(exc)
        result = queries.list_orders(request.app.state.db, **filters, q=q or None, limit=50)
    base = "/orders?" + urlencode({**filters, **({"q": q} if q else {})})
    block = "results" if request.headers.get("hx-target") == "results" else None
    return page.render(
        "orders/orders.html",
        block=block,
        orders=result,
        filters=filters,
        q=q,
        base=base,
        choices={
            "status": [s.value for s in Status],
            "financial_status": [s.value for s in FinancialStatus],
            "fulfillment_status": [s.value for s in FulfillmentStatus],
            "channel": list(BUILTIN_CHANNELS),
        },
    )


def _ship_locations(order: Mapping[str, Any]) -> list[str]:
    return sorted({a["location"] for a in order["allocations"]})


@router.get("/orders/{number}")
def order_detail(request: Request, number: str, page: User) -> Response:
    db = request.app.state.db
    order = queries.get_order(db, number)
    audit_log.record_view(db, page.actor, "order", number)
    return page.render(
        "orders/order.html",
        o=order,
        events=queries.events(db, number)["items"],
        shipments=queries.shipments_of(db, number)["items"],
        payments=transactions.payments_of(db, number)["items"],
        ship_locations=_ship_locations(order),
        carriers=page.carriers(),
        methods=[m.value for m in PaymentMethod],
        **order_returns(db, number),
        exception_kinds=list(shipments.EXCEPTIONS),
    )


def _act(page: Page, number: str, action: Action, work: Any, done: str) -> Response:
    """Run one action of the order page; a refusal comes back as a message on the page."""
    page.require(action)
    try:
        work()
    except DomainError as exc:
        page.flash_error(exc)
    else:
        page.flash(done)
    return page.redirect(f"/orders/{quote(number, safe='')}")


@router.post("/orders/{number}/payments")
def record_payment(request: Request, number: str, page: User, form: Form) -> Response:
    body = {
        "amount": form_amount(form, "amount") or "",
        "reference": form_text(form, "reference", 200),
        "method": form_text(form, "method", 20),
    }
    return _act(
        page,
        number,
        Action.MANAGE_PAYMENTS,
        lambda: transactions.record_payment(request.app.state.db, page.actor, number, body),
        page.gettext("Payment recorded."),
    )


@router.post("/orders/{number}/refunds")
def record_refund(request: Request, number: str, page: User, form: Form) -> Response:
    body = {
        "amount": form_amount(form, "amount") or "",
        "reason": form_text(form, "reason", 500),
        "reference": form_text(form, "reference", 200),
    }
    return _act(
        page,
        number,
        Action.MANAGE_PAYMENTS,
        lambda: transactions.record_refund(request.app.state.db, page.actor, number, body),
        page.gettext("Refund recorded."),
    )


@router.post("/orders/{number}/cancel")
def cancel(request: Request, number: str, page: User, form: Form) -> Response:
    reason = form_text(form, "reason", 500)
    return _act(
        page,
        number,
        Action.MANAGE_ORDERS,
        lambda: shipments.cancel_order(request.app.state.db, page.actor, number, reason),
        page.gettext("The order is cancelled."),
    )


@router.post("/orders/{number}/notes")
def add_note(request: Request, number: str, page: User, form: Form) -> Response:
    note = form_text(form, "note", 1000)
    return _act(
        page,
        number,
        Action.MANAGE_ORDERS,
        lambda: shipments.add_note(request.app.state.db, page.actor, number, note),
        page.gettext("Note added."),
    )


@router.post("/orders/{number}/shipments")
def ship(request: Request, number: str, page: User, form: Form) -> Response:
    body = {
        "carrier": form_text(form, "carrier", 50),
        "tracking_number": form_text(form, "tracking_number", 60),
        "location": form_text(form, "location", 32),
    }
    return _act(
        page,
        number,
        Action.FULFIL,
        lambda: shipments.create_shipment(request.app.state.db, page.actor, number, body),
        page.gettext("Shipment created."),
    )


@router.post("/shipments/{shipment_id}/delivered")
def delivered(request: Request, shipment_id: str, page: User, form: Form) -> Response:
    number = form_text(form, "order", 40) or ""
    return _act(
        page,
        number,
        Action.FULFIL,
        lambda: shipments.mark_delivered(request.app.state.db, page.actor, shipment_id),
        page.gettext("Marked as delivered."),
    )
