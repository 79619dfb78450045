"""Editing an open order from the back office: line quantities and prices, a line added by
SKU, a line removed, the shipping price and the shipping address. One call of
``order_edits.edit_order``: stock is re-reserved in the same transaction, so a refused edit
changes nothing; the form comes back with what was typed and the reason, translated."""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import Response

from dingdan.domain.access.roles import Action
from dingdan.domain.shared.errors import DomainError, FieldErrors
from dingdan.services.orders import edits, invoice_choice, queries
from dingdan.services.orders.shapes import EditLine, OrderEdit
from dingdan.web.error_status import status_of
from dingdan.web.pages.orders import entry_form, refund_difference
from dingdan.web.pages.shared import messages
from dingdan.web.pages.shared.core import Form, Page, PageRoute, User, form_text
from dingdan.web.pages.shared.fields import form_amount, form_whole
from dingdan.web.pages.shared.messages import N_

router = APIRouter(route_class=PageRoute, include_in_schema=False)
ADD_ROWS = 3  # empty "add a product" rows in the form
RESULT = "order_edit_result"  # session key: what the last save reserved, shown once
ADDRESS = ("name", "line1", "line2", "city", "region", "postal_code", "country", "phone")
ADDRESS_LIMITS = {"name": 200, "line1": 300, "line2": 300, "city": 200, "region": 200}
COUNTRIES = ("TW", "HK", "MO", "CN", "SG", "MY", "JP", "KR", "US", "CA", "GB", "AU")

LABELS = {
    "name": N_("Name"),
    "line1": N_("Address line 1"),
    "line2": N_("Address line 2"),
    "city": N_("City"),
    "region": N_("Region"),
    "postal_code": N_("Postal code"),
    "country": N_("Country"),
    "phone": N_("Phone"),
    "quantity": N_("Quantity"),
    "unit_price": N_("Unit price"),
    "sku": N_("SKU"),
    "shipping_price": N_("Shipping price"),
    "lines": N_("Lines"),
}

_LINE_KEY = re.compile(r"sku-\d{1,3}")
_LINE_FIELD = re.compile(r"^lines\[(?P<i>\d+)\]\.(?P<name>\w+)$")


def _label(page: Page, field: str, skus: list[str]) -> str:
    """``lines[1].quantity`` → ``MUG-001 · Quantity``; ``shipping_address.city`` → ``Shipping
    address · City``."""
    name = field.rsplit(".", 1)[-1]
    text = LABELS.get(name)
    base = str(page.gettext(text)) if text else messages.field_label(page.gettext, field)
    line = _LINE_FIELD.match(field)
    if line and int(line["i"]) < len(skus):
        return f"{skus[int(line['i'])]} · {base}"
    if field.startswith("shipping_address."):
        return f"{page.gettext('Shipping address')} · {base}"
    return base


def _form_field(field: str, rows: list[tuple[str, int]]) -> str:
    """The form's own name of a service's field, for the message beside it:
    ``lines[1].quantity`` → ``qty-3`` (or ``add-qty-0`` for an added line),
    ``shipping_address.city`` → ``addr-city``; other fields keep their name."""
    line = _LINE_FIELD.match(field)
    if line and int(line["i"]) < len(rows):
        prefix, n = rows[int(line["i"])]
        name = {"quantity": "qty", "unit_price": "price", "sku": "sku"}.get(line["name"])
        if name and not (name == "sku" and not prefix):
            return f"{prefix}{name}-{n}"
    if field.startswith("shipping_address."):
        return "addr-" + field.split(".", 1)[1]
    if field == "invoice" or field.startswith("invoice."):
        return entry_form.form_field(field, "TW") or "inv-kind"
    return field


def _describe(
    page: Page, exc: DomainError, skus: list[str], rows: list[tuple[str, int]], status: str
) -> dict[str, Any]:
    d = page.form_error(exc)
    d["fields"] = [
        (_label(page, e.field, skus), messages.field_message(page.gettext, e)) for e in exc.errors
    ]
    # Beside each field of the form (``by_field``), the rest at its top (``named``).
    d["by_field"] = {_form_field(f, rows): msg for f, msg in d["by_field"].items()}
    d["named"] = [
        (_form_field(e.field, rows), label, msg)
        for e, (label, msg) in zip(exc.errors, d["fields"], strict=False)
    ]
    if exc.code == "invalid_transition":
        d["message"] = page.gettext(
            "This order can no longer be edited: it is %(status)s.",
            status=messages.label(page.gettext, status).lower(),
        )
    return d


def _effective(line: dict[str, Any]) -> int:
    return int(line["quantity"]) - int(line["cancelled"])


def _values(order: Mapping[str, Any], invoice: Mapping[str, Any]) -> dict[str, Any]:
    """The form's fields as they are now."""
    v: dict[str, Any] = {"shipping_price": order["shipping_total"]}
    for i, ln in enumerate(order["lines"]):
        v[f"sku-{i}"] = ln["sku"]
        v[f"qty-{i}"] = str(_effective(ln))
        v[f"price-{i}"] = ln["unit_price"]
    for name in ADDRESS:
        v[f"addr-{name}"] = order["shipping_address"].get(name) or ""
    v.update(entry_form.invoice_values(invoice["request"]))
    return v


def _invoice_asked(form: dict[str, Any], invoice: Mapping[str, Any]) -> dict[str, Any] | None:
    """The invoice request the form asks for, when it differs from the order's (and the
    order has no invoice yet: after that the fields are not on the form)."""
    if not invoice["changeable"] or "inv-kind" not in form:
        return None
    asked = entry_form.invoice(form) or {"type": "b2c"}
    typed = {k: val for k, val in asked.items() if val is not None}
    # How the stored one was checked (``verified``) is not part of what was asked.
    stored = {k: val for k, val in invoice["request"].items() if k != "verified"}
    return typed if typed != stored else None


def _same_amount(a: Any, b: Any) -> bool:
    try:
        return Decimal(str(a)) == Decimal(str(b))
    except InvalidOperation:
        return False


def _changed_lines(
    form: dict[str, Any],
    order: Mapping[str, Any],
    errors: FieldErrors,
    rows: list[tuple[str, int]],
) -> list[EditLine]:
    """The lines whose quantity or price the form changes, then the lines it adds; ``rows``
    gets the form row of each (``("", i)`` a line of the order, ``("add-", j)`` an added
    one), in the same order."""
    current = {ln["sku"]: ln for ln in order["lines"]}
    lines: list[EditLine] = []
    for i in sorted(int(k[4:]) for k in form if _LINE_KEY.fullmatch(k)):
        sku = form_text(form, f"sku-{i}", 64)
        if sku is None or sku not in current:
            continue
        ln = current[sku]
        field = f"lines[{len(lines)}]"
        removed = form.get(f"remove-{i}") == "1"
        qty = 0 if removed else form_whole(form, f"qty-{i}", errors, field=f"{field}.quantity")
        price = form_amount(form, f"price-{i}")
        want: EditLine = {"sku": sku, "quantity": qty}
        if price is not None and not _same_amount(price, ln["unit_price"]):
            want["unit_price"] = price
        if qty != _effective(ln) or "unit_price" in want:
            lines.append(want)
            rows.append(("", i))
    for j in range(ADD_ROWS):
        sku = form_text(form, f"add-sku-{j}", 64)
        if sku is None:
            continue
        field = f"lines[{len(lines)}]"
        if sku in current:
            errors.add(f"{field}.sku", "already_on_order")
        qty = form_whole(form, f"add-qty-{j}", errors, field=f"{field}.quantity", blank=1)
        want = {"sku": sku, "quantity": qty}
        if price := form_amount(form, f"add-price-{j}"):
            want["unit_price"] = price
        lines.append(want)
        rows.append(("add-", j))
    return lines


def _address(form: dict[str, Any], order: Mapping[str, Any]) -> dict[str, Any] | None:
    """The address typed, when it differs from the order's."""
    typed = {n: form_text(form, f"addr-{n}", ADDRESS_LIMITS.get(n, 40) + 1) for n in ADDRESS}
    now = {n: (order["shipping_address"].get(n) or None) for n in ADDRESS}
    return typed if typed != now else None


def _body(
    form: dict[str, Any],
    order: Mapping[str, Any],
    skus: list[str],
    rows: list[tuple[str, int]],
    invoice: Mapping[str, Any],
) -> OrderEdit:
    """The edit the form asks for; ``skus`` gets the SKU of each line named, in order, so
    that an error on ``lines[i]`` can name its SKU, and ``rows`` its form row."""
    errors = FieldErrors()
    body: OrderEdit = {}
    lines = _changed_lines(form, order, errors, rows)
    skus.extend(ln["sku"] for ln in lines)
    if lines:
        body["lines"] = lines
    if address := _address(form, order):
        body["shipping_address"] = address
    shipping = form_amount(form, "shipping_price")
    if shipping is not None and not _same_amount(shipping, order["shipping_total"]):
        body["shipping_price"] = shipping
    if (asked := _invoice_asked(form, invoice)) is not None:
        body["invoice"] = asked
    errors.raise_if_any()
    return body


def _page(  # type: ignore[no-untyped-def]
    page: Page,
    order: Mapping[str, Any],
    invoice: Mapping[str, Any],
    v: dict[str, Any],
    status: int = 200,
    **kw: Any,
):
    countries = list(COUNTRIES)
    if order["shipping_address"].get("country") not in countries:
        countries.append(order["shipping_address"]["country"])
    return page.render(
        "orders/order_edit.html",
        status=status,
        o=order,
        invoice=invoice,
        v=v,
        add_rows=ADD_ROWS,
        countries=[(c, page.fmt.country(c)) for c in countries],
        address_fields=[
            (name, page._(text))
            for name, text in messages.address_fields(
                v.get("addr-country") or order["shipping_address"].get("country")
            )
        ],
        **{"error": None, "result": None, **kw},
    )


@router.get("/orders/{number}/edit")
def edit_form(request: Request, number: str, page: User) -> Response:
    page.require(Action.MANAGE_ORDERS)
    order = queries.get_order(request.app.state.db, number)
    invoice = invoice_choice.for_order(request.app.state.db, number)
    result = request.session.pop(RESULT, None)
    if not isinstance(result, dict) or result.get("number") != number:
        result = None
    return _page(page, order, invoice, _values(order, invoice), result=result)


def _result(before: Mapping[str, Any], after: Mapping[str, Any], body: OrderEdit) -> dict[str, Any]:
    """What the edit did to each line it named, and where the stock is now reserved."""
    was = {ln["sku"]: _effective(ln) for ln in before["lines"]}
    now = {ln["sku"]: ln for ln in after["lines"]}
    lines = []
    for want in (body.get("lines") or [])[:20]:
        ln = now.get(want["sku"])
        places = [
            [a["location"], a["quantity"]] for a in after["allocations"] if a["sku"] == want["sku"]
        ]
        lines.append(
            {
                "sku": want["sku"],
                "before": was.get(want["sku"], 0),
                "after": _effective(ln) if ln else 0,
                "allocated": ln["allocated"] if ln else 0,
                "backordered": ln["backordered"] if ln else 0,
                "places": places,
            }
        )
    return {
        "number": after["number"],
        "lines": lines,
        "total_before": before["total"],
        "total_after": after["total"],
        "currency": after["currency"],
        "address": "shipping_address" in body,
        "invoice": "invoice" in body,
    }


@router.post("/orders/{number}/edit")
def save_edit(request: Request, number: str, page: User, form: Form) -> Response:
    actor = page.require(Action.MANAGE_ORDERS)
    db = request.app.state.db
    order = queries.get_order(db, number)
    invoice = invoice_choice.for_order(db, number)
    body: OrderEdit = {}
    skus: list[str] = []
    rows: list[tuple[str, int]] = []
    try:
        body = _body(form, order, skus, rows, invoice)
        if not body:
            nothing = {"message": page.gettext("Nothing was changed.")}
            return _page(page, order, invoice, form, 422, error=nothing)
        after = edits.edit_order(db, actor, number, body, look_up_invoice=True)
    except DomainError as exc:
        status = status_of(exc)
        error = _describe(page, exc, skus, rows, order["status"])
        return _page(page, order, invoice, form, status, error=error)
    request.session[RESULT] = _result(order, after, body)
    page.flash(
        page.gettext(
            "Order %(number)s is saved. Total: %(before)s → %(after)s.",
            number=number,
            before=page.fmt.money(order["total"], order["currency"]),
            after=page.fmt.money(after["total"], after["currency"]),
        )
    )
    if refund_difference.asked(form):
        why = page.gettext(
            "Order edited: total %(before)s → %(after)s",
            before=order["total"],
            after=after["total"],
        )
        refund_difference.refund_after_change(page, number, after["currency"], why)
    return page.redirect(f"/orders/{quote(number, safe='')}/edit")
