"""ECPay's logistics notices: the status notices posted to our ``ServerReplyURL`` and the
C2C store notices (``LogisticsC2CReplyURL``). Each is verified (MD5 ``CheckMacValue``)
before anything is read; a bad one is refused and kept (``ecpay_logistics_exchanges``,
``refused``), nothing else changes. A good one is kept and applied: as a carrier tracking
event (``tracking_events.store_batch``: sent, arrived at the store, picked up, not picked
up), or, for a closed store, by flagging the parcel, putting its shipment in
``address_issue`` and emitting ``order.store_closed`` (the customer's message with the link
to the map). A notice taken before (ECPay sends one again until it reads ``1|OK``) is
recognised by its exact fields and changes nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import Connection, or_, select, update

from dingdan.db.cvs_logistics_tables import EcpayLogisticsExchange, EcpayParcel
from dingdan.db.engine import Database
from dingdan.db.order_tables import Order, Shipment
from dingdan.db.types import utcnow
from dingdan.domain.fulfilment import ecpay_logistics as ec
from dingdan.domain.fulfilment.tracking import FINAL_EXCEPTIONS, TrackingEvent
from dingdan.services.fulfilment import tracking_events
from dingdan.services.fulfilment.ecpay_logistics import (
    CARRIER_ACTOR,
    MAX_TEXT,
    Client,
    cvs_of,
    log_notice,
    tracking_number_of,
)
from dingdan.services.orders.events import event
from dingdan.services.shared.outbox_events import emit

log = logging.getLogger("dingdan.ecpay_logistics")

OK_ANSWER = "1|OK"
BAD_MAC_ANSWER = "0|CheckMacValue error"


def _find_parcel(conn: Connection, form: Mapping[str, str]) -> Any:
    lid = form.get("AllPayLogisticsID")
    if lid:
        row = conn.execute(
            select(EcpayParcel).where(EcpayParcel.logistics_id == lid).with_for_update()
        ).first()
        if row is not None:
            return row
    trade_no = form.get("MerchantTradeNo")
    if trade_no:
        return conn.execute(
            select(EcpayParcel).where(EcpayParcel.trade_no == trade_no).with_for_update()
        ).first()
    return None


def _event_of(parcel: Any, form: Mapping[str, str], kind: str) -> TrackingEvent | None:
    mapped = ec.tracking_status(kind)
    if mapped is None:
        return None
    status, exception = mapped
    when = ec.parse_ecpay_time(form.get("UpdateStatusDate")) or utcnow()
    code = str(form.get("RtnCode") or "")
    stamp = str(form.get("UpdateStatusDate") or "")
    location = None
    if kind == ec.ARRIVED:
        location = f"{parcel.brand} {parcel.store_id}"
    return TrackingEvent(
        tracking_number=tracking_number_of(parcel),
        status=status,
        occurred_at=when,
        exception=exception,
        location=location,
        description=str(form.get("RtnMsg") or "")[:200] or None,
        external_id=f"ecpay:{parcel.logistics_id}:{code}:{stamp}"[:100],
    )


def _store_closed(conn: Connection, parcel: Any, why: str) -> None:
    """The parcel's pickup store closed: the parcel flagged (until a new store is chosen),
    its shipment in ``exception`` ``address_issue``, the timeline, and
    ``order.store_closed`` (the customer's message with the link to the map). Once: a
    parcel already flagged is left as it is (the caller holds its row)."""
    if parcel.store_closed_at is not None:
        return
    conn.execute(
        update(EcpayParcel).where(EcpayParcel.id == parcel.id).values(store_closed_at=utcnow())
    )
    if parcel.shipment_id is not None:
        conn.execute(
            update(Shipment)
            .where(
                Shipment.id == parcel.shipment_id,
                Shipment.status != "delivered",
                or_(Shipment.exception.is_(None), Shipment.exception.not_in(FINAL_EXCEPTIONS)),
            )
            .values(status="exception", exception="address_issue")
        )
    event(
        conn,
        parcel.order_id,
        "exception",
        CARRIER_ACTOR,
        f"ECPay: pickup store {parcel.brand} {parcel.store_id} closed ({why}); "
        "the customer is asked to choose another store",
        {
            "trade_no": parcel.trade_no,
            "store_closed": True,
            "shipment_id": parcel.shipment_id and str(parcel.shipment_id),
        },
    )
    number = conn.execute(select(Order.number).where(Order.id == parcel.order_id)).scalar_one()
    emit(
        conn,
        "order.store_closed",
        {
            "number": number,
            "shipment_id": parcel.shipment_id and str(parcel.shipment_id),
            "brand": parcel.brand,
            "store_id": parcel.store_id,
        },
    )


def _seen(conn: Connection, operation: str, form: Mapping[str, str], parcel: Any) -> bool:
    """Whether this very notice (same fields, same MAC) was taken before: ECPay sends a
    notice again until it reads ``1|OK``."""
    body = urlencode(dict(form))[:MAX_TEXT]
    found = conn.execute(
        select(EcpayLogisticsExchange.id).where(
            EcpayLogisticsExchange.direction == "in",
            EcpayLogisticsExchange.operation == operation,
            EcpayLogisticsExchange.outcome == "ok",
            EcpayLogisticsExchange.trade_no == parcel.trade_no,
            EcpayLogisticsExchange.request_body == body,
        )
    ).first()
    return found is not None


def receive_status(db: Database, client: Client, form: Mapping[str, str]) -> tuple[int, str]:
    """A status notice ECPay posted to our ``ServerReplyURL``: (HTTP status, answer). A bad
    ``CheckMacValue`` is refused (kept, nothing else changes); a notice seen before changes
    nothing (the tracking event's key is ECPay's logistics id, code and time)."""
    if not client.verify(form):

        def refuse(conn: Connection) -> None:
            log_notice(conn, "status", form, "refused", BAD_MAC_ANSWER, error="bad CheckMacValue")

        db.write(refuse)
        log.warning("ECPay logistics notice with a bad CheckMacValue refused")
        return 400, BAD_MAC_ANSWER

    def work(conn: Connection) -> None:
        parcel = _find_parcel(conn, form)
        if parcel is None:
            log_notice(conn, "status", form, "ok", OK_ANSWER, error="no such parcel")
            return
        if _seen(conn, "status", form, parcel):
            return
        log_notice(conn, "status", form, "ok", OK_ANSWER, parcel)
        code = str(form.get("RtnCode") or "")[:10]
        kind = ec.status_kind(code)
        if kind == ec.STORE_CLOSED:
            _store_closed(conn, parcel, f"RtnCode {code}")
            return
        ev = _event_of(parcel, form, kind) if kind else None
        if ev is None:
            return
        out = tracking_events.store_batch(
            conn, [(_carrier(parcel), ev)], "webhook", CARRIER_ACTOR, tracking_events.Outcome()
        )
        if out.duplicates:
            return
        conn.execute(
            update(EcpayParcel)
            .where(EcpayParcel.id == parcel.id)
            .values(last_code=code, last_message=str(form.get("RtnMsg") or "")[:200] or None)
        )

    db.write(work)
    return 200, OK_ANSWER


def _carrier(parcel: Any) -> str:
    b = ec.brand(parcel.brand)
    assert b is not None
    return b.carrier


def receive_store_change(db: Database, client: Client, form: Mapping[str, str]) -> tuple[int, str]:
    """A C2C store notice (``LogisticsC2CReplyURL``): the pickup store closed (Status 01 or
    04) → as a store-closed status; its number changed (02) → the order's store follows."""
    if not client.verify(form):
        db.write(
            lambda conn: log_notice(
                conn, "store_change", form, "refused", BAD_MAC_ANSWER, error="bad CheckMacValue"
            )
        )
        return 400, BAD_MAC_ANSWER

    def work(conn: Connection) -> None:
        parcel = _find_parcel(conn, form)
        if parcel is not None and _seen(conn, "store_change", form, parcel):
            return
        log_notice(conn, "store_change", form, "ok", OK_ANSWER, parcel)
        if parcel is None or form.get("StoreType") != "01":
            return
        status = form.get("Status")
        if status in ec.STORE_CHANGE_CLOSED:
            _store_closed(conn, parcel, f"store notice {status}")
        elif status == "02" and form.get("StoreID"):
            order = conn.execute(select(Order).where(Order.id == parcel.order_id)).one()
            current = cvs_of(order)
            if current is not None:
                moved = {**current, "store_id": str(form["StoreID"])[:10]}
                conn.execute(update(Order).where(Order.id == order.id).values(delivery=moved))

    db.write(work)
    return 200, OK_ANSWER
