"""T-cat and HCT labels from the seller's pre-assigned number ranges (issue 25, part 3).

Ranges are kept per carrier (``label_ranges``, settings → carriers). A shipment of T-cat or
HCT created without a tracking number takes the next number here (``RangeLabels``, the
provider ``services/fulfilment/logistics.py`` finds for these carriers) and keeps its label:
who sends, who receives, and the amount to collect on a cash-on-delivery order.

Numbers are gapless and never given twice, however many shipments are created at once: one
conditional ``UPDATE ... RETURNING`` inside the shipment's transaction takes the next serial
of the carrier's oldest range with numbers left (PostgreSQL locks the row until the
transaction ends, a second shipment waits and then sees the new ``next_no``; SQLite has one
writer). A shipment that rolls back gives its number back with it. A carrier with ranges but
none left refuses the shipment (409) rather than ship a parcel without its number; a carrier
without any range works as before (a number typed by staff, or none).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, insert, select, text

from dingdan.db.engine import Database
from dingdan.db.label_tables import LabelRange, ShipmentLabel
from dingdan.db.order_tables import Order, Shipment
from dingdan.db.tables import Location, table_of
from dingdan.db.types import utcnow
from dingdan.domain.fulfilment import carriers as known
from dingdan.domain.fulfilment import labels as rules
from dingdan.domain.shared.errors import Conflict, NotFound
from dingdan.domain.shared.money import format_amount
from dingdan.domain.shared.numbers import row_id
from dingdan.services.fulfilment.logistics import Assigned, ShipmentRequest
from dingdan.services.fulfilment.packing_slips import record_views
from dingdan.services.fulfilment.shapes import (
    LabelAddressView,
    LabelRangeCommand,
    LabelRangeList,
    LabelRangeView,
    LabelView,
)
from dingdan.services.shared import shop
from dingdan.services.shared.common import Actor, audit, iso

_TAKE = text(
    "UPDATE label_ranges SET next_no = next_no + 1"
    " WHERE id = (SELECT id FROM label_ranges WHERE carrier = :carrier AND next_no <= end_no"
    " ORDER BY id LIMIT 1) AND next_no <= end_no"
    " RETURNING id, next_no - 1 AS taken, width, check_digit"
)


# ---- ranges ---------------------------------------------------------------------------------


def range_view(r: Any) -> LabelRangeView:
    def printed(serial: int) -> str:
        return rules.number_of(serial, r.width, r.check_digit)

    return {
        "id": str(r.id),
        "carrier": r.carrier,
        "start": printed(r.start_no),
        "end": printed(r.end_no),
        "check_digit": r.check_digit,
        "next": printed(r.next_no) if r.next_no <= r.end_no else None,
        "used": r.next_no - r.start_no,
        "remaining": r.end_no - r.next_no + 1,
        "created_by": r.created_by,
        "created_at": iso(r.created_at),
    }


def add_range(db: Database, actor: Actor, body: LabelRangeCommand) -> LabelRangeView:
    """A range as the carrier assigned it; one overlapping another range of the carrier (the
    same numbers, whatever their check digit) is a 409 conflict."""
    new = rules.check_range(dict[str, Any](body.items()))

    def work(conn: Connection) -> LabelRangeView:
        for r in conn.execute(select(LabelRange).where(LabelRange.carrier == new.carrier)):
            first, last = (
                rules.number_of(r.start_no, r.width, r.check_digit),
                rules.number_of(r.end_no, r.width, r.check_digit),
            )
            mine = (
                rules.number_of(new.start, new.width, new.check_digit),
                rules.number_of(new.end, new.width, new.check_digit),
            )
            if r.width == new.width and mine[0] <= last and mine[1] >= first:
                raise Conflict(detail=f"The range overlaps {first}–{last} of {new.carrier}.")
        row = conn.execute(
            insert(LabelRange)
            .values(
                carrier=new.carrier,
                start_no=new.start,
                end_no=new.end,
                next_no=new.start,
                width=new.width,
                check_digit=new.check_digit,
                created_by=actor.name,
                created_at=utcnow(),
            )
            .returning(*table_of(LabelRange).c)
        ).one()
        view = range_view(row)
        audit(conn, actor, "create", "label_range", view["id"], None, view)
        return view

    return db.write(work)


def list_ranges(db: Database, carrier: str | None = None) -> LabelRangeList:
    def work(conn: Connection) -> LabelRangeList:
        stmt = select(LabelRange).order_by(LabelRange.carrier, LabelRange.id)
        if carrier is not None:
            stmt = stmt.where(LabelRange.carrier == carrier)
        return {"items": [range_view(r) for r in conn.execute(stmt)], "next_cursor": None}

    return db.read(work)


@dataclass(frozen=True)
class Taken:
    range_id: int
    number: str


def take_number(conn: Connection, carrier: str) -> Taken | None:
    """The carrier's next number (None: the carrier has no range at all). Raises Conflict
    when it has ranges and all are used up."""
    while True:
        row = conn.execute(_TAKE, {"carrier": carrier}).first()
        if row is not None:
            number = rules.number_of(int(row.taken), int(row.width), row.check_digit)
            return Taken(int(row.id), known.validate_tracking_number(carrier, number))
        ranges = conn.execute(
            select(LabelRange.next_no, LabelRange.end_no).where(LabelRange.carrier == carrier)
        ).all()
        if not ranges:
            return None
        if all(r.next_no > r.end_no for r in ranges):
            raise Conflict(
                detail=f"Every {carrier} number range is used up; add the carrier's next "
                "range in Settings → Carriers."
            )
        # A range used up under us while another had numbers left: look again.


# ---- the provider ---------------------------------------------------------------------------


def _address(values: Mapping[str, Any]) -> LabelAddressView:
    return {
        "name": values.get("name") or "",
        "phone": values.get("phone") or "",
        "postal_code": values.get("postal_code") or "",
        "region": values.get("region") or "",
        "city": values.get("city") or "",
        "line1": values.get("line1") or "",
        "line2": values.get("line2") or "",
        "country": values.get("country") or "",
    }


def _sender(conn: Connection, location: Any) -> LabelAddressView:
    face = shop.load(conn)
    where = {k: getattr(location, k) for k in ("postal_code", "region", "city", "line1", "line2")}
    return _address(
        {**where, "country": location.country}
        | {"name": face["name"], "phone": location.phone or face["phone"]}
    )


def _to_collect(order: Any) -> int | None:
    if order.payment_method != "cod":
        return None
    return max(int(order.total_minor) - int(order.paid_minor), 0)


@dataclass(frozen=True)
class RangeLabels:
    """The logistics provider of a carrier numbered from pre-assigned ranges."""

    carrier: str

    def create_shipment(self, conn: Connection, request: ShipmentRequest) -> Assigned | None:
        taken = take_number(conn, self.carrier)
        if taken is None:
            return None
        conn.execute(
            insert(ShipmentLabel).values(
                shipment_id=request.shipment_id,
                carrier=self.carrier,
                number=taken.number,
                range_id=taken.range_id,
                sender=_sender(conn, request.location),
                recipient=_address(dict(request.order.shipping_address or {})),
                cod_minor=_to_collect(request.order),
                currency=request.order.currency,
                created_at=utcnow(),
            )
        )
        return Assigned(taken.number, f"/shipments/{request.shipment_id}/label")


def provider(carrier: str) -> RangeLabels | None:
    return RangeLabels(carrier) if rules.label_format(carrier) is not None else None


# ---- the label ------------------------------------------------------------------------------


def labelled(db: Database, shipment_ids: list[str]) -> set[str]:
    """Which of these shipments have a label to print."""
    ids = [row_id(i) for i in shipment_ids]
    if not ids:
        return set()
    return db.read(
        lambda conn: {
            str(i)
            for i in conn.execute(
                select(ShipmentLabel.shipment_id).where(ShipmentLabel.shipment_id.in_(ids))
            ).scalars()
        }
    )


def label_of(db: Database, actor: Actor, shipment_id: str) -> LabelView:
    """What the label prints: carrier, number, sender, recipient, amount to collect, the
    order and its pieces. 404 for a shipment without a label. The read of the recipient's
    address is audited as a view of the order."""
    label = db.read(lambda conn: _label(conn, shipment_id))
    record_views(db, actor, [label["order"]])
    return label


def _label(conn: Connection, shipment_id: str) -> LabelView:
    sid = row_id(shipment_id)
    row = conn.execute(
        select(
            *table_of(ShipmentLabel).c,
            Shipment.lines,
            Shipment.created_at.label("shipped_at"),
            Order.number.label("order_number"),
            Location.code.label("location_code"),
        )
        .join(Shipment, Shipment.id == ShipmentLabel.shipment_id)
        .join(Order, Order.id == Shipment.order_id)
        .join(Location, Location.id == Shipment.location_id)
        .where(ShipmentLabel.shipment_id == sid)
    ).first()
    if row is None:
        raise NotFound(detail=f"No label for shipment {shipment_id!r}.")
    fmt = rules.label_format(row.carrier)
    collect = row.cod_minor
    return {
        "shipment_id": str(sid),
        "carrier": row.carrier,
        "number": row.number,
        "order": row.order_number,
        "location": row.location_code,
        "sender": row.sender,
        "recipient": row.recipient,
        "cod": collect is not None,
        "cod_amount": format_amount(collect, row.currency) if collect is not None else None,
        "currency": row.currency,
        "pieces": sum(int(ln.get("quantity") or 0) for ln in row.lines or []),
        "shipped_on": (iso(row.shipped_at) or "")[:10],
        "width_mm": fmt.width_mm if fmt else 100,
        "height_mm": fmt.height_mm if fmt else 100,
    }
