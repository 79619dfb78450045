"""Returns: the queue by status, one return with each role's step (approve, reject, receive,
refund, exchange), and the request form of the order page."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import Response

from dingdan.domain.access.roles import Action
from dingdan.domain.after_sales.returns import RefundTarget, ReturnStatus
from dingdan.domain.shared.errors import DomainError, FieldErrors
from dingdan.services.after_sales import (
    customer_returns,
    return_policy,
    return_queries,
    return_settlement,
    returns,
)
from dingdan.services.inventory import locations
from dingdan.web.pages.shared.core import Form, Page, PageRoute, User, form_text
from dingdan.web.pages.shared.fields import form_amount, form_whole

router = APIRouter(route_class=PageRoute, include_in_schema=False)
STATUSES = [s.value for s in ReturnStatus]
MAX_LINES = 200


@router.get("/returns")
def return_list(request: Request, page: User, status: str | None = None) -> Response:
    status = status if status in STATUSES else None
    cursor = request.query_params.get("cursor") or None
    db = request.app.state.db
    try:
        result = return_queries.list_returns(db, status=status, limit=50, cursor=cursor)
    except DomainError as exc:
        page.flash_error(exc)
        result = return_queries.list_returns(db, status=status, limit=50)
    base = "/returns" + (f"?status={status}" if status else "")
    return page.render(
        "after_sales/returns.html", returns=result, chosen=status, statuses=STATUSES, base=base
    )


@router.get("/returns/{return_id}")
def return_detail(request: Request, return_id: str, page: User) -> Response:
    db = request.app.state.db
    ret = return_queries.get_return(db, return_id)
    locs = []
    if page.may(Action.RECEIVE_RETURNS) and ret["status"] == ReturnStatus.APPROVED:
        locs = locations.list_locations(db, active=True, limit=200).items
    return page.render(
        "after_sales/return.html",
        r=ret,
        locations=locs,
        targets=[t.value for t in RefundTarget],
        photos=customer_returns.photos_of(db, ret["id"]),
    )


@router.get("/returns/{return_id}/photos/{photo_id}")
def return_photo(request: Request, return_id: str, photo_id: str, page: User) -> Response:
    """A photo the customer attached, full size, to signed-in staff only (the return page
    shows it as a thumbnail); its type was checked by its first bytes when it was stored."""
    page.require(Action.READ)
    data, kind, name = customer_returns.photo_file(request.app.state.db, return_id, photo_id)
    ascii_name = "".join(c for c in name if c.isascii() and (c.isalnum() or c in "._-"))
    disposition = f'inline; filename="{ascii_name or "photo"}"; ' + (
        f"filename*=UTF-8''{quote(name, safe='')}"
    )
    headers = {"Content-Disposition": disposition, "Cache-Control": "private, no-store"}
    return Response(content=data, media_type=kind, headers=headers)


def _step(page: Page, return_id: str, action: Action, work: Any, done: str) -> Response:
    """One step of the return page; a refusal comes back as a message on the page."""
    page.require(action)
    try:
        work()
    except DomainError as exc:
        page.flash_error(exc)
    else:
        page.flash(done)
    return page.redirect(f"/returns/{quote(return_id, safe='')}")


def _whole(form: dict[str, Any], name: str, field: str, errors: FieldErrors) -> int:
    """A quantity field: blank is 0; anything but a whole number from 0 is refused."""
    return form_whole(form, name, errors, field=field, blank=0) or 0


def _list(form: dict[str, Any], name: str) -> list[str]:
    value = form.get(name) or []
    values = value if isinstance(value, list) else [value]
    return [v.strip()[:100] for v in values if isinstance(v, str)][:MAX_LINES]


@router.post("/returns/{return_id}/approve")
def approve(request: Request, return_id: str, page: User, form: Form) -> Response:
    return _step(
        page,
        return_id,
        Action.MANAGE_RETURNS,
        lambda: returns.approve_return(request.app.state.db, page.actor, return_id),
        page.gettext("The return is approved."),
    )


@router.post("/returns/{return_id}/reject")
def reject(request: Request, return_id: str, page: User, form: Form) -> Response:
    reason = form_text(form, "reason", 600)
    return _step(
        page,
        return_id,
        Action.MANAGE_RETURNS,
        lambda: returns.reject_return(request.app.state.db, page.actor, return_id, reason),
        page.gettext("The return is rejected."),
    )


def receipt_lines(form: dict[str, Any]) -> list[dict[str, Any]]:
    """Per SKU, the resellable and the damaged count become up to two receipt lines."""
    errors = FieldErrors()
    lines: list[dict[str, Any]] = []
    for i, sku in enumerate(_list(form, "sku")):
        for cond in ("resellable", "damaged"):
            n = _whole(form, f"{cond}-{i}", f"lines[{i}].quantity", errors)
            if n:
                lines.append({"sku": sku, "quantity": n, "condition": cond})
    errors.raise_if_any()
    return lines


@router.post("/returns/{return_id}/receive")
def receive(request: Request, return_id: str, page: User, form: Form) -> Response:
    def work() -> None:
        body = {"location": form_text(form, "location", 32), "lines": receipt_lines(form)}
        returns.receive_return(request.app.state.db, page.actor, return_id, body)

    return _step(
        page, return_id, Action.RECEIVE_RETURNS, work, page.gettext("The return is received.")
    )


@router.post("/returns/{return_id}/refund")
def refund(request: Request, return_id: str, page: User, form: Form) -> Response:
    body = {
        "amount": form_amount(form, "amount"),
        "to": form_text(form, "to", 20) or RefundTarget.ORIGINAL.value,
        "reason": form_text(form, "reason", 600),
    }
    body = {k: v for k, v in body.items() if v is not None}
    return _step(
        page,
        return_id,
        Action.MANAGE_PAYMENTS,
        lambda: return_settlement.refund_return(request.app.state.db, page.actor, return_id, body),
        page.gettext("The return is refunded."),
    )


@router.post("/returns/{return_id}/exchange")
def exchange(request: Request, return_id: str, page: User, form: Form) -> Response:
    prefix = request.app.state.settings.order_number_prefix

    def work() -> None:
        errors = FieldErrors()
        qty = _whole(form, "quantity", "lines[0].quantity", errors)
        errors.raise_if_any()
        body = {"lines": [{"sku": form_text(form, "sku", 100) or "", "quantity": qty}]}
        return_settlement.exchange_return(request.app.state.db, page.actor, return_id, body, prefix)

    return _step(
        page, return_id, Action.MANAGE_RETURNS, work, page.gettext("A replacement order is placed.")
    )


def request_lines(form: dict[str, Any]) -> list[dict[str, Any]]:
    """The order lines given a quantity above 0, each with its reason code."""
    errors = FieldErrors()
    lines: list[dict[str, Any]] = []
    for i, sku in enumerate(_list(form, "sku")):
        n = _whole(form, f"quantity-{i}", f"lines[{len(lines)}].quantity", errors)
        if n:
            # No reason is chosen for the customer or the clerk: a default would be the
            # answer of everyone who did not look, and skew the return-reason report.
            reason = form_text(form, f"reason-{i}", 40)
            if reason is None:
                errors.add(f"lines[{len(lines)}].reason", "choose_reason")
            lines.append({"sku": sku, "quantity": n, "reason": reason})
    errors.raise_if_any()
    return lines


@router.post("/orders/{number}/returns")
def request_return(request: Request, number: str, page: User, form: Form) -> Response:
    page.require(Action.MANAGE_RETURNS)
    db = request.app.state.db
    try:
        body = {"lines": request_lines(form), "note": form_text(form, "note", 1100)}
        done = returns.request_return(db, page.actor, number, body)
    except DomainError as exc:
        page.flash_error(exc)
        return page.redirect(f"/orders/{quote(number, safe='')}#return-form")
    page.flash(page.gettext("Return %(id)s requested.", id=done["id"]))
    return page.redirect(f"/returns/{done['id']}")


def order_returns(db: Any, number: str) -> dict[str, Any]:
    """What the order page shows of returns: the order's returns and the policy's reasons."""
    listed = return_queries.list_returns(db, order=number, limit=100).items
    reasons = return_policy.get_policy(db)["reasons"]
    return {"returns": listed, "reasons": reasons}
