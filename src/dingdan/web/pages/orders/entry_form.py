"""The order-entry form read and written: its lines (products with their stock), the address
in the country's own order (Taiwan: 縣市 and 鄉鎮市區 from lists, the postal code follows), and
the capture body it asks for. Form field names are the page's; errors come back under the
capture's names (``lines[0].unit_price``) and are shown beside the page's fields."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

from dingdan.domain.shared import tw_postal
from dingdan.domain.shared.errors import DomainError, FieldErrors, NotFound
from dingdan.services.catalog import photos, products, styles
from dingdan.services.inventory import stock
from dingdan.web.i18n import phone_text
from dingdan.web.pages.shared.core import form_text
from dingdan.web.pages.shared.fields import form_amount, form_whole

MAX_LINES = 50
_LINE_KEY = re.compile(r"line-sku-(\d{1,2})")
_LINE_FIELD = re.compile(r"^lines\[(?P<i>\d+)\]\.(?P<name>\w+)$")
OTHER_ADDRESS = ("line1", "line2", "city", "region", "postal_code")


def read_lines(form: dict[str, Any]) -> list[dict[str, str]]:
    """The lines typed, in the form's order: ``{"sku", "qty", "price", "reason"}`` as text."""
    found = sorted({int(m[1]) for k in form if (m := _LINE_KEY.fullmatch(k))})
    out = []
    for i in found[:MAX_LINES]:
        sku = form_text(form, f"line-sku-{i}", 64)
        if sku:
            out.append(
                {
                    "sku": sku,
                    "qty": form_text(form, f"line-qty-{i}", 30) or "",
                    "price": form_text(form, f"line-price-{i}", 30) or "",
                    "reason": form_text(form, f"line-reason-{i}", 300) or "",
                }
            )
    return out


def lines_values(lines: list[dict[str, str]]) -> dict[str, str]:
    """The lines as form fields again, numbered from 0."""
    v: dict[str, str] = {}
    for i, ln in enumerate(lines):
        v.update(
            {
                f"line-sku-{i}": ln["sku"],
                f"line-qty-{i}": ln["qty"],
                f"line-price-{i}": ln["price"],
                f"line-reason-{i}": ln["reason"],
            }
        )
    return v


def stock_by_location(db: Any, sku: str) -> list[dict[str, Any]]:
    try:
        return [dict(s) for s in stock.stock_of(db, sku)["locations"]]
    except NotFound:
        return []


def product_of(db: Any, sku: str) -> dict[str, Any] | None:
    try:
        return dict(products.get_product(db, sku))
    except NotFound:
        return None


def shown_lines(db: Any, lines: list[dict[str, str]]) -> list[dict[str, Any]]:
    """Each line with its product (None when the SKU is unknown) and stock per location."""
    out = []
    for ln in lines:
        p = product_of(db, ln["sku"])
        out.append({**ln, "product": p, "stock": stock_by_location(db, ln["sku"]) if p else []})
    return out


def search(db: Any, q: str, limit: int = 8) -> list[dict[str, Any]]:
    """Active products whose SKU or name holds ``q`` or whose barcode is ``q``, with stock."""
    q = q.strip()[:100]
    if not q or "\x00" in q:
        return []
    try:
        items = products.list_products(db, q=q, active=True, limit=limit).items
    except DomainError:
        return []
    thumbs = photos.thumbnails(db, [p["sku"] for p in items])
    return [
        {**dict(p), "stock": stock_by_location(db, p["sku"]), "photo": thumbs.get(p["sku"])}
        for p in items
    ]


MAX_STYLES = 5


def found_styles(db: Any, q: str) -> list[dict[str, Any]]:
    """Styles whose name or code holds ``q``, each with its active variants' SKUs (the
    picker offers those; the product results leave them out, but for a SKU or barcode typed
    exactly)."""
    q = q.strip()[:100]
    if not q or "\x00" in q:
        return []
    try:
        found = styles.list_styles(db, q=q, limit=MAX_STYLES).items
    except DomainError:
        return []
    out = []
    for s in found:
        skus = [v["sku"] for v in styles.get_style(db, s["code"])["variants"] if v["active"]]
        if skus:
            out.append({**dict(s), "skus": skus})
    thumbs = photos.thumbnails(db, [s["skus"][0] for s in out])
    return [{**s, "photo": thumbs.get(s["skus"][0])} for s in out]


def search_with_styles(db: Any, q: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The products and the styles ``q`` finds; a style's variants are picked from its
    style, so they are not listed twice (a SKU or barcode typed exactly still is)."""
    found = found_styles(db, q)
    in_styles = {sku for s in found for sku in s["skus"]}
    wanted = q.strip().casefold()
    items = [
        p
        for p in search(db, q)
        if p["sku"] not in in_styles
        or p["sku"].casefold() == wanted
        or (p.get("barcode") or "") == q.strip()
    ]
    return items, found


def style_picker(db: Any, code: str) -> dict[str, Any] | None:
    """A style and its active variants to pick one from: each with its option values, price,
    photo and available stock per (active) location; None when there is no such style."""
    try:
        style = styles.get_style(db, code[:64])
    except DomainError:
        return None
    variants = [v for v in style["variants"] if v["active"]]
    thumbs = photos.thumbnails(db, [v["sku"] for v in variants])
    return {
        "code": style["code"],
        "name": style["name"],
        "options": style["options"],
        "variants": [
            {
                **v,
                "photo": thumbs.get(v["sku"]),
                "stock": [
                    {"location": loc, "available": n} for loc, n in sorted(v["locations"].items())
                ],
            }
            for v in variants
        ],
    }


def style_named(db: Any, q: str) -> str | None:
    """The style a typed term names when it names no product: its code or name exactly, or
    the only style whose name or code holds it."""
    found = found_styles(db, q)
    wanted = q.strip().casefold()
    for s in found:
        if s["code"].casefold() == wanted or s["name"].casefold() == wanted:
            return str(s["code"])
    return str(found[0]["code"]) if len(found) == 1 else None


def find_one(db: Any, q: str) -> tuple[dict[str, Any] | None, int]:
    """The product a scan or a typed code names: the SKU or barcode exactly, or the only
    product whose name or SKU holds it; and how many matched."""
    found = search(db, q, limit=20)
    wanted = q.strip().casefold()
    for p in found:
        if p["sku"].casefold() == wanted or (p.get("barcode") or "") == q.strip():
            return p, len(found)
    return (found[0], 1) if len(found) == 1 else (None, len(found))


def add(lines: list[dict[str, str]], sku: str) -> None:
    """One more unit of ``sku``: a second scan of a product adds to its line."""
    for ln in lines:
        if ln["sku"] == sku:
            # A quantity that is not a whole number stays as typed, to be refused beside it.
            qty = ln["qty"] or "0"
            if qty.isascii() and qty.isdigit() and len(qty) < 9:
                ln["qty"] = str(int(qty) + 1)
            return
    if len(lines) < MAX_LINES:
        lines.append({"sku": sku, "qty": "1", "price": "", "reason": ""})


def _below(price: str, product: dict[str, Any] | None) -> bool:
    if not price or product is None:
        return False
    try:
        return Decimal(price) < Decimal(str(product["price"]))
    except InvalidOperation:
        return False


def body_lines(
    shown: list[dict[str, Any]], errors: FieldErrors, may_price: bool
) -> tuple[list[dict[str, Any]], list[tuple[str, str, str]]]:
    """The capture's lines and the price reasons ``(sku, price, reason)``. Someone who may
    set a price below the product's must say why; someone who may not is refused by the
    capture itself (the pricing permission)."""
    out: list[dict[str, Any]] = []
    reasons = []
    for i, ln in enumerate(shown):
        field = f"lines[{i}].quantity"
        qty = form_whole({"q": ln["qty"]}, "q", errors, field=field, minimum=1, blank=1)
        line: dict[str, Any] = {"sku": ln["sku"], "quantity": qty if qty is not None else 1}
        price = form_amount({"p": ln["price"]}, "p")
        if price is not None:
            line["unit_price"] = price
            if _below(price, ln["product"]) and may_price:
                if not ln["reason"]:
                    errors.add(f"lines[{i}].price_reason", "required")
                else:
                    reasons.append((ln["sku"], price, ln["reason"]))
        out.append(line)
    return out, reasons


def address(form: dict[str, Any], errors: FieldErrors) -> dict[str, Any]:
    """The shipping address typed. In Taiwan 縣市 and 鄉鎮市區 come from lists and give the
    postal code; the district leads the address line, as Taiwanese addresses are written."""
    country = (form_text(form, "addr-country", 2) or "TW").upper()
    a: dict[str, Any] = {
        "name": form_text(form, "addr-name", 201) or form_text(form, "cust-name", 201),
        "phone": form_text(form, "addr-phone", 41) or form_text(form, "cust-phone", 41),
        "country": country,
        "line2": form_text(form, "addr-line2", 301),
    }
    if country != "TW":
        for name in OTHER_ADDRESS:
            if name != "line2":
                a[name] = form_text(form, f"addr-{name}", 301)
        return a
    city = form_text(form, "addr-tw-city", 20)
    district = form_text(form, "addr-tw-district", 20)
    street = form_text(form, "addr-tw-street", 301)
    found = tw_postal.city(city)
    code = tw_postal.postal_code(city, district)
    if found is None:
        errors.add("shipping_address.city", "required")
    elif code is None:
        errors.add("shipping_address.district", "required")
    a.update(
        city=found["city"] if found else city,
        region=found["iso"] if found else None,
        postal_code=code,
        line1=(district or "") + (street or "") if street else None,
    )
    return a


def values_of_order(order: dict[str, Any]) -> dict[str, str]:
    """A past order as the form's fields: its customer, products and quantities, address and
    payment method (prices are today's; shipping is chosen again)."""
    c = order.get("customer") or {}
    a = order.get("shipping_address") or {}
    v = {
        "channel": order.get("channel") or "",
        "cust-name": c.get("name") or "",
        "cust-phone": phone_text(c.get("phone"), a.get("country")),
        "cust-email": c.get("email") or "",
        "payment_method": order.get("payment_method") or "",
        "addr-name": a.get("name") or "",
        "addr-phone": phone_text(a.get("phone"), a.get("country")),
        "addr-country": a.get("country") or "TW",
        "addr-line2": a.get("line2") or "",
    }
    if v["addr-country"] == "TW":
        district, street = tw_postal.split_line(a.get("city"), a.get("line1"))
        district = district or tw_postal.district_of(a.get("city"), a.get("postal_code"))
        found = tw_postal.city(a.get("city"))
        v.update(
            {
                "addr-tw-city": found["city"] if found else a.get("city") or "",
                "addr-tw-district": district,
                "addr-tw-street": street,
            }
        )
    else:
        v.update({f"addr-{n}": a.get(n) or "" for n in OTHER_ADDRESS})
    lines = [
        {
            "sku": ln["sku"],
            "qty": str(int(ln["quantity"]) - int(ln.get("cancelled") or 0)),
            "price": "",
            "reason": "",
        }
        for ln in order.get("lines") or []
        if int(ln["quantity"]) - int(ln.get("cancelled") or 0) > 0
    ]
    v.update(lines_values(lines))
    return v


_ADDRESS_TW = {
    "city": "addr-tw-city",
    "district": "addr-tw-district",
    "postal_code": "addr-tw-district",
    "line1": "addr-tw-street",
    "region": "addr-tw-city",
}
_FIELDS = {
    "customer": "cust-phone",
    "customer.name": "cust-name",
    "customer.phone": "cust-phone",
    "customer.email": "cust-email",
    "lines": "product-q",
    "shipping_price": "shipping_price",
    "shipping_method": "shipping_method",
    "payment_method": "payment_method",
    "channel": "channel",
    "note": "note",
    "currency": "product-q",
    "shipping_address": "addr-name",
    "invoice": "inv-kind",
    "invoice.type": "inv-kind",
    "invoice.carrier_type": "inv-kind",
    "invoice.carrier_id": "inv-carrier",
    "invoice.donation_code": "inv-donation",
    "invoice.buyer_ubn": "inv-ubn",
    "invoice.buyer_name": "inv-buyer",
}
# The invoice the customer asks for, as the page offers it: printed (no carrier), a mobile
# barcode or citizen certificate carrier, a donation, or a company invoice.
INVOICE_KINDS = ("printed", "mobile", "certificate", "donation", "b2b")


def invoice(form: dict[str, Any]) -> dict[str, Any] | None:
    """The capture's ``invoice`` from the page's fields (None: a printed B2C invoice); a
    kind the page does not offer is sent as a type, for the capture to refuse."""
    kind = (form_text(form, "inv-kind", 20) or "printed").strip()

    def typed(name: str) -> str | None:
        return (form_text(form, name, 100) or "").strip() or None

    if kind == "printed":
        return None
    if kind in ("mobile", "certificate"):
        return {"type": "b2c", "carrier_type": kind, "carrier_id": typed("inv-carrier")}
    if kind == "donation":
        return {"type": "b2c", "donation_code": typed("inv-donation")}
    if kind == "b2b":
        return {"type": "b2b", "buyer_ubn": typed("inv-ubn"), "buyer_name": typed("inv-buyer")}
    return {"type": kind}


def invoice_values(request: dict[str, Any]) -> dict[str, str]:
    """The page's invoice fields showing a stored request (the capture's ``invoice``)."""
    carrier = request.get("carrier_type")
    if request.get("type") == "b2b":
        kind = "b2b"
    elif carrier in ("mobile", "certificate"):
        kind = str(carrier)
    else:
        kind = "donation" if request.get("donation_code") else "printed"
    return {
        "inv-kind": kind,
        "inv-carrier": request.get("carrier_id") or "",
        "inv-donation": request.get("donation_code") or "",
        "inv-ubn": request.get("buyer_ubn") or "",
        "inv-buyer": request.get("buyer_name") or "",
    }


_LINE_NAMES = {
    "sku": "line-sku",
    "quantity": "line-qty",
    "unit_price": "line-price",
    "price_reason": "line-reason",
}


def form_field(field: str, country: str) -> str | None:
    """The page's field for an error of the capture's ``field``; None when it has none."""
    if field in _FIELDS:
        return _FIELDS[field]
    line = _LINE_FIELD.match(field)
    if line:
        return f"{_LINE_NAMES.get(line['name'], 'line-qty')}-{line['i']}"
    if field.startswith("lines["):
        return "product-q"
    if field.startswith("shipping_address."):
        name = field.split(".", 1)[1]
        if country == "TW":
            return _ADDRESS_TW.get(name, f"addr-{name}")
        return f"addr-{name}"
    return None
