"""Smaller changes from the order page: cancelling the unshipped units of one line, and
recording a delivery exception on a shipment."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import Response

from dingdan.domain.access.roles import Action
from dingdan.domain.shared.errors import DomainError, FieldErrors
from dingdan.services.fulfilment import shipments
from dingdan.services.orders import edits
from dingdan.web.pages.orders import refund_difference
from dingdan.web.pages.shared.core import Form, PageRoute, User, form_text
from dingdan.web.pages.shared.fields import form_whole

router = APIRouter(route_class=PageRoute, include_in_schema=False)


@router.post("/orders/{number}/lines/cancel")
def cancel_line(request: Request, number: str, page: User, form: Form) -> Response:
    actor = page.require(Action.MANAGE_ORDERS)
    try:
        errors = FieldErrors()
        quantity = form_whole(form, "quantity", errors, minimum=1, blank=0)
        errors.raise_if_any()
        body = {"reason": form_text(form, "reason", 600), "quantity": quantity or None}
        sku = form_text(form, "sku", 100) or ""
        after = edits.cancel_line(request.app.state.db, actor, number, sku, body)
    except DomainError as exc:
        page.flash_error(exc)
    else:
        page.flash(page.gettext("The line is cancelled."))
        if refund_difference.asked(form):
            why = page.gettext("%(sku)s cancelled: %(reason)s", sku=sku, reason=body["reason"])
            refund_difference.refund_after_change(page, number, after["currency"], why)
    return page.redirect(f"/orders/{quote(number, safe='')}")


@router.post("/shipments/{shipment_id}/exception")
def delivery_exception(request: Request, shipment_id: str, page: User, form: Form) -> Response:
    actor = page.require(Action.FULFIL)
    number = form_text(form, "order", 40) or ""
    body = {"kind": form_text(form, "kind", 40), "note": form_text(form, "note", 1100)}
    try:
        shipments.record_exception(request.app.state.db, actor, shipment_id, body)
    except DomainError as exc:
        page.flash_error(exc)
    else:
        page.flash(page.gettext("The delivery exception is recorded."))
    return page.redirect(f"/orders/{quote(number, safe='')}" if number else "/orders")
