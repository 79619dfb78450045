"""The style columns of a product import (issue 21, part 9): ``style`` (the style's code),
``style_name`` and ``options`` (``尺寸=M; 顏色=紅``), as the product export writes them, so
that a catalogue exported and imported again has the same styles and variants.

Checked row by row with what the database and the earlier rows say: a style's rows name the
same options (a style that exists keeps its own), and no two SKUs of a style have the same
values. Written in the import's transaction after the products: a new style is created with
the options of its first row, in their order; an existing one keeps them. An empty ``style``
cell leaves the SKU as it was.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, func, insert, select, update

from dingdan.db.engine import Database
from dingdan.db.style_tables import ProductStyle, ProductVariant
from dingdan.db.tables import Product
from dingdan.domain.catalog import products as rules
from dingdan.domain.catalog import styles as style_rules
from dingdan.domain.shared.errors import FieldErrors

KEY = "__style"  # the checked style of a row, beside its product columns


@dataclass(frozen=True)
class RowStyle:
    code: str
    name: str | None
    options: tuple[str, ...]
    values: tuple[str, ...]


@dataclass
class Known:
    """Styles as the database and the rows read so far have them."""

    options: dict[str, tuple[str, ...]] = field(default_factory=dict)
    combos: dict[str, dict[str, str]] = field(default_factory=dict)  # code -> key -> sku

    def check(self, row: dict[str, str | None], errors: FieldErrors) -> RowStyle | None:
        code, text = row.get("style"), row.get("options")
        if not code:
            if text:
                errors.add("style", "required")
            return None
        rules.check_sku(code, "style", errors)
        rules.check_text(row.get("style_name"), "style_name", errors, max_len=300, required=False)
        pairs = style_rules.parse_options_text(text or "")
        if not pairs:
            errors.add("options", "invalid", reason="尺寸=M; 顏色=紅")
            return None
        names = style_rules.check_option_names([n for n, _ in pairs], "options", errors)
        if not names or errors:
            return None
        given = dict(zip(names, (v for _, v in pairs), strict=True))
        options = self.options.setdefault(code, tuple(names))
        if set(options) != set(names):
            errors.add("options", "not_one_per_option", options=", ".join(options))
            return None
        values = style_rules.check_values(list(options), given, "options", errors)
        if values is None:
            return None
        key, sku = style_rules.option_key(values), str(row.get("sku"))
        if self.combos.setdefault(code, {}).setdefault(key, sku) != sku:
            errors.add("options", "duplicate_combination")
            return None
        return RowStyle(code, row.get("style_name") or None, options, tuple(values))


def known(db: Database, rows: Sequence[dict[str, str | None]]) -> Known:
    """The options and combinations of the styles the rows name that exist."""
    codes = sorted({c for r in rows if (c := r.get("style"))})[:5000]
    if not codes:
        return Known()

    def work(conn: Connection) -> Known:
        found = Known()
        styles = conn.execute(
            select(ProductStyle.id, ProductStyle.code, ProductStyle.options).where(
                ProductStyle.code.in_(codes)
            )
        ).all()
        for _id, code, options in styles:
            found.options[code] = tuple(options)
            found.combos[code] = {}
        combos = conn.execute(
            select(ProductStyle.code, ProductVariant.option_key, Product.sku)
            .join(ProductVariant, ProductVariant.style_id == ProductStyle.id)
            .join(Product, Product.id == ProductVariant.product_id)
            .where(ProductStyle.code.in_(codes))
        )
        for code, key, sku in combos:
            found.combos[code][key] = sku
        return found

    return db.read(work)


def _chunks(items: list[Any], size: int = 500) -> list[list[Any]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def write(conn: Connection, styled: list[tuple[str, RowStyle]]) -> None:
    """Creates the styles that do not exist (renames those given a name) and makes each SKU
    a variant of its row's style with its values."""
    if not styled:
        return
    ids: dict[str, int] = {}
    for _sku, s in styled:
        if s.code in ids:
            if s.name:
                conn.execute(
                    update(ProductStyle).where(ProductStyle.id == ids[s.code]).values(name=s.name)
                )
            continue
        sid = conn.execute(select(ProductStyle.id).where(ProductStyle.code == s.code)).scalar()
        if sid is None:
            sid = conn.execute(
                insert(ProductStyle)
                .values(code=s.code, name=s.name or s.code, options=list(s.options))
                .returning(ProductStyle.id)
            ).scalar_one()
        elif s.name:
            conn.execute(update(ProductStyle).where(ProductStyle.id == sid).values(name=s.name))
        ids[s.code] = int(sid)
    products: dict[str, int] = {}
    for chunk in _chunks([sku for sku, _ in styled]):
        stmt = select(Product.sku, Product.id).where(Product.sku.in_(chunk))
        products.update((str(k), int(v)) for k, v in conn.execute(stmt))
    current: dict[int, int] = {}
    for chunk in _chunks(list(products.values())):
        held = select(ProductVariant.product_id, ProductVariant.style_id).where(
            ProductVariant.product_id.in_(chunk)
        )
        current.update((int(k), int(v)) for k, v in conn.execute(held))
    last = dict(
        conn.execute(
            select(ProductVariant.style_id, func.max(ProductVariant.position))
            .where(ProductVariant.style_id.in_(list(ids.values())))
            .group_by(ProductVariant.style_id)
        ).all()
    )
    for sku, s in styled:
        pid, sid = products[sku], ids[s.code]
        values: dict[str, Any] = {
            "option_values": list(s.values),
            "option_key": style_rules.option_key(list(s.values)),
        }
        if pid in current:
            if current[pid] != sid:
                last[sid] = last.get(sid, -1) + 1
                values.update(style_id=sid, position=last[sid])
            conn.execute(
                update(ProductVariant).where(ProductVariant.product_id == pid).values(**values)
            )
        else:
            last[sid] = last.get(sid, -1) + 1
            conn.execute(
                insert(ProductVariant).values(
                    product_id=pid, style_id=sid, position=last[sid], **values
                )
            )
