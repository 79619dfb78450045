"""Outgoing webhooks against a real HTTP receiver: signed as Standard Webhooks v1 (checked
with the spec's own library), retried with the same webhook-id, 410 disables, secrets
rotate with a day of overlap, replay, and an order's first attempts in event order."""

from __future__ import annotations

import json
import random
import threading
import time
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, update
from standardwebhooks import Webhook, WebhookVerificationError

from dingdan.config import get_settings
from dingdan.db.types import utcnow
from dingdan.db.webhook_tables import WebhookDelivery, WebhookEndpoint
from dingdan.domain.shared.retries import MAX_ATTEMPTS
from dingdan.services.integrations import delivery, webhooks
from dingdan.services.jobs import worker
from tests.builders import TEA_SHOP, pay, post_order, shipped_order
from tests.helpers import run_threads
from tests.integration.webhook_receiver import Receiver

stocked = TEA_SHOP.fixture()


@pytest.fixture
def private_ok(monkeypatch: pytest.MonkeyPatch) -> Any:
    """Webhooks may go to 127.0.0.1 (where the test's receiver listens)."""
    monkeypatch.setenv("DINGDAN_WEBHOOK_ALLOW_PRIVATE", "true")
    get_settings.cache_clear()
    yield
    monkeypatch.undo()
    get_settings.cache_clear()


@pytest.fixture
def receiver() -> Any:
    with Receiver() as r:
        yield r


def add_endpoint(api: Any, url: str, events: list[str] | None = None) -> dict[str, Any]:
    r = api.post("/api/v1/webhooks", json={"url": url, "events": events or ["*"]})
    assert r.status_code == 201, r.text
    return dict(r.json())


def run(db: Any) -> dict[str, int]:
    """One worker round, synchronously: the outbox fanned out, then what is due sent."""
    worker.drain(db)
    return delivery.send_due(db)


def due_now(db: Any) -> None:
    """Time passes: every pending delivery's next attempt is due."""
    db.write(
        lambda c: c.execute(
            update(WebhookDelivery)
            .where(WebhookDelivery.status == "pending")
            .values(next_attempt_at=utcnow())
        )
    )


def deliveries_of(api: Any, endpoint: dict[str, Any]) -> list[dict[str, Any]]:
    r = api.get(f"/api/v1/webhooks/{endpoint['id']}/deliveries")
    assert r.status_code == 200, r.text
    return list(r.json()["items"])


def test_an_order_event_arrives_signed_and_the_standardwebhooks_library_verifies_it(
    api, stocked, private_ok, receiver
):
    hook = add_endpoint(api, receiver.url, ["order.created", "order.paid"])
    assert hook["secret"].startswith("whsec_") and hook["status"] == "active"
    order = post_order(api)
    assert run(db=api.db) == {"delivered": 1, "pending": 0, "dead": 0, "gone": 0}

    [got] = receiver.received
    payload = Webhook(hook["secret"]).verify(got.raw, got.headers)
    assert payload["type"] == "order.created" and payload["timestamp"].endswith("Z")
    shown = api.get(f"/api/v1/orders/{order['number']}").json()
    assert payload["data"] == shown  # the order as the API shows it
    assert got.headers["content-type"] == "application/json"
    assert got.webhook_id.startswith("msg_")
    assert abs(int(got.headers["webhook-timestamp"]) - time.time()) < 60
    with pytest.raises(WebhookVerificationError):
        Webhook("whsec_" + "A" * 32).verify(got.raw, got.headers)

    [d] = deliveries_of(api, hook)
    assert {k: d[k] for k in ("event_type", "webhook_id", "status", "attempts")} == {
        "event_type": "order.created",
        "webhook_id": got.webhook_id,
        "status": "delivered",
        "attempts": 1,
    } and d["last_status_code"] == 200
    detail = api.get(f"/api/v1/webhooks/{hook['id']}/deliveries/{d['id']}").json()
    assert detail["body"] == got.body
    [attempt] = detail["attempt_log"]
    assert attempt["status_code"] == 200 and attempt["response_excerpt"] == "ok"
    assert attempt["duration_ms"] >= 0
    # An event the endpoint does not hear is not sent; a second round sends nothing again.
    api.post(f"/api/v1/orders/{order['number']}/notes", json={"text": "gift wrap"})
    assert run(api.db) == {"delivered": 0, "pending": 0, "dead": 0, "gone": 0}
    assert len(receiver.received) == 1


def test_the_fan_out_of_one_event_twice_writes_one_delivery(api, stocked, private_ok, receiver):
    add_endpoint(api, receiver.url)
    order = post_order(api)
    now = utcnow()
    for _ in range(2):  # the worker died before settling: the event is handed over again
        webhooks.fan_out(api.db, 424242, "order.created", {"number": order["number"]}, now)
    rows = api.db.read(
        lambda c: c.execute(
            select(WebhookDelivery.id).where(WebhookDelivery.event_id == 424242)
        ).all()
    )
    assert len(rows) == 1


def test_a_failed_delivery_is_retried_on_schedule_with_the_same_webhook_id_and_body(
    api, stocked, private_ok
):
    answers = iter([(500, "busy"), (503, "still busy"), (200, "thanks")])
    with Receiver(lambda _r, _n: next(answers)) as receiver:
        hook = add_endpoint(api, receiver.url, ["order.created"])
        post_order(api)
        before = utcnow()
        assert run(api.db) == {"delivered": 0, "pending": 1, "dead": 0, "gone": 0}
        [d] = deliveries_of(api, hook)
        assert d["status"] == "pending" and d["last_status_code"] == 500
        wait = _iso(d["next_attempt_at"]) - before
        assert timedelta(seconds=25) <= wait <= timedelta(seconds=31)  # within 30 s
        assert run(api.db)["pending"] == 0  # not due yet: nothing sent
        assert len(receiver.received) == 1
        due_now(api.db)
        assert run(api.db)["pending"] == 1
        [d] = deliveries_of(api, hook)
        wait = _iso(d["next_attempt_at"]) - utcnow()
        assert timedelta(minutes=4) <= wait <= timedelta(minutes=5)  # about 5 min
        due_now(api.db)
        assert run(api.db)["delivered"] == 1

        first, second, third = receiver.received
        assert first.webhook_id == second.webhook_id == third.webhook_id
        assert first.body == second.body == third.body
        for got in (first, second, third):
            Webhook(hook["secret"]).verify(got.raw, got.headers)
        detail = api.get(f"/api/v1/webhooks/{hook['id']}/deliveries/{d['id']}").json()
        assert [a["status_code"] for a in detail["attempt_log"]] == [500, 503, 200]
        assert detail["attempt_log"][0]["response_excerpt"] == "busy"
        assert detail["status"] == "delivered" and detail["attempts"] == 3


def test_after_the_last_retry_a_delivery_is_dead_and_a_replay_sends_it_again(
    api, stocked, private_ok
):
    codes = iter([500, 200, 200])
    with Receiver(lambda _r, _n: (next(codes), "")) as receiver:
        hook = add_endpoint(api, receiver.url, ["order.created"])
        post_order(api)
        worker.drain(api.db)
        # Nine failures already: the tenth attempt is the last one the schedule allows.
        api.db.write(lambda c: c.execute(update(WebhookDelivery).values(failures=MAX_ATTEMPTS - 1)))
        assert delivery.send_due(api.db) == {"delivered": 0, "pending": 0, "dead": 1, "gone": 0}
        [d] = deliveries_of(api, hook)
        assert d["status"] == "dead" and d["next_attempt_at"] is None
        assert api.get(f"/api/v1/webhooks/{hook['id']}/deliveries?status=dead").json()["items"]

        r = api.post(f"/api/v1/webhooks/{hook['id']}/deliveries/{d['id']}/replay")
        assert r.status_code == 200, r.text
        assert r.json()["status"] == "pending"
        assert delivery.send_due(api.db)["delivered"] == 1
        # A delivered one may be replayed too (the receiver lost it): the same id again.
        r = api.post(f"/api/v1/webhooks/{hook['id']}/deliveries/{d['id']}/replay")
        assert r.status_code == 200 and delivery.send_due(api.db)["delivered"] == 1
        assert len({got.webhook_id for got in receiver.received}) == 1
        assert len(receiver.received) == 3
        missing = api.post(f"/api/v1/webhooks/{hook['id']}/deliveries/999999/replay")
        assert missing.status_code == 404


def test_a_410_disables_the_endpoint_and_its_deliveries_wait_until_it_is_enabled(
    api, stocked, private_ok
):
    gone = threading.Event()
    gone.set()
    with Receiver(lambda _r, _n: (410, "gone") if gone.is_set() else (200, "")) as receiver:
        hook = add_endpoint(api, receiver.url)
        order = post_order(api)
        assert run(api.db)["pending"] == 1
        shown = api.get(f"/api/v1/webhooks/{hook['id']}").json()
        assert shown["status"] == "disabled" and "410" in shown["disabled_reason"]
        pay(api, order)  # a disabled endpoint hears nothing new
        due_now(api.db)
        assert run(api.db) == {"delivered": 0, "pending": 0, "dead": 0, "gone": 0}
        assert len(receiver.received) == 1

        gone.clear()
        r = api.patch(f"/api/v1/webhooks/{hook['id']}", json={"status": "active"})
        assert r.status_code == 200 and r.json()["disabled_reason"] is None
        assert run(api.db)["delivered"] == 1  # the one that waited
        assert [got.json["type"] for got in receiver.received] == ["order.created"] * 2


def test_after_a_rotation_both_secrets_sign_for_24_hours_then_only_the_new_one(
    api, stocked, private_ok, receiver
):
    hook = add_endpoint(api, receiver.url, ["order.created"])
    r = api.post(f"/api/v1/webhooks/{hook['id']}/rotate-secret")
    assert r.status_code == 200, r.text
    new = r.json()["secret"]
    assert new != hook["secret"] and r.json()["previous_secret_until"]
    post_order(api)
    run(api.db)
    got = receiver.received[-1]
    assert len(got.headers["webhook-signature"].split(" ")) == 2
    Webhook(new).verify(got.raw, got.headers)
    Webhook(hook["secret"]).verify(got.raw, got.headers)  # receivers not yet switched

    later = utcnow() - timedelta(seconds=1)  # the 24 hours are over
    api.db.write(lambda c: c.execute(update(WebhookEndpoint).values(previous_until=later)))
    post_order(api)
    run(api.db)
    got = receiver.received[-1]
    assert len(got.headers["webhook-signature"].split(" ")) == 1
    Webhook(new).verify(got.raw, got.headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(hook["secret"]).verify(got.raw, got.headers)
    assert api.get(f"/api/v1/webhooks/{hook['id']}").json()["previous_secret_until"] is None


def test_an_orders_first_attempts_go_out_in_event_order_under_concurrency(api, private_ok):
    from tests.builders import Shop

    Shop({"TEA-001": "350.00"}, {"TPE": 0}, {"TPE": {"TEA-001": 50}}).build(api.db)
    rng = random.Random(7)
    failed_once: set[str] = set()
    lock = threading.Lock()

    def script(got: Any, _n: int) -> tuple[int, str]:
        time.sleep(rng.random() * 0.01)
        with lock:  # every order's first event fails once: its retry holds nothing back
            if got.json["type"] == "order.created" and got.webhook_id not in failed_once:
                failed_once.add(got.webhook_id)
                return 500, ""
        return 200, ""

    with Receiver(script) as receiver:
        hook = add_endpoint(api, receiver.url)
        numbers: list[str] = []
        errors = run_threads(4, lambda _i: numbers.append(shipped_order(api)))
        assert errors == []
        worker.drain(api.db)
        assert run_threads(3, lambda _i: delivery.send_due(api.db)) == []
        due_now(api.db)
        delivery.send_due(api.db)

        events = {d["webhook_id"]: d for d in deliveries_of(api, hook)}
        assert all(d["status"] == "delivered" for d in events.values())
        rows = api.db.read(
            lambda c: c.execute(
                select(
                    WebhookDelivery.webhook_id,
                    WebhookDelivery.event_id,
                    WebhookDelivery.order_number,
                )
            ).all()
        )
        event_of = {r.webhook_id: r.event_id for r in rows}
        for number in numbers:
            firsts: list[str] = []
            for got in receiver.received:
                if got.json["data"].get("number") == number and got.webhook_id not in firsts:
                    firsts.append(got.webhook_id)
            assert len(firsts) >= 4  # created, paid, shipped, delivered (and a note or so)
            assert [event_of[w] for w in firsts] == sorted(event_of[w] for w in firsts)
            types = [json.loads(_body(receiver, w))["type"] for w in firsts]
            assert types[:2] == ["order.created", "order.paid"], types
            # The created event's retry came after the paid one's first attempt.
            created = [g for g in receiver.received if g.webhook_id == firsts[0]]
            paid_first = next(g for g in receiver.received if g.webhook_id == firsts[1])
            assert len(created) == 2 and paid_first.at < created[1].at


def _body(receiver: Receiver, webhook_id: str) -> str:
    return next(g.body for g in receiver.received if g.webhook_id == webhook_id)


def _iso(text: str) -> Any:
    from datetime import datetime

    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_order_capture_does_not_wait_for_a_slow_endpoint(api, stocked, private_ok):
    release = threading.Event()

    def slow(_r: Any, _n: int) -> tuple[int, str]:
        release.wait(10)
        return 200, ""

    with Receiver(slow) as receiver:
        add_endpoint(api, receiver.url)
        post_order(api)
        worker.drain(api.db)
        assert delivery.pump(api.db) == 1  # handed to the senders' threads; returns at once
        receiver.wait_for(lambda: len(receiver.received) == 1)
        started = time.monotonic()
        post_order(api)  # while the endpoint holds the first delivery
        worker.drain(api.db)
        assert time.monotonic() - started < 5
        release.set()
        receiver.wait_for(
            lambda: (
                api.db.read(
                    lambda c: c.execute(
                        select(WebhookDelivery.id).where(WebhookDelivery.status == "delivered")
                    ).first()
                )
                is not None
            )
        )


def test_a_first_attempt_waits_for_an_earlier_event_not_yet_fanned_out(
    api, stocked, private_ok, receiver
):
    from dingdan.db.tables import OutboxMessage

    add_endpoint(api, receiver.url)
    order = post_order(api)
    worker.drain(api.db)
    # Another worker holds an earlier event of the order, not yet handed to the consumers.
    earlier = utcnow() - timedelta(seconds=1)
    api.db.write(
        lambda c: c.execute(
            OutboxMessage.__table__.insert().values(
                topic="order.updated",
                payload={"number": order["number"]},
                created_at=earlier,
                available_at=utcnow() + timedelta(hours=1),
                claimed_by="another worker",
                claimed_until=utcnow() + timedelta(minutes=5),
            )
        )
    )
    assert delivery.send_due(api.db)["delivered"] == 0 and receiver.received == []
    api.db.write(lambda c: c.execute(OutboxMessage.__table__.delete()))  # handed over
    assert delivery.send_due(api.db)["delivered"] == 1


def test_an_endpoint_deleted_while_its_delivery_is_in_flight_records_nothing(
    api, stocked, private_ok
):
    def delete_meanwhile(_r: Any, _n: int) -> tuple[int, str]:
        assert api.request("DELETE", f"/api/v1/webhooks/{hook['id']}").status_code == 204
        return 200, ""

    with Receiver(delete_meanwhile) as receiver:
        hook = add_endpoint(api, receiver.url)
        post_order(api)
        assert run(api.db) == {"delivered": 0, "pending": 0, "dead": 0, "gone": 1}
        assert len(receiver.received) == 1
