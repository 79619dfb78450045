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
from dingdan.services.after_sales.shapes import (
    ExchangeRequest,
    ReceiptLineIn,
    RefundRequest,
    ReturnLineIn,
    ReturnReceipt,
    ReturnRequest,
    ReturnView,
)
from dingdan.services.inventory import locations
from dingdan.web.pages.shared.core import Form, Page, PageRoute, User, form_text, line_fields
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
    return _return_page(page, return_id)


def _return_page(page: Page, return_id: str, status: int = 200) -> Response:
    db = page.request.app.state.db
    ret = return_queries.get_return(db, return_id)
    locs = []
    if page.may(Action.RECEIVE_RETURNS) and ret["status"] == ReturnStatus.APPROVED:
        locs = locations.list_locations(db, active=True, limit=200).items
    return page.render(
        "after_sales/return.html",
        status=status,
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


def _step(
    page: Page,
    return_id: str,
    action: Action,
    work: Any,
    done: str,
    form_id: str,
    form: dict[str, Any],
    rename: Any = None,
) -> Response:
    """One step of the return page (``Page.attempt``): refused for a field, the page again
    with the message beside it and what was typed; refused by the return's status, a message
    at the top."""
    page.require(action)
    typed = {k: v for k, v in form.items() if k != "csrf_token"}
    return page.attempt(
        work,
        done=done,
        back=f"/returns/{quote(return_id, safe='')}",
        form_id=form_id,
        typed=typed,
        again=lambda status: _return_page(page, return_id, status),
        rename=rename,
    )


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
        "approve",
        form,
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
        "reject",
        form,
    )


def receipt_lines(form: dict[str, Any], rows: list[Any] | None = None) -> list[ReceiptLineIn]:
    """Per SKU, the resellable and the damaged count become up to two receipt lines (each
    line's form row and field appended to ``rows``)."""
    errors = FieldErrors()
    lines: list[ReceiptLineIn] = []
    for i, sku in enumerate(_list(form, "sku")):
        for cond in ("resellable", "damaged"):
            n = _whole(form, f"{cond}-{i}", f"{cond}-{i}", errors)
            if n:
                lines.append({"sku": sku, "quantity": n, "condition": cond})
                if rows is not None:
                    rows.append((i, cond))
    errors.raise_if_any()
    return lines


@router.post("/returns/{return_id}/receive")
def receive(request: Request, return_id: str, page: User, form: Form) -> Response:
    rows: list[Any] = []

    def work() -> None:
        body: ReturnReceipt = {
            "location": form_text(form, "location", 32),
            "lines": receipt_lines(form, rows),
        }
        returns.receive_return(request.app.state.db, page.actor, return_id, body)

    done = page.gettext("The return is received.")
    rename = line_fields(rows)
    return _step(page, return_id, Action.RECEIVE_RETURNS, work, done, "receive", form, rename)


@router.post("/returns/{return_id}/refund")
def refund(request: Request, return_id: str, page: User, form: Form) -> Response:
    body: RefundRequest = {"to": form_text(form, "to", 20) or RefundTarget.ORIGINAL.value}
    amount, reason = form_amount(form, "amount"), form_text(form, "reason", 600)
    if amount is not None:
        body["amount"] = amount
    if reason is not None:
        body["reason"] = reason
    return _step(
        page,
        return_id,
        Action.MANAGE_PAYMENTS,
        lambda: return_settlement.refund_return(request.app.state.db, page.actor, return_id, body),
        page.gettext("The return is refunded."),
        "refund",
        form,
    )


@router.post("/returns/{return_id}/exchange")
def exchange(request: Request, return_id: str, page: User, form: Form) -> Response:
    prefix = request.app.state.settings.order_number_prefix

    def work() -> None:
        errors = FieldErrors()
        qty = _whole(form, "quantity", "quantity", errors)
        errors.raise_if_any()
        sku = form_text(form, "sku", 100) or ""
        body: ExchangeRequest = {"lines": [{"sku": sku, "quantity": qty}]}
        return_settlement.exchange_return(request.app.state.db, page.actor, return_id, body, prefix)

    done = page.gettext("A replacement order is placed.")
    rename = line_fields([0])  # the form's one line
    return _step(page, return_id, Action.MANAGE_RETURNS, work, done, "exchange", form, rename)


def request_lines(form: dict[str, Any], rows: list[Any] | None = None) -> list[ReturnLineIn]:
    """The order lines given a quantity above 0, each with its reason code (each line's form
    row appended to ``rows``: ``line_fields(rows)`` names the service's errors as the form)."""
    errors = FieldErrors()
    lines: list[ReturnLineIn] = []
    rows = [] if rows is None else rows
    for i, sku in enumerate(_list(form, "sku")):
        n = _whole(form, f"quantity-{i}", f"quantity-{i}", errors)
        if n:
            # No reason is chosen for the customer or the clerk: a default would be the
            # answer of everyone who did not look, and skew the return-reason report.
            reason = form_text(form, f"reason-{i}", 40)
            if reason is None:
                errors.add(f"reason-{i}", "choose_reason")
            lines.append({"sku": sku, "quantity": n, "reason": reason})
            rows.append(i)
    errors.raise_if_any()
    return lines


@router.post("/orders/{number}/returns")
def request_return(request: Request, number: str, page: User, form: Form) -> Response:
    from dingdan.web.pages.orders.order_pages import detail_page  # it shows this form

    page.require(Action.MANAGE_RETURNS)
    db = request.app.state.db
    rows: list[Any] = []

    def work() -> ReturnView:
        body: ReturnRequest = {
            "lines": request_lines(form, rows),
            "note": form_text(form, "note", 1100),
        }
        return returns.request_return(db, page.actor, number, body)

    return page.attempt(
        work,
        done=lambda done: page.gettext("Return %(id)s requested.", id=done["id"]),
        back=f"/orders/{quote(number, safe='')}#return-form",
        then=lambda done: f"/returns/{done['id']}",
        form_id="return",
        typed={k: v for k, v in form.items() if k != "csrf_token"},
        again=lambda status: detail_page(page, number, status),
        rename=line_fields(rows),
    )


def order_returns(db: Any, number: str) -> dict[str, Any]:
    """What the order page shows of returns: the order's returns and the policy's reasons."""
    listed = return_queries.list_returns(db, order=number, limit=100).items
    reasons = return_policy.get_policy(db)["reasons"]
    return {"returns": listed, "reasons": reasons}
