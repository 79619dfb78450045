"""Products: create, read, update, deactivate, list with search and keyset paging. A product
is one SKU; a variant's view names its style and option values (services/catalog/styles.py)."""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection, Row, func, insert, or_, select, update

from dingdan.db.engine import Database, nfkc
from dingdan.db.purchasing_tables import Supplier, SupplierProduct
from dingdan.db.style_tables import ProductStyle, ProductVariant
from dingdan.db.tables import Product
from dingdan.domain.access.roles import Action
from dingdan.domain.catalog import products as rules
from dingdan.domain.catalog.styles import option_map
from dingdan.domain.purchasing.purchase_orders import micros_text
from dingdan.domain.shared import money
from dingdan.domain.shared.errors import (
    Conflict,
    FieldError,
    FieldErrors,
    Forbidden,
    NotFound,
    ValidationFailed,
)
from dingdan.services.catalog.shapes import NewProduct, ProductFields
from dingdan.services.shared.common import (
    Actor,
    Page,
    audit,
    check_limit,
    decode_cursor,
    iso,
    like_pattern,
    page_of,
)
from dingdan.services.shared.view_types import ProductView

_OPTIONAL_INTS = (
    "weight_grams",
    "length_mm",
    "width_mm",
    "height_mm",
    "low_stock_threshold",
    "reorder_point",
)
_OPTIONAL_TEXT = {"barcode": 64, "category": 100, "brand": 100}
EDITABLE = (
    {"name", "price", "currency", "tax_class", "active", "allow_backorder"}
    | set(_OPTIONAL_INTS)
    | set(_OPTIONAL_TEXT)
)


def product_view(p: Row[Any] | Any) -> ProductView:
    style = getattr(p, "style_code", None)
    return {
        "id": str(p.id),
        "sku": p.sku,
        "name": p.name,
        "barcode": p.barcode,
        "price": money.format_amount(p.price_minor, p.currency),
        "currency": p.currency,
        "weight_grams": p.weight_grams,
        "length_mm": p.length_mm,
        "width_mm": p.width_mm,
        "height_mm": p.height_mm,
        "category": p.category,
        "brand": p.brand,
        "tax_class": p.tax_class,
        "active": p.active,
        "allow_backorder": p.allow_backorder,
        "low_stock_threshold": p.low_stock_threshold,
        "reorder_point": p.reorder_point,
        "supplier": p.supplier_code,
        "cost": None
        if p.cost_micros is None or p.cost_currency is None
        else micros_text(p.cost_micros, money.exponent(p.cost_currency)),
        "cost_currency": p.cost_currency,
        "style": style,
        "style_name": p.style_name if style else None,
        "options": option_map(p.style_options, p.option_values) if style else None,
        "created_at": iso(p.created_at),
        "updated_at": iso(p.updated_at),
    }


def _columns(data: Mapping[str, object], *, creating: bool) -> dict[str, Any]:
    """Check the fields given and turn them into column values, reporting every bad one."""
    errors = FieldErrors()
    if creating:
        rules.check_sku(data.get("sku"), "sku", errors)
    if creating or "name" in data:
        rules.check_text(data.get("name"), "name", errors, max_len=300, required=True)
    for name, max_len in _OPTIONAL_TEXT.items():
        rules.check_text(data.get(name), name, errors, max_len=max_len, required=False)
    for name in _OPTIONAL_INTS:
        rules.check_non_negative(data.get(name), name, errors)
    if "tax_class" in data and data["tax_class"] not in rules.TAX_CLASSES:
        errors.add("tax_class", "not_one_of", choices=", ".join(rules.TAX_CLASSES))
    cols: dict[str, Any] = {
        k: v for k, v in data.items() if k in EDITABLE and k not in ("price", "currency")
    }
    if creating or "price" in data or "currency" in data:
        currency = data.get("currency")
        if rules.check_currency(currency, "currency", errors) and isinstance(currency, str):
            minor = rules.price_minor(data.get("price"), currency, "price", errors)
            cols.update(price_minor=minor, currency=currency)
    errors.raise_if_any()
    if creating:
        cols["sku"] = data["sku"]
    if "barcode" in cols and not (cols["barcode"] or "").strip():
        cols["barcode"] = None  # no barcode, not an empty one every product could share
    return cols


def check_barcode(conn: Connection, barcode: Any, sku: str) -> None:
    """A barcode belongs to one product: a packing scan must name one SKU. The unique index
    ``uq_products_barcode`` holds it against races; this names the field and the owner."""
    if not barcode:
        return
    owner = conn.execute(
        select(Product.sku).where(Product.barcode == barcode, Product.sku != sku)
    ).scalar()
    if owner is not None:
        raise Conflict(
            detail=f"Barcode {barcode!r} is already the barcode of {owner}.",
            errors=[FieldError.of("barcode", "barcode_taken")],
        )


# A product with its preferred supplier's code (purchasing's table, read at the db level:
# the catalog context is below purchasing and imports none of its services).
_SUPPLIER_CODE = (
    select(Supplier.code)
    .where(Supplier.id == Product.preferred_supplier_id)
    .scalar_subquery()
    .label("supplier_code")
)
# ... and its style and option values when it is a variant (issue 21, part 9).
_WITH_SUPPLIER = (
    select(
        Product,
        _SUPPLIER_CODE,
        ProductStyle.code.label("style_code"),
        ProductStyle.name.label("style_name"),
        ProductStyle.options.label("style_options"),
        ProductVariant.option_values,
    )
    .select_from(Product)
    .outerjoin(ProductVariant, ProductVariant.product_id == Product.id)
    .outerjoin(ProductStyle, ProductStyle.id == ProductVariant.style_id)
)


def _fetch(conn: Connection, sku: str) -> Row[Any]:
    row = conn.execute(_WITH_SUPPLIER.where(Product.sku == sku)).first()
    if row is None:
        raise NotFound(detail=f"No product with SKU {sku!r}.")
    return row


def _preferred_supplier(conn: Connection, product_id: int, code: Any) -> int | None:
    """The id of the supplier ``code`` (None clears it); the supplier is recorded as
    supplying the product if it was not yet."""
    if code is None:
        return None
    if not isinstance(code, str):
        raise ValidationFailed.on("supplier", "not_text")
    supplier_id = conn.execute(select(Supplier.id).where(Supplier.code == code)).scalar()
    if supplier_id is None:
        raise ValidationFailed.on("supplier", "unknown_supplier", supplier=code)
    linked = conn.execute(
        select(SupplierProduct.id).where(
            SupplierProduct.supplier_id == supplier_id, SupplierProduct.product_id == product_id
        )
    ).first()
    if linked is None:
        conn.execute(insert(SupplierProduct).values(supplier_id=supplier_id, product_id=product_id))
    return int(supplier_id)


def _check_pricing(actor: Actor) -> None:
    if not actor.may(Action.PRICING):
        raise Forbidden(detail="Setting a product's price needs the pricing permission.")


def create_product(db: Database, actor: Actor, data: NewProduct) -> ProductView:
    cols = _columns(data, creating=True)
    _check_pricing(actor)  # a new product's price is set here

    def work(conn: Connection) -> ProductView:
        if conn.execute(select(Product.id).where(Product.sku == cols["sku"])).first():
            raise Conflict(detail=f"A product with SKU {cols['sku']!r} already exists.")
        check_barcode(conn, cols.get("barcode"), cols["sku"])
        conn.execute(insert(Product).values(**cols))
        view = product_view(_fetch(conn, cols["sku"]))
        audit(conn, actor, "create", "product", view["sku"], after=view)
        return view

    return db.write(work)


def get_product(db: Database, sku: str) -> ProductView:
    return db.read(lambda conn: product_view(_fetch(conn, sku)))


def update_product(db: Database, actor: Actor, sku: str, data: ProductFields) -> ProductView:
    def work(conn: Connection) -> ProductView:
        before = product_view(_fetch(conn, sku))
        merged: dict[str, object] = dict(data)
        if "price" in data and "currency" not in data:
            merged["currency"] = before["currency"]
        if "currency" in data and "price" not in data:
            merged["price"] = before["price"]
        cols = _columns(merged, creating=False)
        row = _fetch(conn, sku)
        if "price_minor" in cols and (cols["price_minor"], cols["currency"]) != (
            row.price_minor,
            row.currency,
        ):
            _check_pricing(actor)  # the same price sent again (a whole form) needs none
        check_barcode(conn, cols.get("barcode"), sku)
        if "supplier" in data:
            cols["preferred_supplier_id"] = _preferred_supplier(conn, row.id, data["supplier"])
        if cols:
            conn.execute(update(Product).where(Product.sku == sku).values(**cols))
        after = product_view(_fetch(conn, sku))
        audit(conn, actor, "update", "product", sku, before=before, after=after)
        return after

    return db.write(work)


def list_products(
    db: Database,
    *,
    q: str | None = None,
    active: bool | None = None,
    category: str | None = None,
    brand: str | None = None,
    style: str | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> Page:
    check_limit(limit)
    after = decode_cursor(cursor, str)
    stmt = _WITH_SUPPLIER.order_by(Product.sku).limit(limit + 1)
    if q:
        # The term and the names both after NFKC: ``ＴＥＡ`` finds ``tea`` and back.
        pattern = like_pattern(unicodedata.normalize("NFKC", q))
        stmt = stmt.where(
            or_(
                func.lower(nfkc(db, Product.sku)).like(pattern, escape="\\"),
                func.lower(nfkc(db, Product.name)).like(pattern, escape="\\"),
                Product.barcode == q,
            )
        )
    if active is not None:
        stmt = stmt.where(Product.active == active)
    if category:
        stmt = stmt.where(Product.category == category)
    if brand:
        stmt = stmt.where(Product.brand == brand)
    if style:
        stmt = stmt.where(ProductStyle.code == style)
    if after:
        stmt = stmt.where(Product.sku > str(after[0]))
    rows = db.read(lambda conn: list(conn.execute(stmt)))
    return page_of(rows, limit, product_view, lambda r: (r.sku,))
