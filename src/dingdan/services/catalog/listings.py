"""Channel listings (issue 21, part 9): which variants of a style each channel sells, with the
channel's own SKU for each.

"Sells" is the SKU subset of the channel's stock rule (services/catalog/channel_stock.py),
not a second list: a SKU a channel does not list is one ``GET /api/v1/channels/{code}/stock``
offers it none of. A channel whose rule has no subset sells every SKU; unlisting one SKU
there writes the subset out (every other SKU, at most ``channel_stock.MAX_SUBSET``). The
channel's SKU is a SKU alias (``channel_sku_aliases``, the ones inbound orders and imports
map through): setting one adds it; earlier ones stay, so updates of older orders still map.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, insert, select, update

from dingdan.db.engine import Database
from dingdan.db.inbound_tables import ChannelSkuAlias
from dingdan.db.style_tables import ProductStyle, ProductVariant
from dingdan.db.tables import Product
from dingdan.domain.shared.errors import FieldErrors, NotFound, ValidationFailed
from dingdan.domain.shared.text import check_clean
from dingdan.services.catalog import channel_stock, channels_and_taxes
from dingdan.services.catalog.shapes import (
    ChannelListingItem,
    ChannelListingView,
    ListingCommand,
    ListingView,
    SkuListingItem,
    SkuListingsView,
    StyleListingsView,
)
from dingdan.services.shared.common import Actor, audit

CHANNEL_SKU_LEN = 100


def _variant_skus(conn: Connection, code: str) -> list[str]:
    style_id = conn.execute(select(ProductStyle.id).where(ProductStyle.code == code)).scalar()
    if style_id is None:
        raise NotFound(detail=f"No style with code {code!r}.")
    return list(
        conn.execute(
            select(Product.sku)
            .join(ProductVariant, ProductVariant.product_id == Product.id)
            .where(ProductVariant.style_id == style_id)
            .order_by(ProductVariant.position, Product.sku)
        ).scalars()
    )


def _aliases(conn: Connection, skus: list[str]) -> dict[tuple[str, str], list[str]]:
    out: dict[tuple[str, str], list[str]] = defaultdict(list)
    stmt = (
        select(ChannelSkuAlias.channel, ChannelSkuAlias.sku, ChannelSkuAlias.channel_sku)
        .where(ChannelSkuAlias.sku.in_(skus))
        .order_by(ChannelSkuAlias.id)
    )
    for channel, sku, channel_sku in conn.execute(stmt):
        out[(channel, sku)].append(channel_sku)
    return out


def _listings(conn: Connection, skus: list[str]) -> list[ChannelListingView]:
    rows = channels_and_taxes._channel_rows(conn)
    aliases = _aliases(conn, skus)
    out: list[ChannelListingView] = []
    for rule in channel_stock.active_rules(conn):
        out.append(
            {
                "channel": rule.channel,
                "name": channels_and_taxes._channel_view(rule.channel, rows.get(rule.channel))[
                    "name"
                ],
                "every_sku": rule.skus is None,
                "variants": [
                    {
                        "sku": sku,
                        "listed": rule.skus is None or sku in rule.skus,
                        "channel_skus": aliases.get((rule.channel, sku), []),
                    }
                    for sku in skus
                ],
            }
        )
    return out


def style_listings(db: Database, code: str) -> StyleListingsView:
    """``{"style", "channels": [{"channel", "name", "every_sku", "variants": [{"sku",
    "listed", "channel_skus"}]}]}`` for every active channel."""

    def work(conn: Connection) -> StyleListingsView:
        return {"style": code, "channels": _listings(conn, _variant_skus(conn, code))}

    return db.read(work)


def sku_listings(db: Database, sku: str) -> list[ChannelListingView]:
    """The same for one SKU (a simple product's page)."""

    def work(conn: Connection) -> list[ChannelListingView]:
        if conn.execute(select(Product.id).where(Product.sku == sku)).first() is None:
            raise NotFound(detail=f"No product with SKU {sku!r}.")
        return _listings(conn, [sku])

    return db.read(work)


def product_listings(db: Database, sku: str) -> SkuListingsView:
    """Per active channel, whether it sells the SKU and its own SKUs for it (the API's
    ``GET /products/{sku}/listings``; a style's variants are listed per style as well)."""
    return {"sku": sku, "channels": sku_listings(db, sku)}


def _check(listed: Any, channel_sku: Any) -> str | None:
    errors = FieldErrors()
    if not isinstance(listed, bool):
        errors.add("listed", "not_one_of", choices="true, false")
    if channel_sku is not None:
        if not isinstance(channel_sku, str) or len(channel_sku.strip()) > CHANNEL_SKU_LEN:
            errors.add("channel_sku", "at_most_characters", max=CHANNEL_SKU_LEN)
        else:
            check_clean(channel_sku, "channel_sku", errors)
    errors.raise_if_any()
    return channel_sku.strip() or None if isinstance(channel_sku, str) else None


def _subset(conn: Connection, rule: channel_stock.Rule, sku: str, listed: bool) -> Any:
    """The rule's SKU subset with ``sku`` in or out (None: every SKU)."""
    if rule.skus is None:
        if listed:
            return None
        every = set(conn.execute(select(Product.sku)).scalars())
        skus = sorted(every - {sku})
    else:
        skus = sorted(rule.skus | {sku}) if listed else sorted(rule.skus - {sku})
    if len(skus) > channel_stock.MAX_SUBSET:
        raise ValidationFailed.on("listed", "too_many_items", max=channel_stock.MAX_SUBSET)
    return skus


def save_alias(conn: Connection, channel: str, channel_sku: str, sku: str) -> None:
    """``channel_sku`` of ``channel`` stands for ``sku`` (replacing what it stood for)."""
    found = conn.execute(
        select(ChannelSkuAlias.id).where(
            ChannelSkuAlias.channel == channel, ChannelSkuAlias.channel_sku == channel_sku
        )
    ).first()
    if found:
        conn.execute(update(ChannelSkuAlias).where(ChannelSkuAlias.id == found.id).values(sku=sku))
    else:
        conn.execute(
            insert(ChannelSkuAlias).values(channel=channel, channel_sku=channel_sku, sku=sku)
        )


def _apply(
    conn: Connection, actor: Actor, channel: str, sku: str, listed: bool, channel_sku: str | None
) -> ListingView:
    rule = channel_stock.rule_of(conn, channel)
    if conn.execute(select(Product.id).where(Product.sku == sku)).first() is None:
        raise NotFound(detail=f"No product with SKU {sku!r}.")
    before = rule.skus is None or sku in rule.skus
    if before != listed:
        skus = _subset(conn, rule, sku, listed)
        channel_stock.save_rule(conn, channel, rule.buffer, skus, _sorted(rule.locations))
    if channel_sku:
        save_alias(conn, channel, channel_sku, sku)
    after = {"listed": listed, "channel_sku": channel_sku}
    audit(conn, actor, "set", "channel_listing", f"{channel}:{sku}", {"listed": before}, after)
    return {
        "channel": channel,
        "sku": sku,
        "listed": listed,
        "channel_skus": _aliases(conn, [sku]).get((channel, sku), []),
    }


def set_listing(
    db: Database, actor: Actor, channel: str, sku: str, data: ListingCommand
) -> ListingView:
    """``{"listed": bool, "channel_sku"?: text}``: whether the channel sells ``sku``, and
    its SKU for it there. Returns ``{"channel", "sku", "listed", "channel_skus"}``."""
    channel_sku = _check(data.get("listed"), data.get("channel_sku"))
    listed = bool(data.get("listed"))
    return db.write(lambda conn: _apply(conn, actor, channel, sku, listed, channel_sku))


def _checked_items(
    items: Sequence[Mapping[str, object]], name: str
) -> list[tuple[Any, bool, str | None]]:
    """``(item[name], listed, channel SKU)`` of each item; every refusal at once, under
    ``items[i].field``."""
    errors = FieldErrors()
    checked = []
    for i, item in enumerate(items):
        try:
            csku = _check(item["listed"], item.get("channel_sku"))
            checked.append((item[name], bool(item["listed"]), csku))
        except ValidationFailed as exc:
            for e in exc.errors:
                errors.add(f"items[{i}].{e.field}", e.code, **e.params)
    errors.raise_if_any()
    return checked


def set_listings(
    db: Database, actor: Actor, channel: str, items: list[SkuListingItem]
) -> list[ListingView]:
    """Several SKUs of one channel at once (a style's variants), all or none:
    ``[{"sku", "listed", "channel_sku"?}]``."""
    checked = _checked_items(items, "sku")

    def work(conn: Connection) -> list[ListingView]:
        return [_apply(conn, actor, channel, sku, listed, csku) for sku, listed, csku in checked]

    return db.write(work)


def set_sku_listings(
    db: Database, actor: Actor, sku: str, items: list[ChannelListingItem]
) -> list[ListingView]:
    """One SKU on several channels at once (a simple product's page), all or none:
    ``[{"channel", "listed", "channel_sku"?}]``."""
    checked = _checked_items(items, "channel")

    def work(conn: Connection) -> list[ListingView]:
        return [_apply(conn, actor, ch, sku, listed, csku) for ch, listed, csku in checked]

    return db.write(work)


def _sorted(values: frozenset[str] | None) -> list[str] | None:
    return sorted(values) if values is not None else None
