"""Suppliers and the products each supplies (its SKU and cost); which one is a product's
preferred supplier is set on the product (``products.preferred_supplier_id``)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection, Row, insert, select, update

from dingdan.db.engine import Database
from dingdan.db.purchasing_tables import Supplier, SupplierProduct
from dingdan.db.tables import Product
from dingdan.domain.catalog import products as rules
from dingdan.domain.shared import money
from dingdan.domain.shared.contact import normalize_email
from dingdan.domain.shared.errors import Conflict, FieldErrors, NotFound, ValidationFailed
from dingdan.domain.shared.numbers import MAX_INT
from dingdan.services.purchasing.shapes import (
    SupplierCommand,
    SupplierPatch,
    SupplierProductCommand,
    SupplierProducts,
    SupplierProductView,
    SupplierView,
)
from dingdan.services.shared.common import (
    Actor,
    Page,
    audit,
    check_limit,
    decode_cursor,
    iso,
    page_of,
)

CODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$")
LANGUAGES = ("en", "zh-Hant", "zh-Hans")
_TEXT = {"name": 200, "phone": 30, "contact": 200, "payment_terms": 100}
_INTS = ("lead_time_days", "minimum_order_quantity", "pack_size")
EDITABLE = {"name", "email", "currency", "minimum_order", "language", "active", *_TEXT, *_INTS}


def supplier_view(s: Row[Any] | Any) -> SupplierView:
    return {
        "id": str(s.id),
        "code": s.code,
        "name": s.name,
        "email": s.email,
        "phone": s.phone,
        "contact": s.contact,
        "currency": s.currency,
        "lead_time_days": s.lead_time_days,
        "minimum_order": money.format_amount(s.minimum_order_minor, s.currency),
        "minimum_order_quantity": s.minimum_order_quantity,
        "pack_size": s.pack_size,
        "payment_terms": s.payment_terms,
        "language": s.language,
        "active": s.active,
        "created_at": iso(s.created_at),
        "updated_at": iso(s.updated_at),
    }


def _columns(data: Mapping[str, Any], *, creating: bool, currency: str | None) -> dict[str, Any]:
    errors = FieldErrors()
    if creating and not (isinstance(data.get("code"), str) and CODE_RE.match(data["code"])):
        errors.add("code", "invalid_supplier_code")
    for name, max_len in _TEXT.items():
        if creating or name in data:
            required = name == "name"
            rules.check_text(data.get(name), name, errors, max_len=max_len, required=required)
    cols: dict[str, Any] = {k: data[k] for k in (*_TEXT, "active") if k in data}
    if creating or "lead_time_days" in data:
        value = data.get("lead_time_days")
        if value is None:
            errors.add("lead_time_days", "required")
        elif isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 3650:
            errors.add("lead_time_days", "invalid_days")
        else:
            cols["lead_time_days"] = value
    for name, low in (("minimum_order_quantity", 0), ("pack_size", 1)):
        value = data.get(name)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= MAX_INT:
            errors.add(
                name, "too_small" if isinstance(value, int) else "not_a_whole_number", min=low
            )
        else:
            cols[name] = value
    if "email" in data:
        cols["email"] = normalize_email(data.get("email"), "email", errors, required=False)
    if "language" in data:
        if data["language"] not in LANGUAGES:
            errors.add("language", "not_one_of", choices=", ".join(LANGUAGES))
        else:
            cols["language"] = data["language"]
    if (creating or "currency" in data) and rules.check_currency(
        data.get("currency"), "currency", errors
    ):
        cols["currency"] = currency = data["currency"]
    if "minimum_order" in data and data["minimum_order"] is not None and currency:
        minor = rules.price_minor(data["minimum_order"], currency, "minimum_order", errors)
        if minor is not None:
            cols["minimum_order_minor"] = minor
    errors.raise_if_any()
    if creating:
        cols["code"] = data["code"]
    return cols


def fetch(conn: Connection, code: str, field: str | None = None) -> Row[Any]:
    """The supplier ``code``; NotFound (the URL's) or, named by a body's ``field``, a 422."""
    row = conn.execute(select(Supplier).where(Supplier.code == code)).first()
    if row is None:
        if field:
            raise ValidationFailed.on(field, "unknown_supplier", supplier=code)
        raise NotFound(detail=f"No supplier with code {code!r}.")
    return row


def create_supplier(db: Database, actor: Actor, data: SupplierCommand) -> SupplierView:
    cols = _columns(data, creating=True, currency=data.get("currency"))

    def work(conn: Connection) -> SupplierView:
        if conn.execute(select(Supplier.id).where(Supplier.code == cols["code"])).first():
            raise Conflict(detail=f"A supplier with code {cols['code']!r} already exists.")
        conn.execute(insert(Supplier).values(**cols))
        view = supplier_view(fetch(conn, cols["code"]))
        audit(conn, actor, "create", "supplier", view["code"], after=view)
        return view

    return db.write(work)


def get_supplier(db: Database, code: str) -> SupplierView:
    return db.read(lambda conn: supplier_view(fetch(conn, code)))


def update_supplier(db: Database, actor: Actor, code: str, data: SupplierPatch) -> SupplierView:
    def work(conn: Connection) -> SupplierView:
        row = fetch(conn, code)
        before = supplier_view(row)
        cols = _columns(data, creating=False, currency=data.get("currency") or row.currency)
        if "currency" in cols and "minimum_order" not in data and row.minimum_order_minor:
            # The minimum keeps its digits in the new currency's unit only if they agree.
            cols["minimum_order_minor"] = 0
        if cols:
            conn.execute(update(Supplier).where(Supplier.code == code).values(**cols))
        after = supplier_view(fetch(conn, code))
        audit(conn, actor, "update", "supplier", code, before=before, after=after)
        return after

    return db.write(work)


def list_suppliers(
    db: Database, *, active: bool | None = None, limit: int = 50, cursor: str | None = None
) -> Page:
    check_limit(limit)
    after = decode_cursor(cursor, str)
    stmt = select(Supplier).order_by(Supplier.code).limit(limit + 1)
    if active is not None:
        stmt = stmt.where(Supplier.active == active)
    if after:
        stmt = stmt.where(Supplier.code > after[0])
    rows = db.read(lambda conn: list(conn.execute(stmt)))
    return page_of(rows, limit, supplier_view, lambda r: (r.code,))


# ---- what a supplier supplies ----------------------------------------------------------------


def _product_link_view(row: Any, currency: str, preferred: bool) -> SupplierProductView:
    return {
        "sku": row.sku,
        "name": row.name,
        "supplier_sku": row.supplier_sku,
        "cost": None if row.cost_minor is None else money.format_amount(row.cost_minor, currency),
        "preferred": preferred,
    }


def _links(conn: Connection, supplier: Any) -> list[SupplierProductView]:
    rows = conn.execute(
        select(
            Product.sku,
            Product.name,
            Product.preferred_supplier_id,
            SupplierProduct.supplier_sku,
            SupplierProduct.cost_minor,
        )
        .join(Product, Product.id == SupplierProduct.product_id)
        .where(SupplierProduct.supplier_id == supplier.id)
        .order_by(Product.sku)
    )
    return [
        _product_link_view(r, supplier.currency, r.preferred_supplier_id == supplier.id)
        for r in rows
    ]


def supplier_products(db: Database, code: str) -> SupplierProducts:
    def work(conn: Connection) -> SupplierProducts:
        return {"items": _links(conn, fetch(conn, code))}

    return db.read(work)


def link_product(
    conn: Connection, supplier: Any, product_id: int, values: Mapping[str, object]
) -> None:
    """Insert or update the (supplier, product) row with ``values``."""
    found = conn.execute(
        select(SupplierProduct.id).where(
            SupplierProduct.supplier_id == supplier.id, SupplierProduct.product_id == product_id
        )
    ).scalar()
    if found is None:
        conn.execute(
            insert(SupplierProduct).values(supplier_id=supplier.id, product_id=product_id, **values)
        )
    elif values:
        conn.execute(update(SupplierProduct).where(SupplierProduct.id == found).values(**values))


def put_supplier_product(
    db: Database, actor: Actor, code: str, sku: str, data: SupplierProductCommand
) -> SupplierProductView:
    """Say that supplier ``code`` supplies ``sku`` (its SKU, its cost; ``preferred`` makes it
    the product's preferred supplier)."""

    def work(conn: Connection) -> SupplierProductView:
        supplier = fetch(conn, code)
        product = conn.execute(select(Product.id).where(Product.sku == sku)).scalar()
        if product is None:
            raise NotFound(detail=f"No product with SKU {sku!r}.")
        errors = FieldErrors()
        values: dict[str, Any] = {}
        if "supplier_sku" in data:
            rules.check_text(
                data["supplier_sku"], "supplier_sku", errors, max_len=64, required=False
            )
            values["supplier_sku"] = data["supplier_sku"]
        if "cost" in data:
            values["cost_minor"] = (
                None
                if data["cost"] is None
                else rules.price_minor(data["cost"], supplier.currency, "cost", errors)
            )
        errors.raise_if_any()
        link_product(conn, supplier, int(product), values)
        if data.get("preferred") is True:
            conn.execute(
                update(Product)
                .where(Product.id == product)
                .values(preferred_supplier_id=supplier.id)
            )
        elif data.get("preferred") is False:
            conn.execute(
                update(Product)
                .where(Product.id == product, Product.preferred_supplier_id == supplier.id)
                .values(preferred_supplier_id=None)
            )
        view = next(v for v in _links(conn, supplier) if v["sku"] == sku)
        audit(conn, actor, "update", "supplier_product", f"{code}/{sku}", after=view)
        return view

    return db.write(work)
