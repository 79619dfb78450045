"""Stock for channels (issue 21, part 7): per channel a buffer (units or percent) and an
optional subset of SKUs and locations; what each channel may sell per SKU
(``GET /api/v1/channels/{code}/stock``, with a strong ETag made from the numbers), and the
same numbers for the ``inventory.changed`` event (services/inventory/channel_feed.py).

A channel without a rule sells every SKU from every active location with no buffer. The
arithmetic is ``domain.catalog.channel_stock.may_sell``.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, select
from sqlalchemy.dialects import postgresql, sqlite

from dingdan.db.channel_tables import ChannelStockRule
from dingdan.db.engine import Database
from dingdan.db.order_tables import Channel
from dingdan.db.tables import Location, Product, StockLevel
from dingdan.db.types import utcnow
from dingdan.domain.catalog.channel_stock import BUFFER_KINDS, MAX_BUFFER_UNITS, Buffer, may_sell
from dingdan.domain.orders import rules
from dingdan.domain.shared.errors import FieldErrors, NotFound
from dingdan.services.catalog.channels_and_taxes import CHANNEL_CODE_RE
from dingdan.services.catalog.shapes import (
    ChannelNumbers,
    ChannelStockItem,
    ChannelStockPage,
    ChannelStockView,
    SkuChannelNumbers,
    StockRuleCommand,
    StockRuleView,
)
from dingdan.services.shared.common import (
    Actor,
    audit,
    check_limit,
    decode_cursor,
    encode_cursor,
    iso,
)

MAX_SUBSET = 1000  # SKUs or locations a rule may name


@dataclass(frozen=True)
class Rule:
    channel: str
    buffer: Buffer = Buffer()
    skus: frozenset[str] | None = None
    locations: frozenset[str] | None = None
    updated_at: Any = None

    def view(self) -> StockRuleView:
        return {
            "channel": self.channel,
            "buffer_kind": self.buffer.kind,
            "buffer": self.buffer.value,
            "skus": sorted(self.skus) if self.skus is not None else None,
            "locations": sorted(self.locations) if self.locations is not None else None,
            "updated_at": iso(self.updated_at),
        }


def _rule(code: str, row: Any | None) -> Rule:
    if row is None:
        return Rule(code)
    return Rule(
        code,
        Buffer(row.buffer_kind, int(row.buffer_value)),
        frozenset(row.skus) if row.skus is not None else None,
        frozenset(row.locations) if row.locations is not None else None,
        row.updated_at,
    )


def _known(conn: Connection, code: str) -> bool:
    if code in rules.BUILTIN_CHANNELS:
        return True
    return conn.execute(select(Channel.id).where(Channel.code == code)).first() is not None


def rule_of(conn: Connection, code: str) -> Rule:
    """The channel's rule; ``NotFound`` for a channel that does not exist."""
    if not CHANNEL_CODE_RE.match(code) or not _known(conn, code):
        raise NotFound(detail=f"No channel with code {code!r}.")
    row = conn.execute(select(ChannelStockRule).where(ChannelStockRule.channel == code)).first()
    return _rule(code, row)


def active_rules(conn: Connection) -> list[Rule]:
    """Every active channel's rule: the built-ins first, then the seller's channels by code."""
    codes = list(rules.BUILTIN_CHANNELS)
    codes += [
        c
        for c in conn.execute(
            select(Channel.code).where(Channel.active.is_(True)).order_by(Channel.code)
        ).scalars()
        if c not in rules.BUILTIN_CHANNELS
    ]
    rows = {r.channel: r for r in conn.execute(select(ChannelStockRule))}
    return [_rule(c, rows.get(c)) for c in codes]


def rule_views(db: Database) -> dict[str, StockRuleView]:
    """Every channel's rule as ``get_rule`` shows it, by code (a channel without a row has
    the default), for the channels page."""

    def work(conn: Connection) -> dict[str, StockRuleView]:
        rows = {r.channel: r for r in conn.execute(select(ChannelStockRule))}
        codes = set(rules.BUILTIN_CHANNELS) | set(conn.execute(select(Channel.code)).scalars())
        return {c: _rule(c, rows.get(c)).view() for c in codes}

    return db.read(work)


def get_rule(db: Database, code: str) -> StockRuleView:
    return db.read(lambda conn: rule_of(conn, code).view())


def _check_subset(value: Any, field: str, errors: FieldErrors) -> list[str] | None:
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        errors.add(field, "not_a_list")
        return None
    if len(value) > MAX_SUBSET:
        errors.add(field, "too_many_items", max=MAX_SUBSET)
        return None
    return sorted(set(value))


def _check_rule(data: Mapping[str, object]) -> tuple[Buffer, list[str] | None, list[str] | None]:
    errors = FieldErrors()
    kind = data.get("buffer_kind") or "units"
    value = data.get("buffer", 0)
    if kind not in BUFFER_KINDS:
        errors.add("buffer_kind", "not_one_of", choices=", ".join(BUFFER_KINDS))
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        errors.add("buffer", "below_zero")
    elif kind == "percent" and value > 100:
        errors.add("buffer", "not_at_most", max=100)
    elif value > MAX_BUFFER_UNITS:
        errors.add("buffer", "not_at_most", max=MAX_BUFFER_UNITS)
    skus = _check_subset(data.get("skus"), "skus", errors)
    locations = _check_subset(data.get("locations"), "locations", errors)
    errors.raise_if_any()
    assert isinstance(value, int)  # refused above when not
    return Buffer(str(kind), int(value)), skus, locations


def _check_names(conn: Connection, skus: list[str] | None, locations: list[str] | None) -> None:
    errors = FieldErrors()
    if skus:
        found = set(conn.execute(select(Product.sku).where(Product.sku.in_(skus))).scalars())
        for i, sku in enumerate(skus):
            if sku not in found:
                errors.add(f"skus[{i}]", "unknown_sku", sku=sku)
    if locations:
        found = set(
            conn.execute(select(Location.code).where(Location.code.in_(locations))).scalars()
        )
        for i, code in enumerate(locations):
            if code not in found:
                errors.add(f"locations[{i}]", "unknown_location", location=code)
    errors.raise_if_any("The rule names SKUs or locations that do not exist.")


def set_rule(db: Database, actor: Actor, code: str, data: StockRuleCommand) -> StockRuleView:
    """Replaces the channel's rule: ``buffer_kind`` ("units" | "percent"), ``buffer`` (a
    whole number; percent at most 100), ``skus`` and ``locations`` (null: all)."""
    buffer, skus, locations = _check_rule(data)

    def work(conn: Connection) -> StockRuleView:
        before = rule_of(conn, code).view()
        _check_names(conn, skus, locations)
        save_rule(conn, code, buffer, skus, locations)
        after = rule_of(conn, code).view()
        audit(conn, actor, "set", "channel_stock_rule", code, before, after)
        return after

    return db.write(work)


def save_rule(
    conn: Connection,
    code: str,
    buffer: Buffer,
    skus: list[str] | None,
    locations: list[str] | None,
) -> None:
    """Writes the channel's rule (checked by the caller); the channel listings
    (services/catalog/listings.py) change its SKU subset through it too."""
    values = {
        "buffer_kind": buffer.kind,
        "buffer_value": buffer.value,
        "skus": skus,
        "locations": locations,
        "updated_at": utcnow(),
    }
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    conn.execute(
        dialect.insert(ChannelStockRule)
        .values(channel=code, **values)
        .on_conflict_do_update(index_elements=["channel"], set_=values)
    )


# ---- the numbers -------------------------------------------------------------------------


def _levels(conn: Connection, product_ids: Iterable[int] | None) -> dict[int, dict[str, int]]:
    """Available (on hand less reserved) per product and active location code."""
    stmt = (
        select(StockLevel.product_id, Location.code, StockLevel.on_hand - StockLevel.reserved)
        .join(Location, Location.id == StockLevel.location_id)
        .where(Location.active.is_(True))
    )
    if product_ids is not None:
        stmt = stmt.where(StockLevel.product_id.in_(list(product_ids)))
    out: dict[int, dict[str, int]] = defaultdict(dict)
    for pid, code, available in conn.execute(stmt):
        out[int(pid)][code] = int(available)
    return out


def _numbers(rule: Rule, sku: str, active: bool, levels: dict[str, int]) -> dict[str, int]:
    """``available`` across the rule's locations and what ``may_sell`` of it."""
    available = sum(
        max(0, a) for loc, a in levels.items() if rule.locations is None or loc in rule.locations
    )
    sells = active and (rule.skus is None or sku in rule.skus)
    return {"available": available, "may_sell": may_sell(available, rule.buffer) if sells else 0}


def etag_of(numbers: Any) -> str:
    """A strong ETag made from the numbers themselves (the same numbers, the same tag)."""
    raw = json.dumps(numbers, sort_keys=True, separators=(",", ":")).encode()
    return '"' + hashlib.sha256(raw).hexdigest()[:40] + '"'


def channel_stock(
    db: Database, code: str, *, limit: int = 200, cursor: str | None = None
) -> ChannelStockView:
    """What the channel may sell of each SKU (its subset, or every product), by SKU, paged;
    ``etag`` is made from the page's numbers and the rule."""
    check_limit(limit)
    after = decode_cursor(cursor, str)

    def work(conn: Connection) -> ChannelStockView:
        rule = rule_of(conn, code)
        stmt = select(Product.id, Product.sku, Product.active).order_by(Product.sku)
        if rule.skus is not None:
            stmt = stmt.where(Product.sku.in_(sorted(rule.skus)))
        if after:
            stmt = stmt.where(Product.sku > after[0])
        products = conn.execute(stmt.limit(limit + 1)).all()
        more = len(products) > limit
        products = products[:limit]
        levels = _levels(conn, [int(p.id) for p in products])
        items: list[ChannelStockItem] = []
        for p in products:
            n = _numbers(rule, p.sku, bool(p.active), levels.get(int(p.id), {}))
            items.append({"sku": p.sku, "available": n["available"], "may_sell": n["may_sell"]})
        body: ChannelStockPage = {
            "channel": code,
            "buffer_kind": rule.buffer.kind,
            "buffer": rule.buffer.value,
            "items": items,
            "next_cursor": encode_cursor(products[-1].sku) if more and products else None,
        }
        return {**body, "etag": etag_of(body)}

    return db.read(work)


def changed_numbers(conn: Connection, product_ids: Iterable[int]) -> list[SkuChannelNumbers]:
    """The ``inventory.changed`` payloads of these products: per SKU, what is available
    across every active location and, per active channel selling it, what the channel may
    sell (the numbers ``GET /api/v1/channels/{code}/stock`` gives)."""
    ids = sorted(set(product_ids))
    if not ids:
        return []
    products = conn.execute(
        select(Product.id, Product.sku, Product.active)
        .where(Product.id.in_(ids))
        .order_by(Product.sku)
    ).all()
    levels = _levels(conn, ids)
    channels = active_rules(conn)
    out: list[SkuChannelNumbers] = []
    for p in products:
        mine = levels.get(int(p.id), {})
        out.append(
            {
                "sku": p.sku,
                "available": sum(max(0, a) for a in mine.values()),
                "channels": [
                    _channel_numbers(r, p.sku, bool(p.active), mine)
                    for r in channels
                    if r.skus is None or p.sku in r.skus
                ],
            }
        )
    return out


def _channel_numbers(rule: Rule, sku: str, active: bool, levels: dict[str, int]) -> ChannelNumbers:
    n = _numbers(rule, sku, active, levels)
    return {"channel": rule.channel, "available": n["available"], "may_sell": n["may_sell"]}
