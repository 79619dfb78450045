"""Own delivery, the writes: a manager creates a driver's run for a day and assigns
own-delivery shipments to it (by order, or a whole area at once); the driver delivers each
stop with a photo and/or a signature (stored as evidence files, as dispute evidence is) or
records why it failed; the driver hands in the cash; finance closes the run, recording a
COD payment for each order collected (through the payments context, passed in as
``record_cod``: fulfilment does not import payments)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from dingdan.db.delivery_tables import DeliveryRun, DeliveryStop
from dingdan.db.engine import Database
from dingdan.db.order_tables import Order, Shipment
from dingdan.db.tables import User
from dingdan.db.types import utcnow
from dingdan.domain.fulfilment import delivery_runs as rules
from dingdan.domain.fulfilment.tracking import FINAL_EXCEPTIONS
from dingdan.domain.shared.errors import (
    Conflict,
    FieldErrors,
    InvalidTransition,
    NotFound,
    ValidationFailed,
)
from dingdan.domain.shared.money import format_amount, is_currency, parse_amount
from dingdan.domain.shared.numbers import row_id
from dingdan.domain.shared.text import check_text
from dingdan.services.fulfilment.delivery import deliver
from dingdan.services.fulfilment.delivery_run_queries import (
    cod_due,
    fetch_run,
    parse_date,
    run_view,
    waiting,
)
from dingdan.services.fulfilment.shapes import RunCommand, RunView
from dingdan.services.orders.events import event
from dingdan.services.orders.queries import fetch
from dingdan.services.shared import uploads
from dingdan.services.shared.common import Actor, audit

# What a photo of a delivery may be, and a signature (the phone's canvas as PNG).
PHOTO_TYPES = {"image/jpeg": ".jpg", "image/png": ".png", "image/webp": ".webp"}
SIGNATURE_TYPES = {"image/png": ".png"}
# record_cod(conn, actor, order_row, amount_minor, reference): one COD payment recorded
# (payments' ``transactions.settle_cod``, passed in by the web layer).
RecordCod = Callable[[Connection, Actor, Any, int, str], None]


def _driver(conn: Connection, email: Any) -> int:
    row = None
    if isinstance(email, str) and email.strip():
        row = conn.execute(
            select(User.id, User.role, User.active).where(User.email == email.strip())
        ).first()
    if row is None or row.role != rules.DRIVER_ROLE or not row.active:
        raise ValidationFailed.on("driver", "not_a_driver")
    return int(row.id)


def create_run(db: Database, actor: Actor, body: RunCommand) -> RunView:
    """A run for ``driver`` (a user's email) on ``date``, in ``currency`` (TWD unless
    given), with ``orders`` already on it when given. One run per driver and day: 409."""
    errors = FieldErrors()
    try:
        day: date | None = parse_date(body.get("date"))
    except ValidationFailed as exc:
        errors.items.extend(exc.errors)
        day = None
    currency = body.get("currency") or "TWD"
    if not is_currency(currency):
        errors.add("currency", "invalid_currency")
    note = check_text(body.get("note"), "note", errors, max_length=500, multiline=True)
    numbers = body.get("orders") or []
    errors.raise_if_any()

    def work(conn: Connection) -> RunView:
        driver_id = _driver(conn, body.get("driver"))
        taken = conn.execute(
            select(DeliveryRun.id).where(
                DeliveryRun.driver_id == driver_id, DeliveryRun.run_date == day
            )
        ).scalar()
        if taken is not None:
            raise Conflict(detail=f"The driver already has run {taken} on {day}.")
        run_id = conn.execute(
            insert(DeliveryRun)
            .values(
                driver_id=driver_id,
                run_date=day,
                status=rules.RunStatus.OPEN,
                currency=currency,
                note=note,
                created_by=actor.name,
            )
            .returning(DeliveryRun.id)
        ).scalar_one()
        run = conn.execute(select(DeliveryRun).where(DeliveryRun.id == run_id)).one()
        _add(conn, actor, run, numbers)
        audit(conn, actor, "create", "delivery_run", str(run_id), after={"date": str(day)})
        return run_view(conn, actor, run)

    return db.write(work)


def _open_run(conn: Connection, actor: Actor, run_id: str) -> Any:
    run = fetch_run(conn, actor, run_id, lock=True)
    if run.status != rules.RunStatus.OPEN:
        raise InvalidTransition(detail=f"Delivery run {run.id} is closed.")
    return run


def _live_stop_run(conn: Connection, shipment_id: int) -> int | None:
    return conn.execute(
        select(DeliveryStop.run_id).where(
            DeliveryStop.shipment_id == shipment_id,
            DeliveryStop.status != rules.StopStatus.FAILED,
        )
    ).scalar()


def _add(conn: Connection, actor: Actor, run: Any, numbers: list[str]) -> None:
    """Each order's own-delivery shipments on the road become stops of ``run``."""
    for i, number in enumerate(numbers):
        field = f"orders[{i}]"
        order = conn.execute(select(Order).where(Order.number == number)).first()
        if order is None:
            raise ValidationFailed.on(field, "unknown_order", number=number)
        if order.currency != run.currency:
            raise ValidationFailed.on(
                field,
                "run_currency",
                number=number,
                currency=order.currency,
                run_currency=run.currency,
            )
        shipments = conn.execute(
            select(Shipment.id).where(
                Shipment.order_id == order.id,
                Shipment.carrier == rules.OWN_DELIVERY,
                Shipment.status == "shipped",
            )
        ).scalars()
        added = 0
        for sid in shipments:
            other = _live_stop_run(conn, sid)
            if other == run.id:
                added += 1
                continue
            if other is not None:
                raise ValidationFailed.on(field, "on_another_run", number=number, run=other)
            _insert_stop(conn, run, order, sid)
            added += 1
        if not added:
            raise ValidationFailed.on(field, "not_own_delivery", number=number)
        event(
            conn,
            order.id,
            "delivery_run",
            actor.name,
            f"On delivery run {run.id} ({run.run_date.isoformat()})",
            {"run_id": str(run.id)},
        )


def _insert_stop(conn: Connection, run: Any, order: Any, shipment_id: int) -> None:
    conn.execute(
        insert(DeliveryStop).values(
            run_id=run.id,
            shipment_id=shipment_id,
            order_id=order.id,
            area=rules.area_of(order.shipping_address or {}).key[:80],
            status=rules.StopStatus.PENDING,
            cod_due_minor=0,
            cod_collected_minor=0,
        )
    )


def _numbers(value: Any) -> list[str]:
    if not isinstance(value, list) or not value:
        raise ValidationFailed.on("orders", "not_empty")
    if len(value) > 200 or not all(isinstance(n, str) and 0 < len(n) <= 40 for n in value):
        raise ValidationFailed.on("orders", "invalid", reason="1 to 200 order numbers")
    return list(dict.fromkeys(value))


def add_orders(db: Database, actor: Actor, run_id: str, numbers: Any) -> RunView:
    wanted = _numbers(numbers)

    def work(conn: Connection) -> RunView:
        run = _open_run(conn, actor, run_id)
        _add(conn, actor, run, wanted)
        audit(conn, actor, "update", "delivery_run", str(run.id), after={"added": wanted})
        return run_view(conn, actor, run)

    return db.write(work)


def assign_area(db: Database, actor: Actor, run_id: str, area: Any) -> RunView:
    """Every shipment waiting for a run in ``area`` (a key from the planning) onto the run."""
    if not isinstance(area, str) or not 0 < len(area) <= 80:
        raise ValidationFailed.on("area", "required")

    def work(conn: Connection) -> RunView:
        run = _open_run(conn, actor, run_id)
        numbers = [
            s.number for s in waiting(conn) if rules.area_of(s.shipping_address or {}).key == area
        ]
        if not numbers:
            raise ValidationFailed.on("area", "not_empty")
        _add(conn, actor, run, list(dict.fromkeys(numbers)))
        audit(conn, actor, "update", "delivery_run", str(run.id), after={"area": area})
        return run_view(conn, actor, run)

    return db.write(work)


def remove_order(db: Database, actor: Actor, run_id: str, number: str) -> RunView:
    """The order's pending stops taken off the run (its shipments wait for another)."""

    def work(conn: Connection) -> RunView:
        run = _open_run(conn, actor, run_id)
        order = fetch(conn, number)
        stops = conn.execute(
            select(DeliveryStop.id, DeliveryStop.status).where(
                DeliveryStop.run_id == run.id, DeliveryStop.order_id == order.id
            )
        ).all()
        if not stops:
            raise NotFound(detail=f"Order {number} is not on delivery run {run.id}.")
        if any(s.status != rules.StopStatus.PENDING for s in stops):
            raise InvalidTransition(detail=f"Order {number} was already visited on this run.")
        conn.execute(
            delete(DeliveryStop).where(
                DeliveryStop.run_id == run.id, DeliveryStop.order_id == order.id
            )
        )
        event(conn, order.id, "delivery_run", actor.name, f"Taken off delivery run {run.id}")
        audit(conn, actor, "update", "delivery_run", str(run.id), after={"removed": number})
        return run_view(conn, actor, run)

    return db.write(work)


def _stop(conn: Connection, run: Any, stop_id: str) -> Any:
    row = conn.execute(
        select(DeliveryStop)
        .where(DeliveryStop.id == row_id(stop_id), DeliveryStop.run_id == run.id)
        .with_for_update()
    ).first()
    if row is None:
        raise NotFound(detail=f"No stop {stop_id!r} on delivery run {run.id}.")
    if row.status != rules.StopStatus.PENDING:
        raise InvalidTransition(detail=f"Stop {stop_id} is already {row.status}.")
    return row


def _check_proof(photo: tuple[Any, bytes] | None, signature: bytes | None) -> tuple[str, str]:
    errors = FieldErrors()
    photo_kind = sig_kind = ""
    if photo is None and not signature:
        errors.add("photo", "proof_required")
    if photo is not None:
        try:
            photo_kind = uploads.check_file(photo[0], photo[1], "photo", PHOTO_TYPES)
        except ValidationFailed as exc:
            errors.items.extend(exc.errors)
    if signature:
        try:
            sig_kind = uploads.check_file("signature.png", signature, "signature", SIGNATURE_TYPES)
        except ValidationFailed as exc:
            errors.items.extend(exc.errors)
    errors.raise_if_any("The proof of delivery was refused.")
    return photo_kind, sig_kind


def deliver_stop(
    db: Database,
    actor: Actor,
    run_id: str,
    stop_id: str,
    *,
    photo: tuple[Any, bytes] | None = None,
    signature: bytes | None = None,
    cod_collected: Any = None,
    note: Any = None,
) -> RunView:
    """The stop handed over: the proof stored (files first, durable, then the row that names
    them), the shipment delivered as any delivery is (``fulfilment.delivery``), and what was
    collected for a COD order (its whole due unless said; never more)."""
    errors = FieldErrors()
    note_text = check_text(note, "note", errors, max_length=500, multiline=True)
    errors.raise_if_any()
    photo_kind, sig_kind = _check_proof(photo, signature)
    run = db.read(lambda conn: fetch_run(conn, actor, run_id))
    folder = f"delivery/{run.id}"
    stored_photo = uploads.store(folder, photo[1], photo_kind) if photo else None
    stored_sig = uploads.store(folder, signature, sig_kind) if signature else None

    def work(conn: Connection) -> RunView:
        run = _open_run(conn, actor, run_id)
        stop = _stop(conn, run, stop_id)
        order = conn.execute(select(Order).where(Order.id == stop.order_id).with_for_update())
        o = order.one()
        due = cod_due(o)
        collected = due
        if cod_collected is not None and cod_collected != "":
            collected = parse_amount(cod_collected, run.currency, "cod_collected")
            if collected > due:
                raise ValidationFailed.on(
                    "cod_collected", "more_than_due", due=format_amount(due, run.currency)
                )
        s = conn.execute(select(Shipment).where(Shipment.id == stop.shipment_id).with_for_update())
        shipment = s.one()
        if shipment.status == "delivered" or shipment.exception in FINAL_EXCEPTIONS:
            raise InvalidTransition(detail=f"Shipment {shipment.id} is already {shipment.status}.")
        now = utcnow()
        conn.execute(
            update(DeliveryStop)
            .where(DeliveryStop.id == stop.id)
            .values(
                status=rules.StopStatus.DELIVERED,
                note=note_text,
                cod_due_minor=due,
                cod_collected_minor=collected,
                photo_path=stored_photo and stored_photo[1],
                photo_sha256=stored_photo and stored_photo[0],
                photo_type=photo_kind or None,
                signature_path=stored_sig and stored_sig[1],
                signature_sha256=stored_sig and stored_sig[0],
                done_by=actor.name,
                done_at=now,
            )
        )
        proof = {
            "run_id": str(run.id),
            "stop_id": str(stop.id),
            "photo_sha256": stored_photo and stored_photo[0],
            "signature_sha256": stored_sig and stored_sig[0],
        }
        deliver(
            conn, shipment, actor.name, now, f"Delivered by {actor.name} on run {run.id}", proof
        )
        audit(conn, actor, "deliver", "shipment", str(shipment.id), after=proof)
        return run_view(conn, actor, run)

    return db.write(work)


def fail_stop(
    db: Database, actor: Actor, run_id: str, stop_id: str, reason: Any, note: Any = None
) -> RunView:
    """The stop not handed over, and why; the shipment stays out, free for another run."""
    errors = FieldErrors()
    if reason not in rules.FAIL_REASONS:
        errors.add("reason", "unknown_reason", reasons=", ".join(rules.FAIL_REASONS))
    note_text = check_text(
        note, "note", errors, max_length=500, multiline=True, required=reason == "other"
    )
    errors.raise_if_any()

    def work(conn: Connection) -> RunView:
        run = _open_run(conn, actor, run_id)
        stop = _stop(conn, run, stop_id)
        conn.execute(
            update(DeliveryStop)
            .where(DeliveryStop.id == stop.id)
            .values(
                status=rules.StopStatus.FAILED,
                fail_reason=reason,
                note=note_text,
                done_by=actor.name,
                done_at=utcnow(),
            )
        )
        event(
            conn,
            stop.order_id,
            "delivery_failed",
            actor.name,
            f"Not delivered on run {run.id}: {reason}" + (f" ({note_text})" if note_text else ""),
            {"run_id": str(run.id), "reason": reason},
        )
        audit(conn, actor, "delivery_failed", "delivery_run", str(run.id), after={"stop": stop_id})
        return run_view(conn, actor, run)

    return db.write(work)


def hand_in_cash(db: Database, actor: Actor, run_id: str, amount: Any) -> RunView:
    """The cash the driver hands in at the day's end (again: replaced, until closed)."""

    def work(conn: Connection) -> RunView:
        run = _open_run(conn, actor, run_id)
        minor = parse_amount(amount, run.currency, "amount")
        conn.execute(
            update(DeliveryRun)
            .where(DeliveryRun.id == run.id)
            .values(cash_handed_in_minor=minor, cash_recorded_by=actor.name)
        )
        audit(
            conn,
            actor,
            "hand_in_cash",
            "delivery_run",
            str(run.id),
            after={"amount": format_amount(minor, run.currency)},
        )
        return run_view(
            conn, actor, conn.execute(select(DeliveryRun).where(DeliveryRun.id == run.id)).one()
        )

    return db.write(work)


def close_run(db: Database, actor: Actor, run_id: str, note: Any, record_cod: RecordCod) -> RunView:
    """Finance closes the day: every stop visited, the cash handed in, a difference
    explained in ``note``; one COD payment per order for what was collected there."""
    errors = FieldErrors()
    note_text = check_text(note, "note", errors, max_length=500, multiline=True)
    errors.raise_if_any()

    def work(conn: Connection) -> RunView:
        run = _open_run(conn, actor, run_id)
        view = run_view(conn, actor, run)
        if view["counts"]["pending"]:
            raise InvalidTransition(
                detail=f"Delivery run {run.id} has stops not yet delivered or failed."
            )
        if run.cash_handed_in_minor is None:
            raise InvalidTransition(detail=f"No cash was handed in for delivery run {run.id}.")
        if view["cash"]["difference"] != format_amount(0, run.currency) and not note_text:
            raise ValidationFailed.on(
                "note", "difference_needs_note", difference=view["cash"]["difference"]
            )
        reference = f"delivery-run-{run.id}"
        stops = conn.execute(
            select(DeliveryStop.order_id, DeliveryStop.cod_collected_minor)
            .where(
                DeliveryStop.run_id == run.id,
                DeliveryStop.status == rules.StopStatus.DELIVERED,
                DeliveryStop.cod_collected_minor > 0,
            )
            .order_by(DeliveryStop.order_id)
        ).all()
        for order_id, collected in stops:
            order = conn.execute(select(Order).where(Order.id == order_id).with_for_update()).one()
            record_cod(conn, actor, order, collected, reference)
        conn.execute(
            update(DeliveryRun)
            .where(DeliveryRun.id == run.id)
            .values(
                status=rules.RunStatus.CLOSED,
                closed_by=actor.name,
                closed_at=utcnow(),
                close_note=note_text,
            )
        )
        audit(
            conn,
            actor,
            "close",
            "delivery_run",
            str(run.id),
            after={**view["cash"], "orders": len(stops)},
        )
        closed = conn.execute(select(DeliveryRun).where(DeliveryRun.id == run.id)).one()
        return run_view(conn, actor, closed)

    return db.write(work)


def proof_file(
    db: Database, actor: Actor, run_id: str, stop_id: str, which: str
) -> tuple[bytes, str, str]:
    """A stop's photo or signature: bytes checked against their checksum, type, name."""

    def work(conn: Connection) -> Any:
        run = fetch_run(conn, actor, run_id)
        row = conn.execute(
            select(DeliveryStop).where(
                DeliveryStop.id == row_id(stop_id), DeliveryStop.run_id == run.id
            )
        ).first()
        return row

    row = db.read(work)
    path = None if row is None else getattr(row, f"{which}_path", None)
    if row is None or path is None:
        raise NotFound(detail=f"No {which} for stop {stop_id}.")
    data = uploads.read(path, getattr(row, f"{which}_sha256"))
    kind = row.photo_type if which == "photo" else "image/png"
    return data, kind, uploads.download_name(f"{which}-{row.id}", kind)
