"""Packing with scan verification: the packer scans every unit (SKU or product barcode) and
the scans must equal, unit for unit, what the order holds unshipped at that location.

A mismatch is refused with every difference listed and records nothing; a match records a
pack record and a "packed" event. ``check_pack`` answers the same comparison without
recording, so a scanner page can refuse a wrong scan the moment it is made. A shipment later
takes the latest pack record of its order and location that no shipment has taken yet.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, insert, or_, select, update

from dingdan.db.engine import Database
from dingdan.db.order_tables import Allocation, PackRecord
from dingdan.db.tables import Location, Product
from dingdan.domain.shared.errors import (
    Conflict,
    FieldError,
    InvalidTransition,
    PaymentRequired,
    ValidationFailed,
)
from dingdan.services.fulfilment import pickup
from dingdan.services.fulfilment.shapes import (
    ExpectedLineView,
    PackCheckView,
    PackCommand,
    PackDifferenceView,
    PackedLineView,
    PackRecordList,
    PackRecordView,
)
from dingdan.services.inventory import locations
from dingdan.services.orders.events import event
from dingdan.services.orders.queries import fetch
from dingdan.services.orders.risk import refuse_if_held
from dingdan.services.shared.common import Actor, iso

MAX_SCANS = 5000
MAX_CODE = 100


@dataclass
class Comparison:
    location: str
    location_id: int
    expected: Counter[str]
    scanned: Counter[str]
    unknown: Counter[str]
    products: dict[str, tuple[str, str | None]] = field(
        default_factory=dict
    )  # sku -> (name, barcode)

    def differences(self) -> list[PackDifferenceView]:
        out = []
        for sku in sorted(set(self.expected) | set(self.scanned)):
            diff = self.scanned[sku] - self.expected[sku]
            if diff < 0:
                out.append(_diff("missing", -diff, sku))
            elif diff > 0:
                kind = "extra" if sku in self.expected else "wrong_item"
                out.append(_diff(kind, diff, sku))
        for code, n in sorted(self.unknown.items()):
            out.append(_diff("unknown", n, None, code))
        return out


def _diff(kind: str, quantity: int, sku: str | None, code: str | None = None) -> PackDifferenceView:
    error = _diff_error(kind, quantity, sku, code)
    return {"kind": kind, "sku": sku, "code": code, "quantity": quantity, "message": error.message}


def _diff_error(kind: str, quantity: int, sku: str | None, code: str | None) -> FieldError:
    if kind == "missing":
        return FieldError.of("scans", "scan_missing", quantity=quantity, sku=sku)
    if kind != "unknown":
        return FieldError.of("scans", "scan_extra", quantity=quantity, sku=sku)
    if quantity > 1:
        return FieldError.of("scans", "scan_unknown_times", scan=code, times=quantity)
    return FieldError.of("scans", "scan_unknown", scan=code)


def _scans(body: PackCommand) -> list[str]:
    scans = body.get("scans")
    if not isinstance(scans, list) or len(scans) > MAX_SCANS:
        raise ValidationFailed.on("scans", "too_many_scans", max=MAX_SCANS)
    out = []
    for i, s in enumerate(scans):
        if not isinstance(s, str) or not s.strip() or len(s) > MAX_CODE or _control(s):
            raise ValidationFailed.on(f"scans[{i}]", "invalid_scan", max=MAX_CODE)
        out.append(s.strip())
    return out


def _control(text: str) -> bool:
    return any(ord(ch) < 32 or ord(ch) == 127 for ch in text)


def _held(conn: Connection, order: Any, location: Any) -> tuple[Any, Counter[str]]:
    """The location to pack at and the units unshipped there, by SKU (as for shipments:
    the location may be left out when only one holds the order's allocations)."""
    rows = conn.execute(
        select(Location.id, Location.code, Product.sku, Allocation.quantity)
        .join(Location, Location.id == Allocation.location_id)
        .join(Product, Product.id == Allocation.product_id)
        .where(Allocation.order_id == order.id)
    ).all()
    codes = sorted({r.code for r in rows})
    if location is not None:
        if not isinstance(location, str) or _control(location):
            raise ValidationFailed.on("location", "not_a_location_code")
        loc = locations.fetch(conn, location, "location")
        if loc.code not in codes:
            raise InvalidTransition(
                detail=f"Order {order.number} has nothing to pack at {loc.code}."
            )
    elif not codes:
        raise InvalidTransition(detail=f"Order {order.number} has nothing allocated to pack.")
    elif len(codes) > 1:
        raise ValidationFailed.on("location", "held_elsewhere", locations=", ".join(codes))
    else:
        loc = locations.fetch(conn, codes[0])
    expected: Counter[str] = Counter()
    for r in rows:
        if r.code == loc.code:
            expected[r.sku] += r.quantity
    return loc, expected


def _resolve(conn: Connection, scans: list[str], expected: Counter[str]) -> tuple[Any, ...]:
    """Scanned codes → SKUs. A SKU matches before a barcode; a barcode shared by several
    products means the one this order expects."""
    codes = set(scans)
    products = conn.execute(
        select(Product.sku, Product.name, Product.barcode).where(
            or_(Product.sku.in_(codes), Product.barcode.in_(codes))
        )
    ).all()
    by_sku = {p.sku: p for p in products}
    by_barcode: dict[str, str] = {}
    for p in sorted(products, key=lambda p: (p.sku not in expected, p.sku)):
        if p.barcode:
            by_barcode.setdefault(p.barcode, p.sku)
    scanned: Counter[str] = Counter()
    unknown: Counter[str] = Counter()
    for code in scans:
        sku = code if code in by_sku else by_barcode.get(code)
        if sku is None:
            unknown[code] += 1
        else:
            scanned[sku] += 1
    return scanned, unknown


def _compare(conn: Connection, order: Any, body: PackCommand) -> Comparison:
    if order.status != "open":
        raise InvalidTransition(detail=f"Order {order.number} is {order.status}; nothing to pack.")
    if order.payment_method != "cod" and order.paid_minor < order.total_minor:
        raise PaymentRequired(
            detail=f"Order {order.number} is not paid in full; it cannot be packed to ship."
        )
    refuse_if_held(conn, order.id)  # also when it was on a pick list printed before the hold
    scans = _scans(body)
    loc, expected = _held(conn, order, body.get("location") or None)
    scanned, unknown = _resolve(conn, scans, expected)
    names = conn.execute(
        select(Product.sku, Product.name, Product.barcode).where(
            Product.sku.in_(set(expected) | set(scanned))
        )
    )
    products = {r.sku: (r.name, r.barcode) for r in names}
    return Comparison(loc.code, loc.id, expected, scanned, unknown, products)


def _lines(c: Comparison, counts: Counter[str]) -> list[PackedLineView]:
    return [
        {"sku": sku, "name": c.products.get(sku, (None, None))[0], "quantity": counts[sku]}
        for sku in sorted(counts)
        if counts[sku]
    ]


def check_pack(db: Database, number: str, body: PackCommand) -> PackCheckView:
    """How the scans so far compare; ``ok`` while nothing wrong has been scanned (only
    missing units), ``complete`` when the scans match exactly. Records nothing."""

    def work(conn: Connection) -> PackCheckView:
        c = _compare(conn, fetch(conn, number), body)
        diffs = c.differences()
        expected: list[ExpectedLineView] = [
            {
                "sku": ln["sku"],
                "name": ln["name"],
                "quantity": ln["quantity"],
                "barcode": c.products.get(ln["sku"], (None, None))[1],
                "scanned": min(c.scanned[ln["sku"]], ln["quantity"]),
            }
            for ln in _lines(c, c.expected)
        ]
        return {
            "order": number,
            "location": c.location,
            "ok": all(d["kind"] == "missing" for d in diffs),
            "complete": not diffs,
            "expected": expected,
            "scanned": _lines(c, c.scanned),
            "differences": diffs,
        }

    return db.read(work)


def pack_view(conn: Connection, row: Any, number: str) -> PackRecordView:
    code = conn.execute(select(Location.code).where(Location.id == row.location_id)).scalar_one()
    return {
        "id": str(row.id),
        "order": number,
        "location": code,
        "lines": row.lines,
        "actor": row.actor,
        "shipment_id": str(row.shipment_id) if row.shipment_id is not None else None,
        "created_at": iso(row.created_at),
    }


def _already_packed(conn: Connection, order_id: int, c: Comparison, lines: Any) -> None:
    earlier = conn.execute(
        select(PackRecord.id, PackRecord.lines).where(
            PackRecord.order_id == order_id,
            PackRecord.location_id == c.location_id,
            PackRecord.shipment_id.is_(None),
        )
    ).all()
    for r in earlier:
        if r.lines == lines:
            raise Conflict(
                detail=f"Already packed (pack record {r.id}); ship it, or edit the order."
            )


def pack_order(db: Database, actor: Actor, number: str, body: PackCommand) -> PackRecordView:
    """Records a verified pack, or refuses (422, field ``scans``) listing every difference."""

    def work(conn: Connection) -> PackRecordView:
        order = fetch(conn, number, lock=True)  # two packers of one order: one records
        c = _compare(conn, order, body)
        diffs = c.differences()
        if diffs:
            raise ValidationFailed(
                detail="The scanned items do not match the order: "
                + "; ".join(d["message"] for d in diffs[:5]),
                errors=[_diff_error(d["kind"], d["quantity"], d["sku"], d["code"]) for d in diffs],
            )
        lines = _lines(c, c.expected)
        _already_packed(conn, order.id, c, lines)
        pid = conn.execute(
            insert(PackRecord)
            .values(order_id=order.id, location_id=c.location_id, lines=lines, actor=actor.name)
            .returning(PackRecord.id)
        ).scalar_one()
        event(
            conn,
            order.id,
            "packed",
            actor.name,
            f"Packed at {c.location}",
            {"pack_id": str(pid), "location": c.location, "lines": lines},
        )
        pickup.mark_ready(conn, actor.name, order, c.location_id, c.location)
        row = conn.execute(select(PackRecord).where(PackRecord.id == pid)).one()
        return pack_view(conn, row, number)

    return db.write(work)


def pack_records_of(db: Database, number: str) -> PackRecordList:
    def work(conn: Connection) -> PackRecordList:
        order = fetch(conn, number)
        rows = conn.execute(
            select(PackRecord).where(PackRecord.order_id == order.id).order_by(PackRecord.id)
        ).all()
        return {"items": [pack_view(conn, r, number) for r in rows], "next_cursor": None}

    return db.read(work)


def link_latest_pack(
    conn: Connection, order_id: int, location_id: int, shipment_id: int
) -> int | None:
    """Called by a shipment in its transaction: it takes the latest pack record of its order
    and location that no shipment has taken yet. The pack record's id, or None if unpacked."""
    pid = conn.execute(
        select(PackRecord.id)
        .where(
            PackRecord.order_id == order_id,
            PackRecord.location_id == location_id,
            PackRecord.shipment_id.is_(None),
        )
        .order_by(PackRecord.id.desc())
        .limit(1)
    ).scalar()
    if pid is None:
        return None
    conn.execute(update(PackRecord).where(PackRecord.id == pid).values(shipment_id=shipment_id))
    return int(pid)
