"""Order entry in the back office (``/orders/new``): an order taken by phone, LINE or at the
counter, on one page, keyboard first. The customer is found as the phone number is typed (or
by name or email) or entered new; products are added by name, SKU or a scanned barcode with
their stock per location (a style found by name offers its variants to pick one); the order
is placed by ``capture.place_order`` (the same checks, prices and permission as the API)
and, when paid now, the payment recorded. A refusal comes back beside its fields with
everything typed kept. ``?from=NUMBER`` starts from a past order."""

from __future__ import annotations

import re
import secrets
import unicodedata
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import Response

from dingdan.domain.access.roles import Action
from dingdan.domain.orders import capture_input
from dingdan.domain.orders.rules import PaymentMethod
from dingdan.domain.shared import tw_postal
from dingdan.domain.shared.errors import DomainError, FieldErrors, NotFound, ValidationFailed
from dingdan.services.catalog import channels_and_taxes
from dingdan.services.catalog.shapes import ChannelView
from dingdan.services.fulfilment import shipments
from dingdan.services.orders import capture, customers, queries
from dingdan.services.payments import transactions
from dingdan.services.payments.shapes import PaymentCommand
from dingdan.web.error_status import status_of
from dingdan.web.pages.orders import entry_form as ef
from dingdan.web.pages.shared import messages
from dingdan.web.pages.shared.core import Form, Page, PageRoute, User, form_text
from dingdan.web.pages.shared.fields import form_amount

router = APIRouter(route_class=PageRoute, include_in_schema=False)
TEMPLATE = "orders/entry.html"
COUNTRIES = ("TW", "HK", "MO", "CN", "SG", "MY", "JP", "KR", "US", "CA", "GB", "AU")
METHODS = [m.value for m in PaymentMethod if m is not PaymentMethod.STORE_CREDIT]


def _channels(db: Any) -> list[ChannelView]:
    return channels_and_taxes.list_channels(db, active=True)["items"]


def _render(
    page: Page,
    v: dict[str, Any],
    *,
    status: int = 200,
    error: dict[str, Any] | None = None,
    block: str | None = None,
    note: str | None = None,
    picker: dict[str, Any] | None = None,
) -> Response:
    db = page.request.app.state.db
    lines = ef.shown_lines(db, ef.read_lines(v))
    country = (v.get("addr-country") or "TW").upper()
    countries = list(COUNTRIES) + ([country] if country not in COUNTRIES else [])
    return page.render(
        TEMPLATE,
        status=status,
        block=block,
        v=v,
        error=error,
        lines=lines,
        line_note=note,
        picker=picker,
        pq=v.get("product-q") or "",
        total=_lines_total(lines),
        currency=_currency(lines),
        country=country,
        countries=[(c, page.fmt.country(c)) for c in countries],
        channels=_channels(db) if block is None else [],
        methods=METHODS,
        tw_cities=tw_postal.cities(),
        tw_city=tw_postal.city(v.get("addr-tw-city")),
        tw_postal=tw_postal.postal_code(v.get("addr-tw-city"), v.get("addr-tw-district")),
        other_fields=[
            (name, page._(text))
            for name, text in messages.address_fields("" if country == "TW" else country)
            if name in ef.OTHER_ADDRESS and name != "line2"
        ],
        may_price=page.may(Action.PRICING),
        may_pay=page.may(Action.RECORD_PAYMENTS),
    )


def _currency(lines: list[dict[str, Any]]) -> str:
    return next((ln["product"]["currency"] for ln in lines if ln["product"]), "TWD")


def _lines_total(lines: list[dict[str, Any]]) -> str | None:
    """The lines' total at the prices typed (or the products'), as a guide while typing."""
    total = Decimal(0)
    for ln in lines:
        if ln["product"] is None:
            continue
        try:
            price = Decimal(form_amount({"p": ln["price"]}, "p") or ln["product"]["price"])
            total += price * int(ln["qty"] or "1")
        except (InvalidOperation, ValueError):
            return None
    # A guide only: a sum no order could have (1e400 typed somewhere) is not shown.
    return str(total) if total.is_finite() and abs(total) < Decimal("1e15") else None


def _blank() -> dict[str, Any]:
    return {"channel": "phone", "addr-country": "TW", "payment_method": "cod"}


@router.get("/orders/new")
def entry_page(request: Request, page: User) -> Response:
    page.require(Action.MANAGE_ORDERS)
    v = _blank()
    number = request.query_params.get("from")
    if number:
        try:
            v.update(ef.values_of_order(dict(queries.get_order(request.app.state.db, number[:64]))))
        except NotFound as exc:
            page.flash_error(exc)
    v["entry-key"] = secrets.token_urlsafe(16)
    return _render(page, v)


_PHONE_LIKE = re.compile(r"[0-9０-９\s\-().+]+")


def _customer_term(q: str) -> str:
    """A phone number as it is typed so far (``0912-345``) read as the digits stored after
    the country code (``912345`` is in ``+886912345678``); any other term as it is."""
    if not _PHONE_LIKE.fullmatch(q):
        return q
    digits = re.sub(r"\D", "", unicodedata.normalize("NFKC", q))
    return digits[1:] if digits.startswith("0") and len(digits) > 1 else digits or q


@router.get("/orders/new/customers")
def customer_results(request: Request, page: User, q: str | None = None) -> Response:
    page.require(Action.MANAGE_ORDERS)
    q = (q or "").strip()[:200]
    found: list[Any] = []
    if len(q) >= 2:
        try:
            term = _customer_term(q)
            found = list(customers.list_customers(request.app.state.db, q=term, limit=8).items)
        except DomainError:
            found = []
    return page.render(TEMPLATE, block="customer_results", found=found, q=q)


@router.get("/orders/new/address")
def last_address(request: Request, page: User, customer: str | None = None) -> Response:
    """The address fields filled from the customer's last order (a customer picked from
    the search whose address was not typed yet)."""
    page.require(Action.MANAGE_ORDERS)
    db = request.app.state.db
    v = _blank()
    try:
        found = customers.customer_detail(db, (customer or "")[:30])
        if found["order_list"]:
            last = dict(queries.get_order(db, found["order_list"][0]["number"]))
            v.update(
                {k: val for k, val in ef.values_of_order(last).items() if k.startswith("addr-")}
            )
    except NotFound:
        pass
    return _render(page, v, block="address")


@router.get("/orders/new/products")
def product_results(
    request: Request, page: User, q: str | None = None, style: str | None = None
) -> Response:
    """The products (and styles) a term finds; with ``style``, that style's variants to
    pick one from."""
    page.require(Action.MANAGE_ORDERS)
    db = request.app.state.db
    q = (q or "").strip()[:100]
    if style:
        return page.render(
            TEMPLATE, block="product_results", picker=ef.style_picker(db, style), pq=q
        )
    results, found = ef.search_with_styles(db, q)
    return page.render(TEMPLATE, block="product_results", results=results, found_styles=found, pq=q)


def _changed_lines(
    page: Page, form: dict[str, Any]
) -> tuple[dict[str, Any], str | None, bool, str | None]:
    """The form with a product added (from ``product-q``, or ``pick-sku``: a variant picked
    without script) or a line removed (``remove``), a message for the product field, whether
    a product was added, and the style to pick a variant of when the term names one."""
    lines = ef.read_lines(form)
    v = {k: val for k, val in form.items() if not k.startswith("line-")}
    note = None
    added = False
    style = None
    db = page.request.app.state.db
    remove = form_text(form, "remove", 5)
    if remove is not None and remove.isascii() and remove.isdigit() and int(remove) < len(lines):
        del lines[int(remove)]
    elif q := form_text(form, "pick-sku", 64) or form_text(form, "product-q", 100):
        product, matches = ef.find_one(db, q)
        if product is not None:
            ef.add(lines, product["sku"])
            added = True
            v["product-q"] = ""
        elif style := ef.style_named(db, q):
            note = page.gettext("Choose a variant from the list.")
        elif matches:
            note = page.gettext("%(n)s products match: choose one from the list.", n=matches)
        else:
            note = page.gettext("No product has this name, SKU or barcode.")
    v.update(ef.lines_values(lines))
    v.pop("pick-sku", None)
    return v, note, added, style


@router.post("/orders/new/lines")
def change_lines(request: Request, page: User, form: Form) -> Response:
    """The lines again after a scan, a pick from the list or a removal (htmx). A term that
    names a style (``X-Style``) asks the page to show its variants to pick from."""
    page.require(Action.MANAGE_ORDERS)
    v, note, added, style = _changed_lines(page, form)
    response = _render(page, v, block="lines", note=note)
    response.headers["X-Line-Added"] = "1" if added else "0"
    if style:
        response.headers["X-Style"] = quote(style, safe="")
    return response


def _body(page: Page, form: dict[str, Any]) -> tuple[dict[str, Any], list[Any]]:
    """The capture's body; every field the page itself refuses (a price below the
    product's without a reason, a district not in the city) and every field the capture
    would refuse, together."""
    errors = FieldErrors()
    shown = ef.shown_lines(page.request.app.state.db, ef.read_lines(form))
    lines, reasons = ef.body_lines(shown, errors, page.may(Action.PRICING))
    customer = {k: form_text(form, f"cust-{k}", 300) for k in ("name", "email", "phone")}
    body: dict[str, Any] = {
        "channel": form_text(form, "channel", 50) or "",
        "currency": _currency(shown),
        "customer": {k: val for k, val in customer.items() if val is not None},
        "shipping_address": ef.address(form, errors),
        "lines": lines,
        "shipping_price": form_amount(form, "shipping_price") or "0",
        "payment_method": form_text(form, "payment_method", 30) or "",
    }
    if note := form_text(form, "note", 1001):
        body["note"] = note
    if (asked := ef.invoice(form)) is not None:
        body["invoice"] = asked
    carriers = dict(page.carriers())
    method = form_text(form, "shipping_method", 50)
    if method is not None and method not in carriers:
        errors.add("shipping_method", "not_one_of", choices=", ".join(carriers))
    if errors:
        channels = {c["code"] for c in _channels(page.request.app.state.db)}
        try:
            capture_input.validate(body, channels)
        except ValidationFailed as exc:
            errors.items.extend(exc.errors)
        errors.raise_if_any()
    return body, reasons


def _form_error(page: Page, exc: DomainError, country: str) -> dict[str, Any]:
    """The refusal with each message under the page's field; messages of fields the page
    does not show stay in the box at the top."""
    d = page.error(exc)
    by_field: dict[str, str] = {}
    rest = []
    for e in exc.errors:
        text = messages.field_message(page.gettext, e, page.language)
        name = ef.form_field(e.field, country)
        if name is None:
            rest.append((messages.field_label(page.gettext, e.field), text))
        else:
            by_field.setdefault(name, text)
    d["by_field"] = by_field
    d["fields"] = rest
    if exc.code == "forbidden" and by_field:
        d["message"] = page.gettext(
            "A price below the product's price needs the pricing permission."
        )
    return d


def _staff_note(page: Page, form: dict[str, Any], reasons: list[Any]) -> str | None:
    parts = [
        page.gettext("Price %(price)s for %(sku)s: %(reason)s", sku=sku, price=price, reason=why)
        for sku, price, why in reasons
    ]
    if method := form_text(form, "shipping_method", 50):
        parts.append(page.gettext("Shipping method: %(name)s", name=page.carrier_name(method)))
    return "\n".join(parts)[:1000] or None


def _after_placing(page: Page, form: dict[str, Any], order: Any, reasons: list[Any]) -> None:
    """The note of the price reasons and shipping method, and the payment received now;
    the order is placed already, so a refusal here is told, not raised."""
    db = page.request.app.state.db
    actor = page.actor
    if note := _staff_note(page, form, reasons):
        try:
            shipments.add_note(db, actor, order["number"], note)
        except DomainError as exc:
            page.flash_error(exc)
    due = order["total"]
    if form.get("paid-now") == "1" and page.may(Action.RECORD_PAYMENTS) and Decimal(due) > 0:
        body: PaymentCommand = {"amount": due, "method": order["payment_method"]}
        if ref := form_text(form, "paid-reference", 200):
            body["reference"] = ref
        try:
            transactions.record_payment(db, actor, order["number"], body)
        except DomainError as exc:
            page.flash_error(exc)


@router.post("/orders/new")
def place(request: Request, page: User, form: Form) -> Response:
    actor = page.require(Action.MANAGE_ORDERS)
    if form.get("action") == "add" or form.get("remove") or form.get("pick-sku"):
        # Without script: the page again (with the style's variants to pick from).
        v, note, _added, style = _changed_lines(page, form)
        db = request.app.state.db
        return _render(page, v, note=note, picker=ef.style_picker(db, style) if style else None)
    country = (form_text(form, "addr-country", 2) or "TW").upper()
    key = form_text(form, "entry-key", 60)
    try:
        body, reasons = _body(page, form)
        order, created = capture.place_order(
            request.app.state.db,
            actor,
            body,
            idempotency_key=f"entry:{key}" if key else None,
            look_up_invoice=True,
        )
    except DomainError as exc:
        v, error = dict(form), _form_error(page, exc, country)
        if exc.code == "idempotency_conflict":
            # This form placed an order already and was changed since (the back button):
            # sent again as it is now, it places another one.
            v["entry-key"] = secrets.token_urlsafe(16)
            error["message"] = page.gettext(
                "This form has placed an order already. Place order again to place another."
            )
        return _render(page, v, status=status_of(exc), error=error)
    if created:
        _after_placing(page, form, order, reasons)
    page.flash(
        page.gettext(
            "Order %(number)s is placed: %(total)s.",
            number=order["number"],
            total=page.fmt.money(order["total"], order["currency"]),
        )
    )
    return page.redirect(f"/orders/{quote(order['number'], safe='')}")
