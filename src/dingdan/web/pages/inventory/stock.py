"""Inventory: levels per location, receive, adjust, transfer, and the ledger of a SKU."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response

from dingdan.domain.access.roles import Action
from dingdan.domain.shared.errors import DomainError, FieldErrors
from dingdan.services.catalog import products
from dingdan.services.inventory import locations, stock_overview
from dingdan.services.inventory import stock as inventory
from dingdan.services.inventory.shapes import AdjustmentCommand, ReceiptCommand, TransferCommand
from dingdan.services.orders import queries
from dingdan.services.purchasing import abc, positions, reorder_points
from dingdan.services.purchasing.shapes import ReorderPointCommand, ReorderPointsView
from dingdan.web.pages.shared.core import Form, Page, PageRoute, User, form_text
from dingdan.web.pages.shared.fields import MAX_INT, MAX_QUANTITY, form_whole

router = APIRouter(route_class=PageRoute, include_in_schema=False)


def form_int(form: dict[str, Any], name: str) -> int:
    """A quantity (or, for ``delta``, a change of stock, which may be negative)."""
    errors = FieldErrors()
    lowest = -MAX_QUANTITY if name == "delta" else 0
    value = form_whole(form, name, errors, minimum=lowest, maximum=MAX_QUANTITY)
    errors.raise_if_any()
    assert value is not None
    return value


@router.get("/inventory")
def levels(
    request: Request,
    page: User,
    location: str | None = None,
    low_stock: str | None = None,
    q: str | None = None,
    cursor: str | None = None,
) -> Response:
    return _levels(page, location, low_stock, q, cursor)


def _levels(
    page: Page,
    location: str | None = None,
    low_stock: str | None = None,
    q: str | None = None,
    cursor: str | None = None,
    status: int = 200,
    **extra: Any,
) -> Response:
    request = page.request
    db = request.app.state.db
    locs = locations.list_locations(db, limit=200).items
    location = location if location in {loc["code"] for loc in locs} else None
    q = (q or "").strip()[:100] or None
    wanted: dict[str, Any] = {"q": q, "location": location, "low_stock": bool(low_stock)}
    try:
        result = stock_overview.stock_by_product(db, **wanted, limit=100, cursor=cursor)
    except DomainError as exc:
        page.flash_error(exc)
        result = stock_overview.stock_by_product(db, **wanted, limit=100)
    query = {k: v for k, v in {"q": q, "location": location, "low_stock": low_stock}.items() if v}
    block = "results" if request.headers.get("hx-target") == "stock-results" else None
    return page.render(
        "inventory/inventory.html",
        status=status,
        block=block,
        result=result,
        locations=locs,
        location=location,
        low_stock=bool(low_stock),
        q=q or "",
        base="/inventory?" + urlencode(query),
        abc_classes=abc.all_classes(db),
        **extra,
    )


def _stock_action(page: Page, work: Any, done: str, form: dict[str, Any], form_id: str) -> Response:
    """Run one stock form (``Page.attempt``): refused for its fields, the page again with
    the message beside the field and what was typed kept; any other refusal at the top."""
    page.require(Action.MANAGE_STOCK)
    back_sku = form_text(form, "back_sku", 64)

    def again(status: int) -> Response:
        return _ledger(page, back_sku, status=status) if back_sku else _levels(page, status=status)

    return page.attempt(
        work,
        done=done,
        back=f"/inventory/{quote(back_sku, safe='')}" if back_sku else "/inventory",
        form_id=form_id,
        typed={k: v for k, v in form.items() if k != "csrf_token"},
        again=again,
        # The service names a line's field ``lines[0].sku``; the form has one line.
        rename=lambda name: re.sub(r"^lines\[0\]\.", "", name),
    )


@router.post("/inventory/receive")
def receive(request: Request, page: User, form: Form) -> Response:
    def work() -> None:
        body: ReceiptCommand = {
            "location": form_text(form, "location", 32),
            "reference": form_text(form, "reference", 200),
            "lines": [{"sku": form_text(form, "sku", 64), "quantity": form_int(form, "quantity")}],
        }
        inventory.receive(request.app.state.db, page.actor, body)

    return _stock_action(page, work, page.gettext("Stock received."), form, "receive")


@router.post("/inventory/adjust")
def adjust(request: Request, page: User, form: Form) -> Response:
    def work() -> None:
        body: AdjustmentCommand = {
            "location": form_text(form, "location", 32),
            "sku": form_text(form, "sku", 64),
            "delta": form_int(form, "delta"),
            "reason": form_text(form, "reason", 200),
        }
        inventory.adjust(request.app.state.db, page.actor, body)

    return _stock_action(page, work, page.gettext("Stock adjusted."), form, "adjust")


@router.post("/inventory/transfer")
def transfer(request: Request, page: User, form: Form) -> Response:
    def work() -> None:
        body: TransferCommand = {
            "from_location": form_text(form, "from_location", 32),
            "to_location": form_text(form, "to_location", 32),
            "reference": form_text(form, "reference", 200),
            "lines": [{"sku": form_text(form, "sku", 64), "quantity": form_int(form, "quantity")}],
        }
        inventory.transfer(request.app.state.db, page.actor, body)

    return _stock_action(page, work, page.gettext("Stock transferred."), form, "transfer")


@router.get("/inventory/{sku}")
def ledger(
    request: Request,
    sku: str,
    page: User,
    location: str | None = None,
    cursor: str | None = None,
) -> Response:
    return _ledger(page, sku, location, cursor)


def _ledger(
    page: Page,
    sku: str,
    location: str | None = None,
    cursor: str | None = None,
    status: int = 200,
    **extra: Any,
) -> Response:
    db = page.request.app.state.db
    stock = inventory.stock_of(db, sku)
    product = products.get_product(db, sku)
    try:
        moves = inventory.movements(db, sku, location=location, limit=50, cursor=cursor)
    except DomainError as exc:
        page.flash_error(exc)
        moves = inventory.movements(db, sku, location=location, limit=50)
    locs = locations.list_locations(db, limit=200).items
    base = f"/inventory/{quote(sku, safe='')}?" + urlencode({"location": location or ""})
    return page.render(
        "inventory/ledger.html",
        status=status,
        stock=stock,
        product=product,
        moves=moves,
        location=location,
        locations=locs,
        base=base,
        order_refs=queries.existing_numbers(db, [m["reference"] for m in moves.items]),
        points=positions.of_sku(db, sku) if product["active"] else [],
        **extra,
    )


@router.post("/inventory/{sku}/reorder-points")
def set_reorder_point(request: Request, sku: str, page: User, form: Form) -> Response:
    """A location's own reorder point for the SKU (issue 23), or none (the "clear" button,
    or a blank field): the product's point applies there again."""
    actor = page.require(Action.MANAGE_PURCHASING)
    location = form_text(form, "location", 32) or ""

    def work() -> ReorderPointsView:
        errors = FieldErrors()
        point = None
        if not form_text(form, "clear", 1):
            point = form_whole(form, "reorder_point", errors, maximum=MAX_INT)
        errors.raise_if_any()
        body: ReorderPointCommand = {"reorder_point": point}
        return reorder_points.put(request.app.state.db, actor, sku, location, body)

    return page.attempt(
        work,
        done=page.gettext(
            "Reorder point of %(sku)s at %(location)s saved.", sku=sku, location=location
        ),
        back=f"/inventory/{quote(sku, safe='')}#reorder-points",
        form_id=f"reorder-point-{location}",
        typed={"reorder_point": form_text(form, "reorder_point", 60) or ""},
        again=lambda status: _ledger(page, sku, status=status),
    )
