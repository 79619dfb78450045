"""Purchase orders: the list, a new PO, a PO's page (send, cancel, close, its PDF, freight
and duty), and receiving against it with a scanner (a USB barcode scanner types the code
and Enter, as on the pack screen; quantities may also be typed)."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response

from dingdan.domain.access.roles import Action
from dingdan.domain.shared.errors import DomainError, FieldErrors
from dingdan.services.catalog import products
from dingdan.services.inventory import locations
from dingdan.services.purchasing import purchase_orders, receiving, suppliers
from dingdan.services.purchasing.shapes import (
    POLineIn,
    PurchaseOrderCommand,
    PurchaseOrderPatch,
    PurchaseOrderView,
    ReceiveCommand,
)
from dingdan.services.shared import documents
from dingdan.web.pages.shared.core import Form, Page, PageRoute, User, form_text, line_fields
from dingdan.web.pages.shared.fields import form_whole

router = APIRouter(route_class=PageRoute, include_in_schema=False)
NEW_ROWS = 8  # blank lines on the new-PO form
STATUSES = ("draft", "sent", "partially_received", "received", "closed", "cancelled")


def _url(po: PurchaseOrderView, tail: str = "") -> str:
    return f"/purchase-orders/{quote(po['id'], safe='')}{tail}"


@router.get("/purchase-orders")
def po_list(
    request: Request,
    page: User,
    status: str | None = None,
    supplier: str | None = None,
    cursor: str | None = None,
) -> Response:
    db = request.app.state.db
    status = status if status in STATUSES else None
    supplier = (supplier or "").strip()[:32] or None
    try:
        result = purchase_orders.list_purchase_orders(
            db, status=status, supplier=supplier, limit=100, cursor=cursor
        )
    except DomainError as exc:
        page.flash_error(exc)
        result = purchase_orders.list_purchase_orders(db, status=status, limit=100)
    query = {k: v for k, v in {"status": status, "supplier": supplier}.items() if v}
    return page.render(
        "purchasing/orders.html",
        result=result,
        chosen_status=status,
        supplier=supplier,
        statuses=STATUSES,
        base="/purchase-orders?" + urlencode(query),
    )


# ---- a new PO ------------------------------------------------------------------------------


def _new_lines(form: dict[str, Any]) -> tuple[list[POLineIn], list[int]]:
    errors = FieldErrors()
    lines: list[POLineIn] = []
    rows: list[int] = []
    for i in range(NEW_ROWS):
        sku = form_text(form, f"sku-{i}", 64)
        if not sku:
            continue
        quantity = form_whole(form, f"quantity-{i}", errors, minimum=1)
        cost = form_text(form, f"unit_cost-{i}", 30) or "0"
        lines.append({"sku": sku, "quantity": quantity, "unit_cost": cost})
        rows.append(i)
    errors.raise_if_any()
    return lines, rows


def _new_page(page: Page, status: int = 200, supplier: str | None = None) -> Response:
    db = page.request.app.state.db
    return page.render(
        "purchasing/order_new.html",
        status=status,
        suppliers=suppliers.list_suppliers(db, active=True, limit=200).items,
        locations=locations.list_locations(db, active=True, limit=200).items,
        rows=range(NEW_ROWS),
        chosen=supplier,
    )


@router.get("/purchase-orders/new")
def new_po(request: Request, page: User, supplier: str | None = None) -> Response:
    page.require(Action.MANAGE_PURCHASING)
    return _new_page(page, supplier=supplier)


@router.post("/purchase-orders/new")
def create_po(request: Request, page: User, form: Form) -> Response:
    actor = page.require(Action.MANAGE_PURCHASING)
    rows: list[int] = []

    def work() -> PurchaseOrderView:
        lines, found = _new_lines(form)
        rows.extend(found)
        body: PurchaseOrderCommand = {"lines": lines}  # the fields left blank left out
        if (supplier := form_text(form, "supplier", 32)) is not None:
            body["supplier"] = supplier
        if (location := form_text(form, "location", 32)) is not None:
            body["location"] = location
        if (expected_date := form_text(form, "expected_date", 10)) is not None:
            body["expected_date"] = expected_date
        if (freight := form_text(form, "freight", 30)) is not None:
            body["freight"] = freight
        if (duty := form_text(form, "duty", 30)) is not None:
            body["duty"] = duty
        if (notes := form_text(form, "notes", 2000)) is not None:
            body["notes"] = notes
        return purchase_orders.create_purchase_order(page.request.app.state.db, actor, body)

    return page.attempt(
        work,
        done=lambda po: page.gettext("Purchase order %(number)s created.", number=po["number"]),
        back="/purchase-orders/new",
        then=_url,
        form_id="po",
        typed={k: v for k, v in form.items() if k != "csrf_token"},
        again=lambda status: _new_page(page, status),
        rename=lambda name: line_fields(rows)(name),
        whole_form=True,
    )


# ---- one PO --------------------------------------------------------------------------------


def _detail(page: Page, ref: str, status: int = 200) -> Response:
    db = page.request.app.state.db
    po = purchase_orders.get_purchase_order(db, ref)
    return page.render(
        "purchasing/order.html",
        status=status,
        po=po,
        pdf=documents.pdf_state(db, "purchase_order", po["number"]),
    )


@router.get("/purchase-orders/{ref}")
def po_page(request: Request, ref: str, page: User) -> Response:
    return _detail(page, ref)


def _change(page: Page, ref: str, work: Any, done: str) -> Response:
    actor = page.require(Action.MANAGE_PURCHASING)
    po = purchase_orders.get_purchase_order(page.request.app.state.db, ref)
    return page.attempt(
        lambda: work(page.request.app.state.db, actor, po["id"]),
        done=done,
        back=_url(po),
        form_id="status",
        typed={},
        again=lambda status: _detail(page, ref, status),
    )


@router.post("/purchase-orders/{ref}/send")
def send_po(request: Request, ref: str, page: User, form: Form) -> Response:
    done = page.gettext("Sent. The supplier gets it by e-mail; its PDF is being made.")
    return _change(page, ref, purchase_orders.send, done)


@router.post("/purchase-orders/{ref}/cancel")
def cancel_po(request: Request, ref: str, page: User, form: Form) -> Response:
    return _change(page, ref, purchase_orders.cancel, page.gettext("Purchase order cancelled."))


@router.post("/purchase-orders/{ref}/close")
def close_po(request: Request, ref: str, page: User, form: Form) -> Response:
    done = page.gettext("Closed: what did not arrive is no longer on order.")
    return _change(page, ref, purchase_orders.close, done)


@router.post("/purchase-orders/{ref}/edit")
def edit_po(request: Request, ref: str, page: User, form: Form) -> Response:
    actor = page.require(Action.MANAGE_PURCHASING)
    body: PurchaseOrderPatch = {
        "expected_date": form_text(form, "expected_date", 10),
        "freight": form_text(form, "freight", 30) or "0",
        "duty": form_text(form, "duty", 30) or "0",
        "notes": form_text(form, "notes", 2000),
    }
    po = purchase_orders.get_purchase_order(request.app.state.db, ref)
    return page.attempt(
        lambda: purchase_orders.update_purchase_order(request.app.state.db, actor, po["id"], body),
        done=page.gettext("Purchase order saved."),
        back=_url(po),
        form_id="edit",
        typed={k: v for k, v in form.items() if k != "csrf_token"},
        again=lambda status: _detail(page, ref, status),
    )


@router.get("/purchase-orders/{ref}/pdf")
def po_pdf(request: Request, ref: str, page: User) -> Response:
    db = request.app.state.db
    po = purchase_orders.get_purchase_order(db, ref)
    doc = documents.latest_pdf(db, "purchase_order", po["number"])
    return Response(
        doc["data"],
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{po["number"]}.pdf"'},
    )


# ---- receiving -----------------------------------------------------------------------------


def _counts(form: dict[str, Any], po: PurchaseOrderView) -> dict[str, int]:
    """What the receiver has counted so far, per line (typed or scanned)."""
    out = {}
    for i, ln in enumerate(po["lines"]):
        value = form_text(form, f"quantity-{i}", 12) or "0"
        out[ln["sku"]] = int(value) if re.fullmatch(r"[0-9]{1,9}", value) else 0
    return out


def _receive_page(
    page: Page, ref: str, counts: dict[str, int] | None = None, status: int = 200, **extra: Any
) -> Response:
    db = page.request.app.state.db
    po = purchase_orders.get_purchase_order(db, ref)
    barcodes = {ln["sku"]: products.get_product(db, ln["sku"])["barcode"] for ln in po["lines"]}
    return page.render(
        "purchasing/receive.html",
        status=status,
        po=po,
        barcodes=barcodes,
        counts=counts or {},
        **{"refusal": None, "last": None, **extra},
    )


@router.get("/purchase-orders/{ref}/receive")
def receive_screen(request: Request, ref: str, page: User) -> Response:
    page.require(Action.MANAGE_PURCHASING)
    return _receive_page(page, ref)


@router.post("/purchase-orders/{ref}/receive/scan")
def scan(request: Request, ref: str, page: User, form: Form) -> Response:
    page.require(Action.MANAGE_PURCHASING)
    db = request.app.state.db
    po = purchase_orders.get_purchase_order(db, ref)
    counts = _counts(form, po)
    code = form_text(form, "code", 100)
    if not code:
        return _receive_page(page, ref, counts)
    barcodes = {ln["sku"]: products.get_product(db, ln["sku"])["barcode"] for ln in po["lines"]}
    line = next((ln for ln in po["lines"] if code in (ln["sku"], barcodes[ln["sku"]])), None)
    if line is None:
        refusal = page.gettext("%(code)s is not on this purchase order.", code=code)
        return _receive_page(page, ref, counts, refusal=refusal)
    if counts[line["sku"]] + 1 > line["quantity"] - line["received"]:
        refusal = page.gettext("Every %(sku)s ordered is already counted.", sku=line["sku"])
        return _receive_page(page, ref, counts, refusal=refusal)
    counts[line["sku"]] += 1
    return _receive_page(page, ref, counts, last=line["sku"])


@router.post("/purchase-orders/{ref}/receive")
def receive(request: Request, ref: str, page: User, form: Form) -> Response:
    actor = page.require(Action.MANAGE_PURCHASING)
    db = request.app.state.db
    po = purchase_orders.get_purchase_order(db, ref)
    counts = _counts(form, po)
    rows = [i for i, ln in enumerate(po["lines"]) if counts[ln["sku"]] > 0]
    body: ReceiveCommand = {
        "lines": [
            {"sku": po["lines"][i]["sku"], "quantity": counts[po["lines"][i]["sku"]]} for i in rows
        ],
        "reference": form_text(form, "reference", 200),
    }
    return page.attempt(
        lambda: receiving.receive(db, actor, po["id"], body),
        done=page.gettext("Goods received into %(location)s.", location=po["location"]),
        back=_url(po),
        form_id="receive",
        typed={k: v for k, v in form.items() if k != "csrf_token"},
        again=lambda status: _receive_page(page, ref, counts, status),
        rename=line_fields(rows),
    )
