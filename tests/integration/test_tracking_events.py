"""Carrier tracking events in: the signed webhook, files, the API list; shipments move
forward only, and out for delivery, exceptions and delivery are announced once."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from standardwebhooks import Webhook

from dingdan.db.tables import OutboxMessage
from dingdan.db.tracking_tables import CarrierWebhookDelivery, TrackingEventRow
from dingdan.services.fulfilment import tracking_events
from tests.builders import TEA_SHOP, order_body, pay, post_order
from tests.helpers import run_threads

stocked = TEA_SHOP.fixture()
NUMBER = "123456789012"  # a T-cat number (12 digits)


@pytest.fixture
def shipped(api: Any, stocked: Any) -> dict[str, Any]:
    """A paid order shipped with T-cat, and T-cat's webhook secret."""
    o = post_order(api, order_body())
    pay(api, o)
    s = api.post(
        f"/api/v1/orders/{o['number']}/shipments",
        json={"carrier": "tcat", "tracking_number": NUMBER},
        role="warehouse",
    )
    assert s.status_code == 201, s.text
    r = api.post("/api/v1/carriers/tcat/webhook-secret", role="manager")
    assert r.status_code == 200, r.text
    assert r.json()["secret"].startswith("whsec_")
    assert api.get("/api/v1/carriers/tcat").json()["webhook_secret_set"] is True
    return {"number": o["number"], "shipment": s.json()["id"], "secret": r.json()["secret"]}


def event(status: str, at: str, **more: Any) -> dict[str, Any]:
    return {
        "type": "tracking.updated",
        "data": {"tracking_number": NUMBER, "status": status, "occurred_at": at, **more},
    }


def send(
    client: Any,
    secret: str,
    body: Any,
    msg_id: str = "msg_1",
    at: datetime | None = None,
    carrier: str = "tcat",
) -> Any:
    raw = json.dumps(body).encode()
    when = at or datetime.now(UTC)
    headers = {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(when.timestamp())),
        "webhook-signature": Webhook(secret).sign(msg_id, when, raw.decode()),
        "content-type": "application/json",
    }
    return client.post(f"/hooks/carriers/{carrier}", content=raw, headers=headers)


def outbox(db: Any, topic: str) -> list[dict[str, Any]]:
    with db.engine.connect() as c:
        rows = c.execute(
            select(OutboxMessage.payload).where(OutboxMessage.topic == topic)
        ).scalars()
        return list(rows)


def count(db: Any, model: Any) -> int:
    with db.engine.connect() as c:
        return int(c.execute(select(func.count()).select_from(model)).scalar_one())


def test_signed_events_move_the_shipment_to_delivered_and_complete_the_order(
    api: Any, client: Any, db: Any, shipped: dict[str, Any]
) -> None:
    secret, sid, number = shipped["secret"], shipped["shipment"], shipped["number"]
    r = send(
        client, secret, event("in_transit", "2026-12-07T09:00:00+08:00", location="台北轉運中心")
    )
    assert r.status_code == 200, r.text
    assert r.json()["applied"] == 1
    r = send(client, secret, event("out_for_delivery", "2026-12-07T10:00:00+08:00"), "msg_2")
    assert api.get(f"/api/v1/orders/{number}/shipments").json()["items"][0]["status"] == (
        "out_for_delivery"
    )
    (ofd,) = outbox(db, "order.out_for_delivery")
    assert ofd["number"] == number and ofd["shipment_id"] == sid
    r = send(
        client,
        secret,
        event("exception", "2026-12-07T11:00:00+08:00", exception="failed_attempt"),
        "msg_3",
    )
    shipment = api.get(f"/api/v1/orders/{number}/shipments").json()["items"][0]
    assert (shipment["status"], shipment["exception"]) == ("exception", "failed_attempt")
    (exc,) = outbox(db, "order.delivery_exception")
    assert exc["number"] == number and exc["exception"] == "failed_attempt"

    r = send(client, secret, event("delivered", "2026-12-07 15:30:00"), "msg_4")  # Taipei time
    assert r.status_code == 200 and r.json()["applied"] == 1, r.text
    shipment = api.get(f"/api/v1/orders/{number}/shipments").json()["items"][0]
    assert shipment["status"] == "delivered" and shipment["exception"] is None
    assert shipment["delivered_at"] == "2026-12-07T07:30:00Z"
    assert api.get(f"/api/v1/orders/{number}").json()["status"] == "completed"

    # The same delivery again: acknowledged, nothing new. The same event in another
    # delivery: a duplicate.
    again = send(client, secret, event("delivered", "2026-12-07 15:30:00"), "msg_4")
    assert again.status_code == 200 and again.json() == {"replayed": True}
    dup = send(client, secret, event("delivered", "2026-12-07T07:30:00Z"), "msg_5")
    assert dup.status_code == 200 and dup.json()["duplicates"] == 1
    assert [p["shipment_id"] for p in outbox(db, "order.delivered")] == [sid]
    assert count(db, TrackingEventRow) == 4

    listed = api.get(f"/api/v1/shipments/{sid}/tracking-events").json()["items"]
    assert [e["status"] for e in listed] == [
        "delivered",
        "exception",
        "out_for_delivery",
        "in_transit",
    ]
    assert listed[-1]["location"] == "台北轉運中心" and listed[-1]["source"] == "webhook"
    kinds = [e["kind"] for e in api.get(f"/api/v1/orders/{number}/events").json()["items"]]
    assert kinds.count("tracking") == 3 and kinds.count("delivered") == 1


def test_bad_stale_or_missing_signatures_are_refused_and_store_nothing(
    client: Any, db: Any, shipped: dict[str, Any]
) -> None:
    secret = shipped["secret"]
    body = event("delivered", "2026-12-07T15:30:00+08:00")
    raw = json.dumps(body).encode()
    now = str(int(time.time()))
    forged = {"webhook-id": "m1", "webhook-timestamp": now, "webhook-signature": "v1,AAAA"}
    assert client.post("/hooks/carriers/tcat", content=raw, headers=forged).status_code == 401
    assert client.post("/hooks/carriers/tcat", content=raw).status_code == 401
    old = datetime.now(UTC) - timedelta(minutes=6)
    assert send(client, secret, body, "m2", at=old).status_code == 401
    other = Webhook("whsec_" + "c2VjcmV0LWtleS1vZi1hbm90aGVyLW9uZQ==")
    wrong = {
        "webhook-id": "m3",
        "webhook-timestamp": now,
        "webhook-signature": other.sign("m3", datetime.now(UTC), raw.decode()),
    }
    assert client.post("/hooks/carriers/tcat", content=raw, headers=wrong).status_code == 401
    # A carrier without a secret, and one nobody knows.
    assert send(client, secret, body, "m4", carrier="hct").status_code == 401
    assert send(client, secret, body, "m5", carrier="nobody").status_code == 401
    assert count(db, TrackingEventRow) == 0 and count(db, CarrierWebhookDelivery) == 0
    # Signed, but not a tracking event: 422 problem+json listing the fields.
    bad = send(client, secret, event("lost_in_space", "yesterday"), "m6")
    assert bad.status_code == 422
    assert bad.headers["content-type"].startswith("application/problem+json")
    fields = {e["field"] for e in bad.json()["errors"]}
    assert fields == {"data.status", "data.occurred_at"}
    assert count(db, TrackingEventRow) == 0


def test_a_late_event_is_kept_and_shown_but_does_not_move_the_shipment_back(
    api: Any, client: Any, shipped: dict[str, Any]
) -> None:
    secret, sid = shipped["secret"], shipped["shipment"]
    batch = [
        event("delivered", "2026-12-07T12:00:00+08:00"),
        event("in_transit", "2026-12-07T08:00:00+08:00"),
    ]
    r = send(client, secret, batch)
    assert r.status_code == 200 and r.json()["applied"] == 2, r.text
    late = send(client, secret, event("out_for_delivery", "2026-12-07T10:00:00+08:00"), "m2")
    assert late.json()["stored"] == 1 and late.json()["applied"] == 0
    listed = api.get(f"/api/v1/shipments/{sid}/tracking-events").json()["items"]
    assert [(e["status"], e["applied"]) for e in listed] == [
        ("delivered", True),
        ("out_for_delivery", False),
        ("in_transit", True),
    ]
    shipment = api.get(f"/api/v1/orders/{shipped['number']}/shipments").json()["items"][0]
    assert shipment["status"] == "delivered"
    assert shipment["delivered_at"] == "2026-12-07T04:00:00Z"


def test_an_unknown_tracking_number_is_kept_as_unmatched_until_its_shipment_is_recorded(
    api: Any, client: Any, shipped: dict[str, Any]
) -> None:
    an_hour_ago = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    body = event("in_transit", an_hour_ago, location="桃園")
    body["data"]["tracking_number"] = "9999 9999 9999"
    r = send(client, shipped["secret"], body)
    assert r.status_code == 200 and r.json()["unmatched"] == 1
    items = api.get("/api/v1/tracking-events?unmatched=true").json()["items"]
    assert [(e["tracking_number"], e["shipment_id"]) for e in items] == [("999999999999", None)]

    o = post_order(api, order_body())
    pay(api, o)
    s = api.post(
        f"/api/v1/orders/{o['number']}/shipments",
        json={"carrier": "tcat", "tracking_number": "9999-9999-9999"},
        role="warehouse",
    )
    assert s.status_code == 201, s.text
    assert api.get("/api/v1/tracking-events?unmatched=true").json()["items"] == []
    (adopted,) = api.get(f"/api/v1/shipments/{s.json()['id']}/tracking-events").json()["items"]
    assert adopted["applied"] and adopted["location"] == "桃園"
    shipment = api.get(f"/api/v1/orders/{o['number']}/shipments").json()["items"][0]
    assert shipment["status"] == "in_transit"


def test_a_file_with_bad_rows_stores_nothing_and_lists_them_unless_skip_bad(
    api: Any, client: Any, db: Any, shipped: dict[str, Any]
) -> None:
    send(client, shipped["secret"], event("in_transit", "2026-12-07T09:00:00+08:00"))
    text = (
        "\ufeffcarrier,tracking_number,status,time,location\n"
        f"tcat,{NUMBER},in_transit,2026-12-07T09:00:00+08:00,台北\n"  # a duplicate
        f"黑貓宅急便,{NUMBER},out_for_delivery,2026-12-07 10:00,台北營業所\n"
        f"tcat,{NUMBER},teleported,2026-12-07 11:00,\n"
        "nobody,123,delivered,not a time,\n"
        "tcat,888888888888,in_transit,2026-12-07 11:00,\n"  # unmatched
    )
    files = {"file": ("events.csv", text.encode(), "text/csv")}
    r = api.post("/api/v1/tracking-events/import", files=files, role="warehouse")
    assert r.status_code == 422, r.text
    problems = {(e["field"], e["code"]) for e in r.json()["errors"]}
    assert problems == {
        ("rows[4].status", "not_one_of"),
        ("rows[5].carrier", "unknown_carrier"),
        ("rows[5].time", "not_a_time"),
    }
    assert count(db, TrackingEventRow) == 1
    r = api.post("/api/v1/tracking-events/import?skip_bad=true", files=files, role="warehouse")
    assert r.status_code == 200, r.text
    got = r.json()
    assert (got["applied"], got["duplicates"], got["unmatched"], got["skipped"]) == (1, 1, 1, 2)
    assert [e["row"] for e in got["errors"]] == [4, 5, 5]
    (ofd,) = outbox(db, "order.out_for_delivery")
    assert ofd["number"] == shipped["number"]
    listed = api.get(f"/api/v1/shipments/{shipped['shipment']}/tracking-events").json()["items"]
    assert listed[0]["source"] == "csv" and listed[0]["location"] == "台北營業所"
    assert api.post("/api/v1/tracking-events/import", files=files, role="viewer").status_code == 403


def test_the_api_takes_a_list_of_events_all_or_nothing(
    api: Any, db: Any, shipped: dict[str, Any]
) -> None:
    good = {
        "carrier": "tcat",
        "tracking_number": NUMBER,
        "status": "exception",
        "occurred_at": "2026-12-07T10:00:00+08:00",
        "exception": "refused",
    }
    bad = {**good, "carrier": "nobody"}
    r = api.post("/api/v1/tracking-events", json=[good, bad], role="warehouse")
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "items[1].carrier"
    assert count(db, TrackingEventRow) == 0
    r = api.post("/api/v1/tracking-events", json=[good], role="warehouse")
    assert r.status_code == 200 and r.json()["applied"] == 1, r.text
    assert [p["exception"] for p in outbox(db, "order.delivery_exception")] == ["refused"]


def test_one_event_delivered_twice_at_once_is_stored_once(db: Any, shipped: dict[str, Any]) -> None:
    body = json.dumps(event("delivered", "2026-12-07T15:30:00+08:00")).encode()
    hook = Webhook(shipped["secret"])

    def deliver(i: int) -> None:
        when = datetime.now(UTC)
        msg_id = f"concurrent-{i % 2}"  # the same delivery twice, and a second delivery of it
        headers = {
            "webhook-id": msg_id,
            "webhook-timestamp": str(int(when.timestamp())),
            "webhook-signature": hook.sign(msg_id, when, body.decode()),
        }
        tracking_events.receive_webhook(db, "tcat", headers, body, time.time())

    assert run_threads(4, deliver) == []
    assert count(db, TrackingEventRow) == 1
    assert count(db, CarrierWebhookDelivery) == 2
    assert len(outbox(db, "order.delivered")) == 1


def test_an_xlsx_file_is_read_like_a_csv(api: Any, shipped: dict[str, Any]) -> None:
    import io

    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["carrier", "tracking_number", "status", "time", "location"])
    sheet.append(["tcat", NUMBER, "delivered", datetime(2026, 12, 7, 18, 5), "新北市"])
    data = io.BytesIO()
    book.save(data)
    files = {"file": ("events.xlsx", data.getvalue(), "application/octet-stream")}
    r = api.post("/api/v1/tracking-events/import", files=files, role="warehouse")
    assert r.status_code == 200 and r.json()["applied"] == 1, r.text
    shipment = api.get(f"/api/v1/orders/{shipped['number']}/shipments").json()["items"][0]
    assert shipment["delivered_at"] == "2026-12-07T10:05:00Z"  # 18:05 in Taipei


def test_an_exception_staff_record_is_announced_too_without_their_note(
    api: Any, db: Any, shipped: dict[str, Any]
) -> None:
    body = {"kind": "refused", "note": "客人說不要了"}
    r = api.post(f"/api/v1/shipments/{shipped['shipment']}/exceptions", json=body, role="warehouse")
    assert r.status_code == 200, r.text
    (payload,) = outbox(db, "order.delivery_exception")
    assert payload["number"] == shipped["number"] and payload["exception"] == "refused"
    assert "note" not in payload
