"""Orders: the list with filters and search, the detail, and each role's actions on it."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response

from dingdan.domain.access.personal_data import masked_order, sees_masked
from dingdan.domain.access.roles import Action
from dingdan.domain.orders.rules import BUILTIN_CHANNELS, PaymentMethod
from dingdan.domain.orders.status import FinancialStatus, FulfillmentStatus, Status
from dingdan.domain.shared.errors import DomainError
from dingdan.services.access import audit_log
from dingdan.services.fulfilment import labels, shipments
from dingdan.services.fulfilment.shapes import ShipmentCommand
from dingdan.services.orders import bulk, notes, queries
from dingdan.services.payments import transactions
from dingdan.services.payments.shapes import PaymentCommand, RefundCommand
from dingdan.services.shared.common import Page as ListPage
from dingdan.web import i18n
from dingdan.web.error_status import status_of
from dingdan.web.pages.after_sales.returns import order_returns
from dingdan.web.pages.orders import order_actions, refund_difference
from dingdan.web.pages.shared.core import Form, Page, PageRoute, User, form_text
from dingdan.web.pages.shared.fields import form_amount

router = APIRouter(route_class=PageRoute, include_in_schema=False)
FILTERS = ("status", "financial_status", "fulfillment_status", "channel")


def _placed(request: Request) -> dict[str, Any]:
    """``placed=today``: the orders placed since midnight in Taipei (the dashboard's
    "Orders today" opens this list)."""
    if request.query_params.get("placed") != "today":
        return {}
    midnight = datetime.now(i18n.TIMEZONE).replace(hour=0, minute=0, second=0, microsecond=0)
    return {"created_from": midnight.astimezone(UTC)}


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
    placed = _placed(request)
    # The finance queue: orders that owe money back.
    owes = request.query_params.get("refund_due") == "1"
    kw = {**filters, **placed, "q": q or None, "refund_due": owes or None, "limit": 50}
    try:
        result = queries.list_orders(request.app.state.db, **kw, cursor=cursor)
    except DomainError as exc:
        page.flash_error(exc)
        result = queries.list_orders(request.app.state.db, **kw)
    orders: ListPage[Mapping[str, Any]] = result
    if sees_masked(page.actor.role):
        role = page.actor.role
        orders = ListPage([masked_order(o, role) for o in result.items], result.next_cursor)
    shown = {
        **filters,
        **({"placed": "today"} if placed else {}),
        **({"q": q} if q else {}),
        **({"refund_due": "1"} if owes else {}),
    }
    base = "/orders?" + urlencode(shown)
    block = "results" if request.headers.get("hx-target") == "results" else None
    numbers = [o["number"] for o in orders.items]
    return page.render(
        "orders/orders.html",
        block=block,
        orders=orders,
        filters=filters,
        placed_today=bool(placed),
        q=q,
        refund_due=owes,
        base=base,
        shown=shown,
        tags=bulk.tags_of(request.app.state.db, numbers),
        bulk_max=bulk.MAX_ORDERS,
        methods=[m.value for m in PaymentMethod],
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
    return detail_page(page, number)


def detail_page(
    page: Page, number: str, status: int = 200, reveal: bool = False, **extra: Any
) -> Response:
    """The order page; a refused form comes back in it with ``extra`` (its error beside its
    fields and what was typed). The roles that see emails and phones masked see them so,
    unless they asked to ``reveal`` them (with a reason, in the audit trail)."""
    db = page.request.app.state.db
    order = queries.get_order(db, number)
    audit_log.record_view(db, page.actor, "order", number)
    shown = order if reveal else masked_order(order, page.actor.role)
    shipped = queries.shipments_of(db, number)["items"]
    return page.render(
        "orders/order.html",
        status=status,
        o=shown,
        masked=shown is not order,
        events=queries.events(db, number)["items"],
        shipments=shipped,
        labelled=labels.labelled(db, [s["id"] for s in shipped]),
        payments=transactions.payments_of(db, number)["items"],
        ship_locations=_ship_locations(order),
        carriers=page.carriers(),
        methods=[m.value for m in PaymentMethod],
        **order_returns(db, number),
        exception_kinds=list(shipments.EXCEPTIONS),
        notes=notes.notes_of(db, number),
        can_ship_check=order_actions.can_ship(order),
        **_allocation_panel(db, number),
        **extra,
    )


def _allocation_panel(db: Any, number: str) -> dict[str, Any]:
    from dingdan.web.pages.orders.allocation_moves import allocation_panel

    return allocation_panel(db, number)


@router.post("/orders/{number}/reveal")
def reveal_contact(request: Request, number: str, page: User, form: Form) -> Response:
    """The customer's full email and phone, for this page only, once a reason is given."""
    db = request.app.state.db
    number = queries.get_order(db, number)["number"]  # 404 before anything is recorded
    reason = form_text(form, "reason", 1000)
    try:
        audit_log.reveal(db, page.actor, "order", number, reason)
    except DomainError as exc:
        page.keep("reveal", exc, {"reason": reason or ""})
        return detail_page(page, number, status_of(exc))
    return detail_page(page, number, reveal=True)


def _act(
    page: Page,
    number: str,
    action: Action,
    work: Any,
    done: str,
    form_id: str,
    typed: dict[str, Any] | None = None,
) -> Response:
    """Run one action of the order page (``Page.attempt``): refused for a field of the form
    ``form_id``, the order page again with the message beside it and what was ``typed``."""
    page.require(action)
    return page.attempt(
        work,
        done=done,
        back=f"/orders/{quote(number, safe='')}",
        form_id=form_id,
        typed=typed or {},
        again=lambda status: detail_page(page, number, status),
    )


def _typed(form: dict[str, Any], *names: str) -> dict[str, str]:
    """What was typed into a form's fields, as typed (shown again when it is refused)."""
    return {name: form_text(form, name, 1000) or "" for name in names}


@router.post("/orders/{number}/payments")
def record_payment(request: Request, number: str, page: User, form: Form) -> Response:
    body: PaymentCommand = {
        "amount": form_amount(form, "amount") or "",
        "reference": form_text(form, "reference", 200),
        "method": form_text(form, "method", 20),
    }
    return _act(
        page,
        number,
        Action.RECORD_PAYMENTS,
        lambda: transactions.record_payment(request.app.state.db, page.actor, number, body),
        page.gettext("Payment recorded."),
        "payment",
        _typed(form, "amount", "reference", "method"),
    )


@router.post("/orders/{number}/refunds")
def record_refund(request: Request, number: str, page: User, form: Form) -> Response:
    body: RefundCommand = {
        "amount": form_amount(form, "amount") or "",
        "reason": form_text(form, "reason", 500),
        "reference": form_text(form, "reference", 200),
    }
    return _act(
        page,
        number,
        Action.MANAGE_PAYMENTS,
        lambda: transactions.refund(request.app.state.db, page.actor, number, body),
        page.gettext("Refund recorded."),
        "refund",
        _typed(form, "amount", "reason", "reference"),
    )


@router.post("/orders/{number}/cancel")
def cancel(request: Request, number: str, page: User, form: Form) -> Response:
    reason = form_text(form, "reason", 500)
    done: list[Any] = []
    answer = _act(
        page,
        number,
        Action.MANAGE_ORDERS,
        lambda: done.append(
            shipments.cancel_order(request.app.state.db, page.actor, number, reason)
        ),
        page.gettext("The order is cancelled."),
        "cancel",
        {
            **_typed(form, "reason"),
            "refund_difference": "1" if refund_difference.asked(form) else "",
        },
    )
    if done and refund_difference.asked(form):
        why = page.gettext("Order cancelled: %(reason)s", reason=reason or "")
        refund_difference.refund_after_change(page, number, done[0]["currency"], why)
    return answer


@router.post("/orders/{number}/notes")
def add_note(request: Request, number: str, page: User, form: Form) -> Response:
    note = form_text(form, "note", 1001)
    return _act(
        page,
        number,
        Action.MANAGE_ORDERS,
        lambda: shipments.add_note(request.app.state.db, page.actor, number, note),
        page.gettext("Note added."),
        "note",
        _typed(form, "note"),
    )


def shipment_body(form: dict[str, Any]) -> ShipmentCommand:
    return {
        "carrier": form_text(form, "carrier", 50),
        "tracking_number": form_text(form, "tracking_number", 60),
        "location": form_text(form, "location", 32),
    }


@router.post("/orders/{number}/shipments")
def ship(request: Request, number: str, page: User, form: Form) -> Response:
    body = shipment_body(form)
    return _act(
        page,
        number,
        Action.FULFIL,
        lambda: shipments.create_shipment(request.app.state.db, page.actor, number, body),
        page.gettext("Shipment created."),
        "ship",
        {**body, "tracking_number": form_text(form, "tracking_number", 1000) or ""},
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
        f"delivered-{shipment_id}",
    )
