"""Smaller changes from the order page: cancelling the unshipped units of one line, and
recording a delivery exception on a shipment."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import Response

from dingdan.domain.access.roles import Action
from dingdan.domain.shared.errors import FieldErrors
from dingdan.services.fulfilment import shipments
from dingdan.services.fulfilment.shapes import ExceptionCommand
from dingdan.services.orders import edits
from dingdan.services.orders.shapes import LineCancel
from dingdan.web.pages.orders import refund_difference
from dingdan.web.pages.shared.core import Form, PageRoute, User, form_text
from dingdan.web.pages.shared.fields import form_whole

router = APIRouter(route_class=PageRoute, include_in_schema=False)


@router.post("/orders/{number}/lines/cancel")
def cancel_line(request: Request, number: str, page: User, form: Form) -> Response:
    from dingdan.web.pages.orders.order_pages import detail_page  # it shows this form

    actor = page.require(Action.MANAGE_ORDERS)
    sku = form_text(form, "sku", 100) or ""
    reason = form_text(form, "reason", 600)
    done: list[Any] = []

    def work() -> None:
        errors = FieldErrors()
        quantity = form_whole(form, "quantity", errors, minimum=1, blank=0)
        errors.raise_if_any()
        body: LineCancel = {"reason": reason, "quantity": quantity or None}
        done.append(edits.cancel_line(request.app.state.db, actor, number, sku, body))

    answer = page.attempt(
        work,
        done=page.gettext("The line is cancelled."),
        back=f"/orders/{quote(number, safe='')}",
        form_id="cancel-line",
        typed={k: v for k, v in form.items() if k != "csrf_token"},
        again=lambda status: detail_page(page, number, status),
    )
    if done and refund_difference.asked(form):
        why = page.gettext("%(sku)s cancelled: %(reason)s", sku=sku, reason=reason)
        refund_difference.refund_after_change(page, number, done[0]["currency"], why)
    return answer


@router.post("/shipments/{shipment_id}/exception")
def delivery_exception(request: Request, shipment_id: str, page: User, form: Form) -> Response:
    from dingdan.web.pages.orders.order_pages import detail_page  # it shows this form

    page.require(Action.FULFIL)
    number = form_text(form, "order", 40) or ""
    body: ExceptionCommand = {
        "kind": form_text(form, "kind", 40),
        "note": form_text(form, "note", 1100),
    }
    return page.attempt(
        lambda: shipments.record_exception(request.app.state.db, page.actor, shipment_id, body),
        done=page.gettext("The delivery exception is recorded."),
        back=f"/orders/{quote(number, safe='')}" if number else "/orders",
        form_id=f"exception-{shipment_id}",
        typed={k: v for k, v in form.items() if k != "csrf_token"},
        again=lambda status: detail_page(page, number, status),
    )
