"""Styles and their variants (issue 21, part 9): a product as a shop lists it (a T-shirt), its
option names (尺寸, 顏色), and its variants, each an ordinary SKU row (its own barcode,
price and stock) with its option values. Creating a style creates the SKUs it names that do
not exist yet and attaches those that do; a SKU leaves its style and stays a simple product.

Every flow that works on SKUs is unchanged: this only adds ``product_styles`` and
``product_variants`` beside ``products`` (db/style_tables.py). A style's category and brand,
when set, are written onto its variants' SKU rows, where reports group them.
"""

from __future__ import annotations

import unicodedata
from collections import defaultdict
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection, delete, func, insert, or_, select, update

from dingdan.db.engine import Database, nfkc
from dingdan.db.style_tables import ProductStyle, ProductVariant
from dingdan.db.tables import Location, Product, StockLevel
from dingdan.domain.catalog import products as rules
from dingdan.domain.catalog import styles as style_rules
from dingdan.domain.shared import money
from dingdan.domain.shared.errors import Conflict, FieldErrors, NotFound, ValidationFailed
from dingdan.services.catalog import products
from dingdan.services.catalog.shapes import (
    StyleChanges,
    StyleCommand,
    StyleSummary,
    StyleVariantView,
    StyleView,
    VariantsCommand,
)
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

_STYLE_TEXT = {"category": 100, "brand": 100}
_VARIANT_FIELDS = {"sku", "options", "name", "price", "currency", "barcode"} | set(
    products.EDITABLE
)


def _style_row(conn: Connection, code: str) -> Any:
    row = conn.execute(select(ProductStyle).where(ProductStyle.code == code)).first()
    if row is None:
        raise NotFound(detail=f"No style with code {code!r}.")
    return row


def _stock(conn: Connection, product_ids: list[int]) -> dict[int, dict[str, Any]]:
    """Per product: on hand and available over active locations, and per location."""
    out: dict[int, dict[str, Any]] = defaultdict(
        lambda: {"on_hand": 0, "available": 0, "locations": {}}
    )
    if not product_ids:
        return out
    stmt = (
        select(StockLevel.product_id, Location.code, StockLevel.on_hand, StockLevel.reserved)
        .join(Location, Location.id == StockLevel.location_id)
        .where(StockLevel.product_id.in_(product_ids), Location.active.is_(True))
    )
    for pid, loc, on_hand, reserved in conn.execute(stmt):
        s = out[int(pid)]
        s["on_hand"] += int(on_hand)
        s["available"] += int(on_hand - reserved)
        s["locations"][loc] = int(on_hand - reserved)
    return out


def _variants(conn: Connection, style: Any) -> list[StyleVariantView]:
    rows = conn.execute(
        select(Product, ProductVariant.option_values, ProductVariant.position)
        .join(ProductVariant, ProductVariant.product_id == Product.id)
        .where(ProductVariant.style_id == style.id)
        .order_by(ProductVariant.position, Product.sku)
    ).all()
    stock = _stock(conn, [int(r.id) for r in rows])
    return [
        {
            "sku": r.sku,
            "name": r.name,
            "options": style_rules.option_map(style.options, r.option_values),
            "barcode": r.barcode,
            "price": money.format_amount(r.price_minor, r.currency),
            "currency": r.currency,
            "active": r.active,
            "on_hand": stock[int(r.id)]["on_hand"],
            "available": stock[int(r.id)]["available"],
            "locations": stock[int(r.id)]["locations"],
        }
        for r in rows
    ]


def style_view(conn: Connection, style: Any) -> StyleView:
    return {
        "code": style.code,
        "name": style.name,
        "options": list(style.options),
        "category": style.category,
        "brand": style.brand,
        "variants": _variants(conn, style),
        "created_at": iso(style.created_at),
        "updated_at": iso(style.updated_at),
    }


def _check_style(
    data: Mapping[str, object], *, creating: bool, errors: FieldErrors
) -> dict[str, Any]:
    cols: dict[str, Any] = {}
    if creating:
        rules.check_sku(data.get("code"), "code", errors)
        cols["code"] = data.get("code")
        cols["options"] = style_rules.check_option_names(data.get("options"), "options", errors)
    if creating or "name" in data:
        rules.check_text(data.get("name"), "name", errors, max_len=300, required=True)
        cols["name"] = data.get("name")
    for name, max_len in _STYLE_TEXT.items():
        if name in data:
            rules.check_text(data.get(name), name, errors, max_len=max_len, required=False)
            cols[name] = str(data.get(name) or "").strip() or None
    return cols


def _variant_input(
    conn: Connection,
    style: Mapping[str, Any],
    given: Any,
    field: str,
    errors: FieldErrors,
) -> dict[str, Any] | None:
    """One variant of the request: its values, and the product's columns when it is new
    (checked as ``POST /products`` checks them; price and currency default to the style
    request's)."""
    if not isinstance(given, dict):
        errors.add(field, "not_an_object")
        return None
    for k in given:
        if k not in _VARIANT_FIELDS:
            errors.add(f"{field}.{k}", "not_a_field")
    values = style_rules.check_values(
        style["options"], given.get("options"), f"{field}.options", errors
    )
    sku = given.get("sku")
    rules.check_sku(sku, f"{field}.sku", errors)
    if values is None or not isinstance(sku, str) or not rules.SKU_RE.match(sku):
        return None
    existing = conn.execute(select(Product.id).where(Product.sku == sku)).scalar()
    if existing is not None:
        return {"sku": sku, "values": values, "product_id": int(existing), "cols": None}
    data = {k: v for k, v in given.items() if k not in ("options",)}
    data.setdefault("name", f"{style['name']} {' / '.join(values)}"[:300])
    for k in ("price", "currency", "category", "brand"):
        if style.get(k) is not None:
            data.setdefault(k, style[k])
    try:
        cols = products._columns(data, creating=True)
    except ValidationFailed as exc:
        for e in exc.errors:
            errors.add(f"{field}.{e.field}", e.code, **e.params)
        return None
    return {"sku": sku, "values": values, "product_id": None, "cols": cols}


def _attach(
    conn: Connection,
    actor: Actor,
    style: Any,
    request: Mapping[str, object],
    variants: Any,
) -> None:
    """Checks every variant (all or none), creates the new SKUs and attaches them all."""
    errors = FieldErrors()
    if not isinstance(variants, list):
        errors.add("variants", "not_a_list")
        errors.raise_if_any()
    existing = conn.execute(
        select(ProductVariant.option_key, ProductVariant.product_id, ProductVariant.position).where(
            ProductVariant.style_id == style.id
        )
    ).all()
    if len(existing) + len(variants) > style_rules.MAX_VARIANTS:
        errors.add("variants", "too_many_items", max=style_rules.MAX_VARIANTS - len(existing))
        errors.raise_if_any()
    keys = {k: pid for k, pid, _ in existing}
    skus: set[str] = set()
    ready = []
    context = {**request, "name": style.name, "options": list(style.options)}
    for i, given in enumerate(variants):
        v = _variant_input(conn, context, given, f"variants[{i}]", errors)
        if v is None:
            continue
        key = style_rules.option_key(v["values"])
        if v["sku"] in skus:
            errors.add(f"variants[{i}].sku", "duplicate_sku")
        elif key in keys and keys[key] != v["product_id"]:
            errors.add(f"variants[{i}].options", "duplicate_combination")
        skus.add(v["sku"])
        keys[key] = v["product_id"] or -i - 1
        ready.append((i, key, v))
    _check_owned(conn, style, ready, errors)
    errors.raise_if_any("The variants were refused.")
    if any(v["cols"] is not None for _, _, v in ready):
        products._check_pricing(actor)  # a new SKU's price is set here
    position = max((p for _, _, p in existing), default=-1) + 1
    for _i, key, v in ready:
        if v["cols"] is not None:
            products.check_barcode(conn, v["cols"].get("barcode"), v["sku"])
            pid = conn.execute(insert(Product).values(**v["cols"]).returning(Product.id))
            v["product_id"] = int(pid.scalar_one())
        values = {"option_values": v["values"], "option_key": key}
        if v["product_id"] in {pid for _, pid, _ in existing}:
            conn.execute(
                update(ProductVariant)
                .where(ProductVariant.product_id == v["product_id"])
                .values(**values)
            )
        else:
            conn.execute(
                insert(ProductVariant).values(
                    product_id=v["product_id"], style_id=style.id, position=position, **values
                )
            )
            position += 1
    _copy_style_fields(conn, style.id, style.category, style.brand)


def _check_owned(conn: Connection, style: Any, ready: list[Any], errors: FieldErrors) -> None:
    """A SKU is a variant of one style at most."""
    ids = [v["product_id"] for _, _, v in ready if v["product_id"] is not None]
    if not ids:
        return
    owners = dict(
        conn.execute(
            select(ProductVariant.product_id, ProductStyle.code)
            .join(ProductStyle, ProductStyle.id == ProductVariant.style_id)
            .where(ProductVariant.product_id.in_(ids), ProductVariant.style_id != style.id)
        ).all()
    )
    for i, _, v in ready:
        if (owner := owners.get(v["product_id"])) is not None:
            errors.add(f"variants[{i}].sku", "in_another_style", sku=v["sku"], style=owner)


def _copy_style_fields(
    conn: Connection, style_id: int, category: str | None, brand: str | None
) -> None:
    values = {k: v for k, v in (("category", category), ("brand", brand)) if v is not None}
    if values:
        ids = select(ProductVariant.product_id).where(ProductVariant.style_id == style_id)
        conn.execute(update(Product).where(Product.id.in_(ids)).values(**values))


def create_style(db: Database, actor: Actor, data: StyleCommand) -> StyleView:
    """``{"code", "name", "options": [...], "category"?, "brand"?, "price"?, "currency"?,
    "variants"?: [{"sku", "options": {...}, "name"?, "price"?, "barcode"?, ...}]}``: the
    style with its variants, all or nothing."""
    errors = FieldErrors()
    cols = _check_style(data, creating=True, errors=errors)
    errors.raise_if_any()

    def work(conn: Connection) -> StyleView:
        if conn.execute(select(ProductStyle.id).where(ProductStyle.code == cols["code"])).first():
            raise Conflict(detail=f"A style with code {cols['code']!r} already exists.")
        if conn.execute(select(Product.id).where(Product.sku == cols["code"])).first():
            raise ValidationFailed.on("code", "style_code_is_sku")
        conn.execute(insert(ProductStyle).values(**cols))
        style = _style_row(conn, cols["code"])
        _attach(conn, actor, style, data, data.get("variants") or [])
        view = style_view(conn, style)
        audit(conn, actor, "create", "product_style", style.code, after=_summary(view))
        return view

    return db.write(work)


def _summary(view: StyleView) -> dict[str, object]:
    return {
        **{k: view[k] for k in ("code", "name", "options", "category", "brand")},
        "variants": {v["sku"]: v["options"] for v in view["variants"]},
    }


def add_variants(db: Database, actor: Actor, code: str, data: VariantsCommand) -> StyleView:
    """``{"variants": [...], "price"?, "currency"?}``: more variants (or new option values
    of variants it has); all or none."""

    def work(conn: Connection) -> StyleView:
        style = _style_row(conn, code)
        before = _summary(style_view(conn, style))
        _attach(conn, actor, style, data, data.get("variants"))
        view = style_view(conn, style)
        audit(conn, actor, "update", "product_style", code, before, _summary(view))
        return view

    return db.write(work)


def remove_variant(db: Database, actor: Actor, code: str, sku: str) -> StyleView:
    """The SKU leaves the style and stays a simple product (its stock and orders are its)."""

    def work(conn: Connection) -> StyleView:
        style = _style_row(conn, code)
        pid = conn.execute(
            select(ProductVariant.product_id)
            .join(Product, Product.id == ProductVariant.product_id)
            .where(ProductVariant.style_id == style.id, Product.sku == sku)
        ).scalar()
        if pid is None:
            raise NotFound(detail=f"{sku!r} is not a variant of style {code!r}.")
        conn.execute(delete(ProductVariant).where(ProductVariant.product_id == pid))
        audit(conn, actor, "delete", "product_variant", sku, before={"style": code})
        return style_view(conn, style)

    return db.write(work)


def update_style(db: Database, actor: Actor, code: str, data: StyleChanges) -> StyleView:
    """``name``, ``category``, ``brand`` (the last two written onto every variant)."""
    errors = FieldErrors()
    cols = _check_style(data, creating=False, errors=errors)
    errors.raise_if_any()

    def work(conn: Connection) -> StyleView:
        style = _style_row(conn, code)
        before = _summary(style_view(conn, style))
        if cols:
            conn.execute(update(ProductStyle).where(ProductStyle.id == style.id).values(**cols))
        style = _style_row(conn, code)
        _copy_style_fields(conn, style.id, cols.get("category"), cols.get("brand"))
        view = style_view(conn, style)
        audit(conn, actor, "update", "product_style", code, before, _summary(view))
        return view

    return db.write(work)


def get_style(db: Database, code: str) -> StyleView:
    return db.read(lambda conn: style_view(conn, _style_row(conn, code)))


def list_styles(
    db: Database, *, q: str | None = None, limit: int = 50, cursor: str | None = None
) -> Page:
    """Styles by code with the number of their variants."""
    check_limit(limit)
    after = decode_cursor(cursor, str)
    count = (
        select(func.count())
        .where(ProductVariant.style_id == ProductStyle.id)
        .scalar_subquery()
        .label("variant_count")
    )
    stmt = select(ProductStyle, count).order_by(ProductStyle.code).limit(limit + 1)
    if q:
        pattern = like_pattern(unicodedata.normalize("NFKC", q))
        stmt = stmt.where(
            or_(
                func.lower(nfkc(db, ProductStyle.code)).like(pattern, escape="\\"),
                func.lower(nfkc(db, ProductStyle.name)).like(pattern, escape="\\"),
            )
        )
    if after:
        stmt = stmt.where(ProductStyle.code > str(after[0]))
    rows = db.read(lambda conn: list(conn.execute(stmt)))

    def item(r: Any) -> StyleSummary:
        return {
            "code": r.code,
            "name": r.name,
            "options": list(r.options),
            "category": r.category,
            "brand": r.brand,
            "variant_count": int(r.variant_count),
            "updated_at": iso(r.updated_at),
        }

    return page_of(rows, limit, item, lambda r: (r.code,))


def facets(db: Database) -> dict[str, list[str]]:
    """The categories and brands products have, to choose from (a list typed once)."""

    def work(conn: Connection) -> dict[str, list[str]]:
        out = {}
        for name, column in (("categories", Product.category), ("brands", Product.brand)):
            stmt = select(column).where(column.is_not(None)).distinct().order_by(column)
            out[name] = [str(v) for v in conn.execute(stmt.limit(500)).scalars() if v]
        return out

    return db.read(work)
