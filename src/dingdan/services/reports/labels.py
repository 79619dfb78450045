"""Readable names beside the reports' keys: products, customers, channels, countries (CLDR,
in the reader's language), Taiwan's 縣市, weekdays and hours."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date

import babel
from sqlalchemy import Connection, select

from dingdan.db.order_tables import Channel, Customer
from dingdan.db.style_tables import ProductStyle
from dingdan.db.tables import Product
from dingdan.domain.shared import tw_postal
from dingdan.domain.shared.contact import country_name


def _babel(locale: str) -> babel.Locale:
    try:
        return babel.Locale.parse(locale.replace("-", "_"))
    except (ValueError, babel.UnknownLocaleError):
        return babel.Locale.parse("en")


def weekday(n: int, locale: str) -> str:
    """1 Monday ... 7 Sunday."""
    return str(_babel(locale).days["format"]["wide"][n - 1])


def labels(conn: Connection, dimension: str, keys: Iterable[str], locale: str) -> dict[str, str]:
    """key -> label for the keys of a report's dimension (the key itself when unnamed)."""
    keys = [k for k in keys if k != ""]
    if dimension in ("product", "products"):
        stmt = select(Product.sku, Product.name)
        if len(keys) <= 500:  # many: the whole catalog in one scan beats a long IN list
            stmt = stmt.where(Product.sku.in_(keys))
        return {str(k): str(n) for k, n in conn.execute(stmt)}
    if dimension == "style":  # a style's code, or the SKU of a product of no style
        names = {
            str(k): str(n)
            for k, n in conn.execute(select(Product.sku, Product.name).where(Product.sku.in_(keys)))
        }
        styles = select(ProductStyle.code, ProductStyle.name).where(ProductStyle.code.in_(keys))
        names.update((str(k), str(n)) for k, n in conn.execute(styles))
        return names
    if dimension in ("customer", "customers"):
        ids = [int(k) for k in keys if re.fullmatch(r"[0-9]{1,18}", k)]
        rows = conn.execute(select(Customer.id, Customer.name).where(Customer.id.in_(ids)))
        return {str(i): str(n or i) for i, n in rows}
    if dimension in ("channel", "channels"):
        rows = conn.execute(select(Channel.code, Channel.name).where(Channel.code.in_(keys)))
        return {str(k): str(n) for k, n in rows}
    if dimension in ("country", "countries"):
        return {k: country_name(k, locale.replace("-", "_")) for k in keys}
    if dimension in ("region", "regions"):
        names = {c["iso"]: c["city"] for c in tw_postal.cities()}
        return {k: names.get(k, k) for k in keys}
    if dimension in ("weekday", "weekdays"):
        return {k: weekday(int(k), locale) for k in keys}
    if dimension in ("hour", "hours"):
        return {k: f"{int(k):02d}:00" for k in keys}
    if dimension in ("day", "days"):
        return {k: date.fromisoformat(k).isoformat() for k in keys}
    return {}
