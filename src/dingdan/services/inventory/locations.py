"""Warehouses and stores that hold stock; lower ``priority`` is tried first when sourcing."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Row, insert, select, update

from dingdan.db.engine import Database
from dingdan.db.tables import Location
from dingdan.domain.catalog import products as rules
from dingdan.domain.shared import regions
from dingdan.domain.shared.errors import Conflict, FieldErrors, NotFound
from dingdan.domain.shared.numbers import MAX_INT
from dingdan.services.inventory.shapes import LocationCommand, LocationView
from dingdan.services.shared.common import (
    Actor,
    Page,
    audit,
    check_limit,
    decode_cursor,
    iso,
    page_of,
)

_TEXT = {"line1": 300, "line2": 300, "city": 100, "region": 100, "postal_code": 20, "phone": 20}
EDITABLE = {"name", "kind", "country", "priority", "active", "regions", *_TEXT}


def location_view(loc: Row[Any] | Any) -> LocationView:
    return {
        "id": str(loc.id),
        "code": loc.code,
        "name": loc.name,
        "kind": loc.kind,
        "line1": loc.line1,
        "line2": loc.line2,
        "city": loc.city,
        "region": loc.region,
        "postal_code": loc.postal_code,
        "country": loc.country,
        "phone": loc.phone,
        "priority": loc.priority,
        "active": loc.active,
        "regions": list(loc.regions or []),
        "created_at": iso(loc.created_at),
        "updated_at": iso(loc.updated_at),
    }


def _columns(data: LocationCommand, *, creating: bool) -> dict[str, Any]:
    import pycountry

    errors = FieldErrors()
    if creating:
        rules.check_code(data.get("code"), "code", errors)
    if creating or "name" in data:
        rules.check_text(data.get("name"), "name", errors, max_len=200, required=True)
    if creating or "country" in data:
        country = data.get("country")
        if not (
            isinstance(country, str)
            and len(country) == 2
            and country.isupper()
            and pycountry.countries.get(alpha_2=country)
        ):
            errors.add("country", "invalid_country")
    for name, max_len in _TEXT.items():
        rules.check_text(data.get(name), name, errors, max_len=max_len, required=False)
    if "kind" in data and data["kind"] not in rules.LOCATION_KINDS:
        errors.add("kind", "not_one_of", choices=", ".join(rules.LOCATION_KINDS))
    priority = data.get("priority")
    if priority is not None and (isinstance(priority, bool) or not isinstance(priority, int)):
        errors.add("priority", "not_a_whole_number")
    elif priority is not None and abs(priority) > MAX_INT:
        errors.add("priority", "too_large" if priority > 0 else "too_small", min=-MAX_INT)
    if "regions" in data:
        data = {**data, "regions": regions.check_regions(data["regions"], "regions", errors)}
    errors.raise_if_any()
    cols = {k: v for k, v in data.items() if k in EDITABLE and not (k == "priority" and v is None)}
    if creating:
        cols["code"] = data["code"]
    return cols


def fetch(conn: Connection, code: str, field: str | None = None) -> Row[Any]:
    """The location named ``code``; a body ``field`` naming an unknown one is a 422."""
    row = conn.execute(select(Location).where(Location.code == code)).first()
    if row is None:
        if field:
            from dingdan.domain.shared.errors import ValidationFailed

            raise ValidationFailed.on(field, "unknown_location", location=code)
        raise NotFound(detail=f"No location with code {code!r}.")
    return row


def receiving(conn: Connection, code: str, field: str) -> Row[Any]:
    """The active location named ``code`` in a body's ``field``, where stock may arrive: a
    deactivated one takes none (nothing would source orders from it)."""
    row = fetch(conn, code, field=field)
    if not row.active:
        from dingdan.domain.shared.errors import ValidationFailed

        raise ValidationFailed.on(field, "inactive_location", location=code)
    return row


def create_location(db: Database, actor: Actor, data: LocationCommand) -> LocationView:
    cols = _columns(data, creating=True)

    def work(conn: Connection) -> LocationView:
        if conn.execute(select(Location.id).where(Location.code == cols["code"])).first():
            raise Conflict(detail=f"A location with code {cols['code']!r} already exists.")
        conn.execute(insert(Location).values(**cols))
        view = location_view(fetch(conn, cols["code"]))
        audit(conn, actor, "create", "location", view["code"], after=view)
        return view

    return db.write(work)


def get_location(db: Database, code: str) -> LocationView:
    return db.read(lambda conn: location_view(fetch(conn, code)))


def update_location(db: Database, actor: Actor, code: str, data: LocationCommand) -> LocationView:
    cols = _columns(data, creating=False)

    def work(conn: Connection) -> LocationView:
        before = location_view(fetch(conn, code))
        if cols:
            conn.execute(update(Location).where(Location.code == code).values(**cols))
        after = location_view(fetch(conn, code))
        audit(conn, actor, "update", "location", code, before=before, after=after)
        return after

    return db.write(work)


def list_locations(
    db: Database, *, active: bool | None = None, limit: int = 50, cursor: str | None = None
) -> Page:
    check_limit(limit)
    after = decode_cursor(cursor, int, str)
    stmt = select(Location).order_by(Location.priority, Location.code).limit(limit + 1)
    if active is not None:
        stmt = stmt.where(Location.active == active)
    if after:
        prio, code = int(after[0]), str(after[1])
        stmt = stmt.where(
            (Location.priority > prio) | ((Location.priority == prio) & (Location.code > code))
        )
    rows = db.read(lambda conn: list(conn.execute(stmt)))
    return page_of(rows, limit, location_view, lambda r: (r.priority, r.code))
