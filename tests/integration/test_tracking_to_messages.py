"""Issue 20, part 6 end to end: a carrier's signed tracking events move the shipment and
the customer gets the messages they call for (out for delivery, delivery exception,
delivered), each once, in the order's language."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from dingdan.db.message_tables import Message
from dingdan.services.jobs import worker
from tests.integration.test_tracking_events import event, send, shipped, stocked  # noqa: F401


def _messages(db: Any, number: str) -> list[tuple[str, str]]:
    return db.read(
        lambda c: [
            (r.kind, r.locale)
            for r in c.execute(
                select(Message.kind, Message.locale)
                .where(Message.order_number == number)
                .order_by(Message.id)
            )
        ]
    )


def test_carrier_events_tell_the_customer_once_each(
    client: Any,
    db: Any,
    shipped: dict[str, Any],  # noqa: F811
) -> None:
    secret, number = shipped["secret"], shipped["number"]
    worker.drain(db)  # the order's own events so far: confirmation, payment, shipped
    before = _messages(db, number)
    assert [k for k, _ in before] == ["order_confirmation", "payment_received", "shipped"]
    steps = [
        ("out_for_delivery", "2026-12-07T10:00:00+08:00", {}),
        ("exception", "2026-12-07T11:00:00+08:00", {"exception": "failed_attempt"}),
        ("delivered", "2026-12-07T15:30:00+08:00", {}),
    ]
    for i, (status, at, more) in enumerate(steps):
        r = send(client, secret, event(status, at, **more), f"msg_{i}")
        assert r.status_code == 200 and r.json()["applied"] == 1, r.text
    worker.drain(db)
    worker.drain(db)  # a second round adds nothing
    told = _messages(db, number)[len(before) :]
    assert told == [
        ("out_for_delivery", "zh-Hant"),
        ("delivery_exception", "zh-Hant"),
        ("delivered", "zh-Hant"),
    ]
