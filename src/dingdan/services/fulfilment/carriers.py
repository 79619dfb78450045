"""Carriers a seller ships with: the defaults of ``domain.carriers`` merged with the
``carriers`` table, where the seller adds carriers and changes or deactivates defaults.

A row whose code is a default's overrides that default (name, format, link, active); any other
row is the seller's own carrier.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection, insert, select, update

from dingdan.db.engine import Database
from dingdan.db.order_tables import CarrierRow
from dingdan.domain.catalog import products as catalog_rules
from dingdan.domain.fulfilment import carriers as known
from dingdan.domain.shared import standard_webhooks
from dingdan.domain.shared.errors import Conflict, FieldErrors, NotFound, ValidationFailed
from dingdan.services.fulfilment.shapes import (
    CarrierChanges,
    CarrierCommand,
    CarrierList,
    CarrierView,
    WebhookSecretView,
)
from dingdan.services.shared.common import Actor, audit, iso

CARRIER_CODE_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{0,49}$")
# Formats domain.carriers can check, each with a default carrier that uses it.
TRACKING_FORMATS: dict[str, str] = {
    c.tracking_format: c.code for c in known.DEFAULT_CARRIERS if c.tracking_format
}
_EDITABLE = ("name", "tracking_format", "tracking_url", "store_pickup", "active")


def _view(code: str, row: Any | None) -> CarrierView:
    default = known.get_carrier(code)
    view: CarrierView = {
        "code": code,
        "name": default.name_en if default is not None else "",
        "names": {},
        "tracking_format": default.tracking_format if default is not None else None,
        "tracking_url": default.tracking_url if default is not None else None,
        "store_pickup": default.store_pickup if default is not None else False,
        "active": True,
        "builtin": default is not None,
        "webhook_secret_set": bool(row is not None and row.webhook_secret),
        "updated_at": iso(row.updated_at) if row is not None else None,
    }
    if default is not None:
        view["names"] = {
            "en": default.name_en,
            "zh_Hant": default.name_zh_hant,
            "zh_Hans": default.name_zh_hans,
        }
    if row is not None:
        view["name"] = row.name
        view["tracking_format"] = row.tracking_format
        view["tracking_url"] = row.tracking_url
        view["store_pickup"] = row.store_pickup
        view["active"] = row.active
        if default is None or row.name != default.name_en:
            view["names"] = {"en": row.name, "zh_Hant": row.name, "zh_Hans": row.name}
    return view


def _editable(view: CarrierView) -> dict[str, object]:
    """The fields of ``view`` a carrier's row stores."""
    return {
        "name": view["name"],
        "tracking_format": view["tracking_format"],
        "tracking_url": view["tracking_url"],
        "store_pickup": view["store_pickup"],
        "active": view["active"],
    }


def _rows(conn: Connection) -> dict[str, Any]:
    return {r.code: r for r in conn.execute(select(CarrierRow).order_by(CarrierRow.code))}


def list_carriers(db: Database, *, active: bool | None = None) -> CarrierList:
    """Defaults first (in their fixed order), then the seller's carriers by code."""

    def work(conn: Connection) -> CarrierList:
        rows = _rows(conn)
        codes = [c.code for c in known.DEFAULT_CARRIERS]
        codes += [c for c in rows if known.get_carrier(c) is None]
        items = [_view(c, rows.get(c)) for c in codes]
        if active is not None:
            items = [i for i in items if i["active"] is active]
        return {"items": items, "next_cursor": None}

    return db.read(work)


def _known_code(code: str) -> str:
    """``code`` from a URL, refused as not found before it reaches the database when no
    carrier could have it."""
    if not CARRIER_CODE_RE.match(code):
        raise NotFound(detail=f"No carrier with code {code!r}.")
    return code


def get_carrier(db: Database, code: str) -> CarrierView:
    _known_code(code)

    def work(conn: Connection) -> CarrierView:
        row = conn.execute(select(CarrierRow).where(CarrierRow.code == code)).first()
        if row is None and known.get_carrier(code) is None:
            raise NotFound(detail=f"No carrier with code {code!r}.")
        return _view(code, row)

    return db.read(work)


def _check(data: Mapping[str, object], errors: FieldErrors, *, creating: bool) -> None:
    if creating or "name" in data:
        catalog_rules.check_text(data.get("name"), "name", errors, max_len=100, required=True)
    fmt = data.get("tracking_format")
    if fmt is not None and fmt not in TRACKING_FORMATS:
        errors.add("tracking_format", "not_one_of", choices=", ".join(sorted(TRACKING_FORMATS)))
    url = data.get("tracking_url")
    if url is not None and not (
        isinstance(url, str)
        and re.fullmatch(r"https?://[!-~]+", url)
        and "{number}" in url
        and len(url) <= 300
    ):
        errors.add("tracking_url", "invalid_tracking_url")
    for flag in ("store_pickup", "active"):
        if flag in data and not isinstance(data[flag], bool):
            errors.add(flag, "not_a_boolean")


def create_carrier(db: Database, actor: Actor, data: CarrierCommand) -> CarrierView:
    """A carrier of the seller's own (every field of ``data`` is checked here)."""
    errors = FieldErrors()
    code = data.get("code")
    if not isinstance(code, str) or not CARRIER_CODE_RE.match(code):
        errors.add("code", "invalid_code", max=50)
    _check(data, errors, creating=True)
    errors.raise_if_any()
    code = str(code)
    values: dict[str, object] = {k: v for k, v in data.items() if k in _EDITABLE and v is not None}
    values["name"] = str(data["name"]).strip()

    def work(conn: Connection) -> CarrierView:
        exists = conn.execute(select(CarrierRow.id).where(CarrierRow.code == code)).first()
        if exists or known.get_carrier(code) is not None:
            raise Conflict(detail=f"A carrier with code {code!r} already exists.")
        conn.execute(insert(CarrierRow).values(code=code, **values))
        view = _view(code, _rows(conn)[code])
        audit(conn, actor, "create", "carrier", code, after=view)
        return view

    return db.write(work)


def update_carrier(db: Database, actor: Actor, code: str, data: CarrierChanges) -> CarrierView:
    """Changes the given fields; a default's first change stores its row."""
    _known_code(code)
    errors = FieldErrors()
    _check(data, errors, creating=False)
    errors.raise_if_any()
    changes: dict[str, object] = {k: v for k, v in data.items() if k in _EDITABLE}
    if "name" in changes:
        changes["name"] = str(changes["name"]).strip()

    def work(conn: Connection) -> CarrierView:
        row = conn.execute(select(CarrierRow).where(CarrierRow.code == code)).first()
        default = known.get_carrier(code)
        if row is None and default is None:
            raise NotFound(detail=f"No carrier with code {code!r}.")
        before = _view(code, row)
        if row is None:
            start = _editable(before)
            conn.execute(insert(CarrierRow).values(code=code, **(start | changes)))
        elif changes:
            conn.execute(update(CarrierRow).where(CarrierRow.code == code).values(**changes))
        after = _view(code, _rows(conn)[code])
        audit(conn, actor, "update", "carrier", code, before=before, after=after)
        return after

    return db.write(work)


def set_webhook_secret(
    db: Database, actor: Actor, code: str, secret: object = None
) -> WebhookSecretView:
    """The ``whsec_`` secret the carrier signs its tracking webhooks with: ``secret`` when
    given (one the carrier issued), else a new random one. Shown only in this answer; the
    old one stops working at once."""
    _known_code(code)
    if secret is not None and not standard_webhooks.is_secret(secret):
        raise ValidationFailed.on("secret", "not_a_webhook_secret")
    value = str(secret) if secret is not None else standard_webhooks.new_secret()

    def work(conn: Connection) -> WebhookSecretView:
        row = conn.execute(select(CarrierRow).where(CarrierRow.code == code)).first()
        if row is None and known.get_carrier(code) is None:
            raise NotFound(detail=f"No carrier with code {code!r}.")
        if row is None:
            start = _editable(_view(code, None))
            conn.execute(insert(CarrierRow).values(code=code, webhook_secret=value, **start))
        else:
            conn.execute(
                update(CarrierRow).where(CarrierRow.code == code).values(webhook_secret=value)
            )
        audit(conn, actor, "update", "carrier", code, after={"webhook_secret": "(new)"})
        return {"code": code, "secret": value}

    return db.write(work)


def resolve_carrier(conn: Connection, code: Any) -> tuple[str, str | None]:
    """The carrier's code and tracking format, for a shipment naming ``code`` or a carrier's
    name (any case). A carrier the settings do not know fails on the field ``carrier``
    (``unknown_carrier``): kept as written it became a carrier of its own in the reports, one
    per spelling. A seller's own courier is added in the settings first. A deactivated one
    fails too (``inactive_carrier``)."""
    if not isinstance(code, str) or not code.strip() or len(code) > 50:
        raise ValidationFailed.on("carrier", "required_text", max=50)
    if any(ord(ch) < 32 for ch in code):
        raise ValidationFailed.on("carrier", "control_characters")
    wanted = _by_name(conn, code.strip()) or code.strip().lower()
    row = conn.execute(select(CarrierRow).where(CarrierRow.code == wanted)).first()
    if row is None and known.get_carrier(wanted) is None:
        raise ValidationFailed.on("carrier", "unknown_carrier", carrier=code.strip())
    view = _view(wanted, row)
    if not view["active"]:
        raise ValidationFailed.on("carrier", "inactive_carrier", carrier=wanted)
    return wanted, view["tracking_format"]


def _by_name(conn: Connection, text: str) -> str | None:
    """The code of the carrier whose code or name (in any language) is ``text``."""
    folded = text.casefold()
    for code, row in _rows(conn).items():
        view = _view(code, row)
        names = [view["name"], *view["names"].values()]
        if folded == code.casefold() or folded in (str(n).casefold() for n in names if n):
            return code
    for carrier in known.DEFAULT_CARRIERS:
        known_names = (carrier.code, carrier.name_en, carrier.name_zh_hant, carrier.name_zh_hans)
        if folded in (n.casefold() for n in known_names):
            return carrier.code
    return None


def check_tracking_number(code: str, tracking_format: str | None, number: Any) -> str:
    """The normalised tracking number if ``tracking_format`` accepts it (None: the generic
    check), else ValidationFailed on ``tracking_number``."""
    if not isinstance(number, str) or not number.strip() or len(number) > 60:
        raise ValidationFailed.on("tracking_number", "too_long", max=60)
    if tracking_format is None:
        checker = "other"
    elif known.get_carrier(code) is not None and _default_format(code) == tracking_format:
        checker = code
    else:
        checker = TRACKING_FORMATS[tracking_format]
    return known.validate_tracking_number(checker, number)


def _default_format(code: str) -> str | None:
    default = known.get_carrier(code)
    return default.tracking_format if default is not None else None


def shipment_carrier(conn: Connection, carrier: Any, tracking: Any) -> tuple[str, str | None]:
    """What ``fulfilment.create_shipment`` stores: the carrier's code and the normalised
    tracking number (or None when none was given)."""
    code, tracking_format = resolve_carrier(conn, carrier)
    if tracking is None:
        return code, None
    return code, check_tracking_number(code, tracking_format, tracking)
