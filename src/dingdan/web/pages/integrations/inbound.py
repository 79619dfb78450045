"""The inbound log in the back office (admin, manager, customer service): every delivery a
channel sent by webhook, the ones that need attention with why, a form mapping a channel's
SKU to a Dingdan SKU, and a retry button."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from dingdan.domain.access.roles import Action
from dingdan.domain.shared.errors import DomainError
from dingdan.services.integrations import inbound
from dingdan.services.integrations.shapes import AddressCommand, InboundDeliveryView
from dingdan.web.pages.shared.core import Form, Page, PageRoute, User, form_text

router = APIRouter(route_class=PageRoute, include_in_schema=False)
BASE = "/inbound"


@router.get(BASE)
def inbound_page(request: Request, page: User) -> Response:
    page.require(Action.MANAGE_ORDERS)
    db = request.app.state.db
    status = request.query_params.get("status") or None
    if status not in inbound.STATUSES:
        status = None
    listed = inbound.list_deliveries(db, status=status, limit=100)
    items: list[dict[str, object]] = []  # each delivery with its reason's code and detail
    for item in listed["items"]:
        code, _, detail = (item["reason"] or "").partition(":")
        items.append({**item, "reason_code": code.strip(), "reason_detail": detail.strip()})
    return page.render(
        "integrations/inbound.html",
        result={**listed, "items": items},
        shown_status=status,
        statuses=inbound.STATUSES,
    )


@router.post(BASE + "/aliases")
def add_alias(request: Request, page: User, form: Form) -> Response:
    actor = page.require(Action.MANAGE_ORDERS)
    try:
        inbound.set_alias(
            request.app.state.db,
            actor,
            form_text(form, "channel", 32) or "",
            form_text(form, "channel_sku", 100),
            form_text(form, "sku", 64),
        )
        page.flash(page.gettext("The SKU alias is saved."))
    except DomainError as exc:
        page.flash_error(exc)
    return page.redirect(BASE + "?status=needs_attention")


@router.post(BASE + "/{delivery_id}/address")
def fix_address(request: Request, delivery_id: int, page: User, form: Form) -> Response:
    """The address typed in place of the delivery's, then the delivery retried."""
    actor = page.require(Action.MANAGE_ORDERS)
    db = request.app.state.db
    address: AddressCommand = {
        "name": form_text(form, "name", 300),
        "line1": form_text(form, "line1", 300),
        "line2": form_text(form, "line2", 300),
        "city": form_text(form, "city", 300),
        "region": form_text(form, "region", 300),
        "postal_code": form_text(form, "postal_code", 300),
        "country": form_text(form, "country", 300),
        "phone": form_text(form, "phone", 300),
    }
    try:
        inbound.set_address(db, actor, delivery_id, address)
        return _retried(page, inbound.retry(db, actor, delivery_id), delivery_id)
    except DomainError as exc:
        page.flash_error(exc)
    return page.redirect(BASE + "?status=needs_attention")


def _retried(page: Page, done: InboundDeliveryView, delivery_id: int) -> Response:
    if done["status"] == "needs_attention":
        page.flash(page.gettext("Delivery %(id)s still needs attention.", id=delivery_id))
    else:
        page.flash(page.gettext("Delivery %(id)s is accepted.", id=delivery_id))
    return page.redirect(BASE + "?status=needs_attention")


@router.post(BASE + "/{delivery_id}/retry")
def retry_delivery(request: Request, delivery_id: int, page: User, form: Form) -> Response:
    actor = page.require(Action.MANAGE_ORDERS)
    try:
        return _retried(page, inbound.retry(request.app.state.db, actor, delivery_id), delivery_id)
    except DomainError as exc:
        page.flash_error(exc)
    return page.redirect(BASE + "?status=needs_attention")
