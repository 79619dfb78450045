"""Settings an admin keeps: sales channels and tax rates (carriers: ``carriers_admin``).

Built-in channels (``domain.orders.BUILTIN_CHANNELS``) and default tax rates
(``domain.orders.DEFAULT_TAX``) live in code; the tables hold only what the seller added or
changed, so a new default in code reaches every installation without a data migration.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from dingdan.db.engine import Database
from dingdan.db.order_tables import Channel, TaxRate
from dingdan.domain.catalog import products as catalog_rules
from dingdan.domain.fulfilment.carriers import ISO_COUNTRY_CODES
from dingdan.domain.fulfilment.pick_priority import HIGHEST, LOWEST, default_pick_priority
from dingdan.domain.orders import rules as rules
from dingdan.domain.shared import standard_webhooks
from dingdan.domain.shared.errors import Conflict, FieldErrors, NotFound, ValidationFailed
from dingdan.domain.shared.numbers import ascii_text
from dingdan.services.catalog.shapes import (
    ChannelChanges,
    ChannelCommand,
    ChannelList,
    ChannelView,
    TaxRateCommand,
    TaxRateList,
    TaxRateView,
    TaxRuleView,
)
from dingdan.services.shared.common import Actor, audit, iso

# Lower-case so that "Shopee" and "shopee" can never be two channels of one order table.
CHANNEL_CODE_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{0,31}$")
BUILTIN_CHANNEL_NAMES = {
    "web": "Web shop",
    "app": "App",
    "phone": "Phone",
    "store": "Store",
    "marketplace": "Marketplace",
    "email": "Email",
}
# How a channel's orders arrive: typed in, or by a signed webhook (issue 21).
CHANNEL_KINDS = ("manual", "shopify", "woocommerce", "standard")
# Classes whose rate can be set; "zero" and "exempt" are 0% by definition (domain.orders).
SETTABLE_TAX_CLASSES = ("standard", "reduced")
RATE_RE = re.compile(r"^[0-9]{1,3}(\.[0-9]{1,4})?$", re.ASCII)
PPM_PER_PERCENT = 10_000


# ---- channels ----------------------------------------------------------------------------


def _channel_view(code: str, row: Any | None) -> ChannelView:
    builtin = code in rules.BUILTIN_CHANNELS
    return {
        "code": code,
        "name": row.name if row is not None else BUILTIN_CHANNEL_NAMES.get(code, code),
        "builtin": builtin,
        "active": True if builtin or row is None else bool(row.active),
        "kind": (row.kind if row is not None else None) or "manual",
        "pick_priority": (
            row.pick_priority
            if row is not None and row.pick_priority is not None
            else default_pick_priority(code)
        ),
        "created_at": iso(row.created_at) if row is not None else None,
        "updated_at": iso(row.updated_at) if row is not None else None,
    }


def _channel_rows(conn: Connection) -> dict[str, Any]:
    return {r.code: r for r in conn.execute(select(Channel).order_by(Channel.code))}


def list_channels(db: Database, *, active: bool | None = None) -> ChannelList:
    """Built-ins first (in their fixed order), then the seller's channels by code."""

    def work(conn: Connection) -> ChannelList:
        rows = _channel_rows(conn)
        codes = list(rules.BUILTIN_CHANNELS) + [c for c in rows if c not in rules.BUILTIN_CHANNELS]
        items = [_channel_view(c, rows.get(c)) for c in codes]
        if active is not None:
            items = [i for i in items if i["active"] is active]
        return {"items": items, "next_cursor": None}

    return db.read(work)


def _channel_name(data: Mapping[str, object], errors: FieldErrors, *, required: bool) -> None:
    if required or "name" in data:
        catalog_rules.check_text(data.get("name"), "name", errors, max_len=100, required=True)


def create_channel(db: Database, actor: Actor, data: ChannelCommand) -> ChannelView:
    errors = FieldErrors()
    code = data.get("code")
    if not isinstance(code, str) or not CHANNEL_CODE_RE.match(code):
        errors.add("code", "invalid_code", max=32)
    _channel_name(data, errors, required=True)
    kind = data.get("kind") or "manual"
    secret = data.get("webhook_secret")
    if kind not in CHANNEL_KINDS:
        errors.add("kind", "not_one_of", choices=", ".join(CHANNEL_KINDS))
    elif kind != "manual":
        if not isinstance(secret, str) or not 8 <= len(secret) <= 200:
            errors.add("webhook_secret", "required_text", max=200)
        elif kind == "standard" and not standard_webhooks.is_secret(secret):
            errors.add("webhook_secret", "not_a_webhook_secret")
    errors.raise_if_any()
    code = str(code)
    name = str(data.get("name")).strip()  # checked text
    secret = secret if kind != "manual" else None

    def work(conn: Connection) -> ChannelView:
        taken = (
            code in rules.BUILTIN_CHANNELS
            or conn.execute(select(Channel.id).where(Channel.code == code)).first()
        )
        if taken:
            raise Conflict(detail=f"A channel with code {code!r} already exists.")
        conn.execute(
            insert(Channel).values(
                code=code, name=name, builtin=False, active=True, kind=kind, webhook_secret=secret
            )
        )
        view = _channel_view(code, _channel_rows(conn)[code])
        audit(conn, actor, "create", "channel", code, after=view)
        return view

    return db.write(work)


def update_channel(db: Database, actor: Actor, code: str, data: ChannelChanges) -> ChannelView:
    """``name``, ``active`` and ``pick_priority`` (null: the default); a built-in may be
    renamed but never deactivated."""
    errors = FieldErrors()
    _channel_name(data, errors, required=False)
    priority = data.get("pick_priority")
    if priority is not None and (
        not isinstance(priority, int)
        or isinstance(priority, bool)
        or not LOWEST <= priority <= HIGHEST
    ):
        errors.add("pick_priority", "out_of_range", min=LOWEST, max=HIGHEST)
    active = data.get("active")
    if "active" in data and not isinstance(active, bool):
        errors.add("active", "not_a_boolean")
    errors.raise_if_any()
    if not CHANNEL_CODE_RE.match(code):
        raise NotFound(detail=f"No channel with code {code!r}.")
    builtin = code in rules.BUILTIN_CHANNELS
    if builtin and active is False:
        raise Conflict(detail=f"{code!r} is a built-in channel; it cannot be deactivated.")

    def work(conn: Connection) -> ChannelView:
        row = _channel_rows(conn).get(code)
        if row is None and not builtin:
            raise NotFound(detail=f"No channel with code {code!r}.")
        before = _channel_view(code, row)
        changes: dict[str, Any] = {
            k: data[k] for k in ("name", "active") if k in data and not builtin
        }
        if "name" in data:
            changes["name"] = str(data["name"]).strip()  # checked text
        if "pick_priority" in data:
            changes["pick_priority"] = priority
        if row is None and changes:  # a built-in's first rename stores its row
            start = {"name": before["name"]} | changes
            conn.execute(insert(Channel).values(code=code, builtin=True, active=True, **start))
        elif changes:
            conn.execute(update(Channel).where(Channel.code == code).values(**changes))
        after = _channel_view(code, _channel_rows(conn).get(code))
        audit(conn, actor, "update", "channel", code, before=before, after=after)
        return after

    return db.write(work)


# ---- tax rates ---------------------------------------------------------------------------


def format_rate(rate_ppm: int) -> str:
    """Parts per million as a percent string without trailing zeros: 50000 → "5", 55000 →
    "5.5"."""
    text = f"{Decimal(rate_ppm) / PPM_PER_PERCENT:.4f}".rstrip("0").rstrip(".")
    return text or "0"


def parse_rate(rate: Any, field: str = "rate") -> int:
    """A percent string with at most 4 decimals, 0 to 100, as parts per million."""
    if isinstance(rate, str):
        rate = ascii_text(rate)  # full-width digits are digits; no other script's are
    if not isinstance(rate, str) or not RATE_RE.match(rate):
        raise ValidationFailed.on(field, "invalid_percent")
    ppm = int(Decimal(rate) * PPM_PER_PERCENT)
    if ppm > 100 * PPM_PER_PERCENT:
        raise ValidationFailed.on(field, "not_at_most", max=100)
    return ppm


def _rule_view(rule: rules.TaxRule | None) -> TaxRuleView | None:
    if rule is None:
        return None
    return {"rate": format_rate(rule.rate_ppm), "prices_include_tax": rule.prices_include_tax}


def _tax_view(
    country: str, tax_class: str, override: rules.TaxRule | None, updated_at: Any = None
) -> TaxRateView:
    default = rules.DEFAULT_TAX.get((country, tax_class))
    effective = override or default
    assert effective is not None
    return {
        "country": country,
        "tax_class": tax_class,
        "rate": format_rate(effective.rate_ppm),
        "prices_include_tax": effective.prices_include_tax,
        "source": "override" if override is not None else "default",
        "default": _rule_view(default),
        "updated_at": iso(updated_at),
    }


def list_tax_rates(db: Database) -> TaxRateList:
    """Every default and every override, by country and class; ``source`` says which applies."""

    def work(conn: Connection) -> TaxRateList:
        rows = {(r.country, r.tax_class): r for r in conn.execute(select(TaxRate))}
        keys = sorted(set(rules.DEFAULT_TAX) | set(rows))
        items = []
        for key in keys:
            row = rows.get(key)
            override = rules.TaxRule(row.rate_ppm, row.prices_include_tax) if row else None
            country, tax_class = key
            items.append(_tax_view(country, tax_class, override, row.updated_at if row else None))
        return {"items": items, "next_cursor": None}

    return db.read(work)


def _check_tax_key(country: Any, tax_class: Any, errors: FieldErrors) -> None:
    if country not in ISO_COUNTRY_CODES:
        errors.add("country", "invalid_country")
    if tax_class not in SETTABLE_TAX_CLASSES:
        errors.add("tax_class", "not_one_of", choices=", ".join(SETTABLE_TAX_CLASSES))


def set_tax_rate(
    db: Database, actor: Actor, country: str, tax_class: str, data: TaxRateCommand
) -> TaxRateView:
    errors = FieldErrors()
    _check_tax_key(country, tax_class, errors)
    include = data.get("prices_include_tax")
    if not isinstance(include, bool):
        errors.add("prices_include_tax", "not_a_boolean")
    try:
        ppm = parse_rate(data.get("rate"))
    except ValidationFailed as exc:
        errors.items.extend(exc.errors)
    errors.raise_if_any()
    rule = rules.TaxRule(ppm, bool(include))

    def work(conn: Connection) -> TaxRateView:
        key = (TaxRate.country == country, TaxRate.tax_class == tax_class)
        row = conn.execute(select(TaxRate).where(*key)).first()
        values = {"rate_ppm": rule.rate_ppm, "prices_include_tax": rule.prices_include_tax}
        if row is None:
            conn.execute(insert(TaxRate).values(country=country, tax_class=tax_class, **values))
        else:
            conn.execute(update(TaxRate).where(*key).values(**values))
        updated = conn.execute(select(TaxRate.updated_at).where(*key)).scalar_one()
        view = _tax_view(country, tax_class, rule, updated)
        audit(conn, actor, "set", "tax_rate", f"{country}/{tax_class}", after=view)
        return view

    try:
        return db.write(work)
    except Conflict:  # a concurrent first PUT of the same key inserted it: now it updates
        return db.write(work)


def delete_tax_rate(db: Database, actor: Actor, country: str, tax_class: str) -> None:
    """Removes the seller's rate; the default (if any) applies again."""
    if country not in ISO_COUNTRY_CODES or tax_class not in SETTABLE_TAX_CLASSES:
        raise NotFound(detail=f"No tax rate of your own for {country}/{tax_class}.")

    def work(conn: Connection) -> None:
        key = (TaxRate.country == country, TaxRate.tax_class == tax_class)
        if conn.execute(delete(TaxRate).where(*key)).rowcount == 0:
            raise NotFound(detail=f"No tax rate of your own for {country}/{tax_class}.")
        audit(conn, actor, "delete", "tax_rate", f"{country}/{tax_class}")

    db.write(work)
