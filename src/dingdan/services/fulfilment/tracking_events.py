"""Carrier tracking events in: by signed webhook (``receive_webhook``), by file or API list
(``tracking_imports``), or taken by a shipment recorded after them (``adopt_unmatched``).
Each event is stored once, matched to
its shipment by carrier and tracking number (or kept as unmatched, for staff to see), and
may move the shipment (domain.fulfilment.tracking.moves): out for delivery and exceptions
emit ``order.out_for_delivery`` and ``order.delivery_exception``; delivered goes the way
staff marking it by hand goes (``delivery.deliver``: the order's status, the timeline,
``order.delivered`` once).

One batch (a webhook delivery, a file, an API request) is one transaction, applied in the
order the events happened. A file with a bad row stores nothing and lists every bad row,
unless ``skip_bad``. Two deliveries of one event at once store it once: the insert is an
insert-if-absent on the event's key, and the shipment row is locked before it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import Connection, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from dingdan.db.engine import Database
from dingdan.db.order_tables import CarrierRow, Order, Shipment
from dingdan.db.tracking_tables import CarrierWebhookDelivery, TrackingEventRow
from dingdan.db.types import utcnow
from dingdan.domain.fulfilment import tracking as rules
from dingdan.domain.fulfilment.tracking import TrackingEvent
from dingdan.domain.shared import standard_webhooks
from dingdan.domain.shared.errors import (
    FieldErrors,
    Unauthorized,
    ValidationFailed,
)
from dingdan.services.catalog.imports import RowError
from dingdan.services.fulfilment.carriers import CARRIER_CODE_RE
from dingdan.services.fulfilment.delivery import deliver
from dingdan.services.orders.events import event as timeline
from dingdan.services.shared.common import iso
from dingdan.services.shared.outbox_events import emit

MAX_EVENTS = 1000  # in one webhook delivery or API request
ADOPT_DAYS = 14  # unmatched events a new shipment takes: carriers reuse numbers later
_SEPARATORS = re.compile(r"[-.]")


@dataclass
class Outcome:
    """What a batch did: counts, the stored events, and (files) the bad rows."""

    applied: int = 0  # stored and moved its shipment
    stored: int = 0  # stored, matched to a shipment, shipment unchanged (late or not forward)
    duplicates: int = 0  # stored before: nothing new
    unmatched: int = 0  # stored, no shipment has this carrier and tracking number
    events: list[dict[str, Any]] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    skipped: int = 0  # bad rows left out (skip_bad)
    replayed: bool = False  # a webhook delivery seen before

    def view(self) -> dict[str, Any]:
        return {
            "applied": self.applied,
            "stored": self.stored,
            "duplicates": self.duplicates,
            "unmatched": self.unmatched,
            "skipped": self.skipped,
            "events": self.events,
            "errors": [
                {"row": e.row, "field": e.field, "code": e.code, "message": e.text}
                for e in self.errors
            ],
        }


# ---- storing and applying -----------------------------------------------------------------


def _insert_if_absent(conn: Connection, table: Any, values: dict[str, Any], keys: list[str]) -> Any:
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    stmt = (
        dialect.insert(table)
        .values(**values)
        .on_conflict_do_nothing(index_elements=keys)
        .returning(table.id)
    )
    return conn.execute(stmt).scalar()


def _shipment(conn: Connection, carrier: str, number: str) -> Any:
    forms = sorted({number, _SEPARATORS.sub("", number)})
    return conn.execute(
        select(Shipment)
        .where(Shipment.carrier == carrier, Shipment.tracking_number.in_(forms))
        .order_by(Shipment.id.desc())
        .limit(1)
        .with_for_update()
    ).first()


def _last_applied(conn: Connection, shipment_id: int) -> Any:
    return conn.execute(
        select(TrackingEventRow.occurred_at)
        .where(TrackingEventRow.shipment_id == shipment_id, TrackingEventRow.applied.is_(True))
        .order_by(TrackingEventRow.occurred_at.desc())
        .limit(1)
    ).scalar()


def _store_one(
    conn: Connection, carrier: str, ev: TrackingEvent, source: str, actor: str, out: Outcome
) -> None:
    s = _shipment(conn, carrier, ev.tracking_number)
    values = {
        "key": ev.key(carrier),
        "shipment_id": s.id if s is not None else None,
        "carrier": carrier,
        "tracking_number": ev.tracking_number,
        "status": ev.status,
        "exception": ev.exception,
        "occurred_at": ev.occurred_at,
        "location": ev.location,
        "description": ev.description,
        "external_id": ev.external_id,
        "source": source,
        "applied": False,
    }
    event_id = _insert_if_absent(conn, TrackingEventRow, values, ["key"])
    brief = {"tracking_number": ev.tracking_number, "status": ev.status, "matched": s is not None}
    if event_id is None:
        out.duplicates += 1
        out.events.append({"id": None, **brief, "outcome": "duplicate"})
        return
    if s is None:
        out.unmatched += 1
        out.events.append({"id": str(event_id), **brief, "outcome": "unmatched"})
        return
    applied = rules.moves(s.status, s.exception, _last_applied(conn, s.id), ev)
    if applied:
        conn.execute(
            update(TrackingEventRow).where(TrackingEventRow.id == event_id).values(applied=True)
        )
        _apply(conn, s, carrier, ev, event_id, actor)
        out.applied += 1
    else:
        _note(conn, s, carrier, ev, event_id, actor, applied=False)
        out.stored += 1
    outcome = "applied" if applied else "stored"
    out.events.append({"id": str(event_id), **brief, "outcome": outcome})


def _data(s: Any, carrier: str, ev: TrackingEvent, event_id: int) -> dict[str, Any]:
    return {
        "shipment_id": str(s.id),
        "tracking_event_id": str(event_id),
        "carrier": carrier,
        "tracking_number": ev.tracking_number,
        "status": ev.status,
        "exception": ev.exception,
        "occurred_at": iso(ev.occurred_at),
        "location": ev.location,
    }


def _message(s: Any, ev: TrackingEvent) -> str:
    what = ev.status + (f" ({ev.exception})" if ev.exception else "")
    where = f" at {ev.location}" if ev.location else ""
    return f"Shipment {s.id}: {what}{where}"


def _note(
    conn: Connection,
    s: Any,
    carrier: str,
    ev: TrackingEvent,
    event_id: int,
    actor: str,
    *,
    applied: bool,
) -> None:
    data = {**_data(s, carrier, ev, event_id), "applied": applied}
    timeline(conn, s.order_id, "tracking", actor, _message(s, ev), data)


def _apply(
    conn: Connection, s: Any, carrier: str, ev: TrackingEvent, event_id: int, actor: str
) -> None:
    if ev.status == "delivered":
        if s.exception is not None:
            conn.execute(update(Shipment).where(Shipment.id == s.id).values(exception=None))
        deliver(conn, s, actor, ev.occurred_at, _message(s, ev), _data(s, carrier, ev, event_id))
        return
    conn.execute(
        update(Shipment).where(Shipment.id == s.id).values(status=ev.status, exception=ev.exception)
    )
    _note(conn, s, carrier, ev, event_id, actor, applied=True)
    changed = (s.status, s.exception) != (ev.status, ev.exception)
    topic = {"out_for_delivery": "order.out_for_delivery", "exception": "order.delivery_exception"}
    if changed and ev.status in topic:
        number = conn.execute(select(Order.number).where(Order.id == s.order_id)).scalar_one()
        payload = {"number": number, **_data(s, carrier, ev, event_id)}
        emit(conn, topic[ev.status], payload)


def _ordered(batch: Sequence[tuple[str, TrackingEvent]]) -> list[tuple[str, TrackingEvent]]:
    return sorted(batch, key=lambda item: item[1].occurred_at)  # stable: ties keep their order


def store_batch(
    conn: Connection,
    batch: Sequence[tuple[str, TrackingEvent]],
    source: str,
    actor: str,
    out: Outcome,
) -> Outcome:
    for carrier, ev in _ordered(batch):
        _store_one(conn, carrier, ev, source, actor, out)
    return out


def adopt_unmatched(conn: Connection, shipment_id: int, actor: str) -> int:
    """Events of the new shipment's carrier and tracking number that arrived before it was
    recorded (a carrier may scan a parcel first), of the last ``ADOPT_DAYS`` days (numbers
    are reused): matched to it and applied in the order they happened. How many."""
    s = conn.execute(select(Shipment).where(Shipment.id == shipment_id)).one()
    plain = func.replace(func.replace(TrackingEventRow.tracking_number, "-", ""), ".", "")
    rows = conn.execute(
        select(TrackingEventRow)
        .where(
            TrackingEventRow.shipment_id.is_(None),
            TrackingEventRow.carrier == s.carrier,
            or_(
                TrackingEventRow.tracking_number == s.tracking_number,
                plain == s.tracking_number,
            ),
            TrackingEventRow.occurred_at >= utcnow() - timedelta(days=ADOPT_DAYS),
        )
        .order_by(TrackingEventRow.occurred_at, TrackingEventRow.id)
    ).all()
    for r in rows:
        s = conn.execute(select(Shipment).where(Shipment.id == shipment_id)).one()
        ev = TrackingEvent(
            r.tracking_number,
            r.status,
            r.occurred_at,
            r.exception,
            r.location,
            r.description,
            r.external_id,
        )
        applied = rules.moves(s.status, s.exception, _last_applied(conn, s.id), ev)
        conn.execute(
            update(TrackingEventRow)
            .where(TrackingEventRow.id == r.id)
            .values(shipment_id=s.id, applied=applied)
        )
        if applied:
            _apply(conn, s, r.carrier, ev, r.id, actor)
        else:
            _note(conn, s, r.carrier, ev, r.id, actor, applied=False)
    return len(rows)


# ---- webhook ------------------------------------------------------------------------------


def _secret(db: Database, code: str) -> str | None:
    if not CARRIER_CODE_RE.match(code):
        return None
    return db.read(  # type: ignore[no-any-return]
        lambda conn: conn.execute(
            select(CarrierRow.webhook_secret).where(
                CarrierRow.code == code, CarrierRow.active.is_(True)
            )
        ).scalar()
    )


def parse_body(body: bytes) -> list[TrackingEvent]:
    """The events of a delivery: ``{"type": "tracking.updated", "data": {...}}`` or a list
    of such objects; every bad field is listed."""
    try:
        doc = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise ValidationFailed.on("body", "invalid_json", reason=str(exc)[:100]) from None
    items = doc if isinstance(doc, list) else [doc]
    many = isinstance(doc, list)
    errors = FieldErrors()
    if not items:
        errors.add("body", "too_few_items", min=1)
    if len(items) > MAX_EVENTS:
        errors.add("body", "too_many_items", max=MAX_EVENTS)
    errors.raise_if_any()
    events: list[TrackingEvent] = []
    for i, item in enumerate(items):
        at = f"[{i}]." if many else ""
        if not isinstance(item, Mapping):
            errors.add(at.rstrip(".") or "body", "not_an_object")
            continue
        if item.get("type") != "tracking.updated":
            errors.add(f"{at}type", "not_one_of", choices="tracking.updated")
        ev = rules.check_event(item.get("data"), f"{at}data.", errors)
        if ev is not None:
            events.append(ev)
    errors.raise_if_any("The delivery holds invalid tracking events.")
    return events


def receive_webhook(
    db: Database, code: str, headers: Mapping[str, str], body: bytes, now: float
) -> Outcome:
    """A carrier's signed delivery. A bad or missing signature, a stale timestamp, a carrier
    without a secret: Unauthorized, nothing stored. A ``webhook-id`` seen before: nothing
    new (``replayed``)."""
    secret = _secret(db, code)
    msg_id = headers.get("webhook-id")
    why = (
        "the carrier has no webhook secret"
        if secret is None
        else standard_webhooks.check_delivery(
            secret,
            msg_id,
            headers.get("webhook-timestamp"),
            headers.get("webhook-signature"),
            body,
            now,
        )
    )
    if why is not None:
        raise Unauthorized(detail=f"The delivery's signature is not valid: {why}.")
    assert msg_id is not None
    events = parse_body(body)

    def work(conn: Connection) -> Outcome:
        values = {"carrier": code, "webhook_id": msg_id, "events": len(events)}
        first = _insert_if_absent(conn, CarrierWebhookDelivery, values, ["carrier", "webhook_id"])
        if first is None:
            return Outcome(replayed=True)
        return store_batch(
            conn, [(code, e) for e in events], "webhook", f"carrier:{code}", Outcome()
        )

    return db.write(work)
