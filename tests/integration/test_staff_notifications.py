"""Staff notifications: each producer tells the right users once (a second run adds
nothing), users' choices win over their role's defaults, and emails are queued in the
user's language in the messages table (no SMTP here)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, insert, select, update

from dingdan.db.engine import Database
from dingdan.db.message_tables import Message
from dingdan.db.notification_tables import Notification
from dingdan.db.order_tables import Order
from dingdan.db.return_tables import Dispute
from dingdan.db.tables import OutboxMessage, Product, User
from dingdan.db.types import utcnow
from dingdan.db.webhook_tables import WebhookEndpoint
from dingdan.domain.access.roles import Role
from dingdan.services.access import accounts
from dingdan.services.after_sales import disputes
from dingdan.services.jobs import staff_alerts, worker
from dingdan.services.messaging import notifications
from dingdan.services.orders import capture
from tests.builders import ADMIN, TEA_SHOP, WANG, order_body
from tests.helpers import run_threads

stocked = TEA_SHOP.fixture()
PASSWORD = "correct-horse-battery"


@pytest.fixture
def staff(stocked: Database) -> dict[str, int]:
    ids = {}
    for role in Role:
        user = accounts.create_user(
            stocked, ADMIN, email=f"{role.value}@example.com", role=role.value, password=PASSWORD
        )
        ids[role.value] = int(user["id"])
    stocked.write(
        lambda conn: conn.execute(
            update(User).where(User.id == ids["manager"]).values(language="zh_Hant")
        )
    )
    return ids


def _who(db: Database, kind: str) -> dict[int, int]:
    """user id → how many notifications of ``kind``."""
    return dict(
        db.read(
            lambda conn: conn.execute(
                select(Notification.user_id, func.count())
                .where(Notification.kind == kind)
                .group_by(Notification.user_id)
            ).all()
        )
    )


def _emails(db: Database) -> list[Any]:
    return db.read(
        lambda conn: conn.execute(
            select(Message).where(Message.kind.like("staff.%")).order_by(Message.id)
        ).all()
    )


def _ids(staff: dict[str, int], *roles: str) -> set[int]:
    return {staff[r] for r in roles}


def test_new_order_and_return_requested_told_once_to_their_roles(
    stocked: Database, staff: dict[str, int]
) -> None:
    db = stocked
    notifications.set_preferences(
        db, staff["customer_service"], {"new_order": {"in_app": True, "email": True}}
    )
    notifications.set_preferences(
        db, staff["viewer"], {"new_order": {"in_app": True, "email": False}}
    )
    order, _ = capture.place_order(db, ADMIN, order_body(buyer=WANG))
    worker.drain(db)
    told = _who(db, "new_order")
    assert set(told) == _ids(staff, "manager", "customer_service", "admin", "viewer")
    assert set(told.values()) == {1}
    # At least once: the consumer run again for the same event adds nothing.
    event = db.read(
        lambda conn: conn.execute(
            select(Notification.dedupe_key).where(Notification.kind == "new_order")
        ).scalar()
    )
    event_id = int(event.split(":")[1])
    again = type(
        "E", (), {"id": event_id, "topic": "order.created", "payload": {"number": order["number"]}}
    )
    notifications.on_event(db, again)
    assert _who(db, "new_order") == told
    # Email only to the one who asked for it (the manager's default leaves new orders out).
    mails = _emails(db)
    assert [(m.recipient, m.order_number, m.locale) for m in mails] == [
        ("customer_service@example.com", None, "en")
    ]
    assert order["number"] in mails[0].subject
    assert f"/orders/{order['number']}" in mails[0].text_body
    # In the reader's language: the manager's list in Traditional Chinese.
    (row,) = notifications.listing(db, staff["manager"], "zh_Hant")
    assert row["title"] == f"新訂單 {order['number']}"
    assert row["link"] == f"/orders/{order['number']}" and not row["read"]
    assert notifications.unread_count(db, staff["manager"]) == 1

    # A return request (the payload returns.py emits), twice: once each, to its roles.
    returned = type(
        "E",
        (),
        {
            "id": event_id + 1000,
            "topic": "return.requested",
            "payload": {"number": order["number"], "return_id": "7"},
        },
    )
    notifications.on_event(db, returned)
    notifications.on_event(db, returned)
    told = _who(db, "return_requested")
    assert told == dict.fromkeys(_ids(staff, "manager", "customer_service", "admin"), 1)
    mails = [m for m in _emails(db) if m.kind == "staff.return_requested"]
    assert [(m.recipient, m.locale) for m in mails] == [("manager@example.com", "zh-Hant")]
    assert mails[0].subject == f"{order['number']} 申請退貨"
    assert mails[0].text_body.endswith("/returns/7\n")


def test_scans_tell_once_and_email_managers_in_their_language(
    stocked: Database, staff: dict[str, int]
) -> None:
    db = stocked
    # A backordered order (TEA-002: 1 in stock, 3 ordered), a low SKU, a dispute due
    # tomorrow, an endpoint disabled by a 410.
    order, _ = capture.place_order(
        db, ADMIN, order_body([{"sku": "TEA-002", "quantity": 3}], buyer=WANG)
    )
    number = order["number"]
    db.write(
        lambda conn: conn.execute(
            update(Product).where(Product.sku == "TEA-001").values(low_stock_threshold=4)
        )
    )
    # TEA-001: 3 available at TPE, none on order, a reorder point of 5 set by hand.
    db.write(
        lambda conn: conn.execute(
            update(Product).where(Product.sku == "TEA-001").values(reorder_point=5)
        )
    )
    order_id = db.read(
        lambda conn: conn.execute(select(Order.id).where(Order.number == number)).scalar()
    )
    due = utcnow().date() + timedelta(days=1)
    db.write(
        lambda conn: conn.execute(
            insert(Dispute).values(
                order_id=order_id, type="damaged", status="open", due_date=due, opened_by="t"
            )
        )
    )
    db.write(
        lambda conn: conn.execute(
            insert(WebhookEndpoint).values(
                url="https://hooks.example.com/x",
                events=["*"],
                status="disabled",
                disabled_reason="410 Gone",
                secret="s" * 32,
            )
        )
    )
    later = utcnow() + timedelta(days=4)
    first = staff_alerts.scan(db, now=later)
    assert all(first.values()), first
    assert staff_alerts.scan(db, now=later) == dict.fromkeys(first, 0)

    # Late at payment (owner: finance), with the manager and admin.
    assert set(_who(db, "stuck_order")) == _ids(staff, "manager", "finance", "admin")
    assert set(_who(db, "low_stock")) == _ids(staff, "manager", "warehouse", "admin")
    assert set(_who(db, "backorder_waiting")) == _ids(staff, "manager", "warehouse", "admin")
    assert set(_who(db, "reorder_point")) == _ids(staff, "manager", "warehouse", "admin")
    reorder = db.read(
        lambda conn: conn.execute(
            select(Notification.params, Notification.link).where(
                Notification.kind == "reorder_point"
            )
        ).all()
    )
    tea = [r for r in reorder if (r.params["sku"], r.params["location"]) == ("TEA-001", "TPE")]
    assert tea and all(
        (r.params["available"], r.params["on_order"], r.params["reorder_point"]) == (3, 0, 5)
        and r.params["quantity"] >= 2
        and r.link == "/replenishment?location=TPE"
        for r in tea
    ), tea
    assert set(_who(db, "dispute_due")) == _ids(
        staff, "manager", "finance", "customer_service", "admin"
    )
    assert set(_who(db, "webhook_failing")) == _ids(staff, "manager", "admin")

    # The manager hears of each by email, in Traditional Chinese.
    mails = _emails(db)
    assert {m.recipient for m in mails} == {"manager@example.com"}
    assert all(m.locale == "zh-Hant" for m in mails)
    kinds = {m.kind for m in mails}
    assert kinds == {
        "staff.stuck_order",
        "staff.low_stock",
        "staff.reorder_point",
        "staff.backorder_waiting",
        "staff.dispute_due",
        "staff.webhook_failing",
    }
    dispute_mail = next(m for m in mails if m.kind == "staff.dispute_due")
    assert dispute_mail.subject == f"{number} 的爭議將於 {due.isoformat()} 到期"

    # One alert per SKU and location: TEA-001 at TPE has a reorder point, so its threshold
    # (4, also crossed) is not told; TEA-002 has none (no demand before today): its threshold.
    low = db.read(
        lambda conn: conn.execute(
            select(Notification.params).where(Notification.kind == "low_stock")
        ).scalars()
    )
    assert {(p["sku"], p["location"]) for p in low} == {("TEA-002", "TPE")}
    # Each crossing emitted its event once, for webhooks.
    events = db.read(
        lambda conn: conn.execute(
            select(OutboxMessage.payload).where(OutboxMessage.topic == "inventory.low_stock")
        ).all()
    )
    # TEA-001 at TPE and KHH (3 and 5, at or below its reorder point 5) and TEA-002 (all of
    # it reserved: 0, threshold 0).
    assert sorted((e.payload for e in events), key=lambda p: (p["sku"], p["location"])) == [
        {"sku": "TEA-001", "location": "KHH", "available": 5, "on_order": 0, "reorder_point": 5},
        {"sku": "TEA-001", "location": "TPE", "available": 3, "on_order": 0, "reorder_point": 5},
        {"sku": "TEA-002", "location": "TPE", "available": 0, "threshold": 0},
    ]


def test_the_reorder_scan_runs_in_one_process_per_hour(
    stocked: Database, staff: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    db = stocked
    db.write(
        lambda conn: conn.execute(
            update(Product).where(Product.sku == "TEA-001").values(reorder_point=5)
        )
    )
    first = staff_alerts.run(db, every=0)
    # TPE and KHH (3 and 5 available), each to the manager, the warehouse and the admin.
    assert first is not None and first["reorder_point"] == 6
    # Another worker process (its own minute timer): the hour is claimed, it scans the rest.
    monkeypatch.setattr(staff_alerts, "_last_run", float("-inf"))
    second = staff_alerts.run(db, every=0)
    assert second is not None and "reorder_point" not in second and "low_stock" in second


def test_low_stock_told_again_after_a_new_crossing_and_choices_win(
    stocked: Database, staff: dict[str, int]
) -> None:
    db = stocked
    notifications.set_preferences(
        db, staff["warehouse"], {"low_stock": {"in_app": False, "email": False}}
    )
    db.write(
        lambda conn: conn.execute(
            update(Product).where(Product.sku == "TEA-001").values(low_stock_threshold=4)
        )
    )
    assert staff_alerts.low_stock(db) == 2  # manager, admin; not the warehouse who said no
    assert staff_alerts.low_stock(db) == 0
    assert _who(db, "low_stock") == {staff["manager"]: 1, staff["admin"]: 1}
    db.write(
        lambda conn: conn.execute(
            update(Product).where(Product.sku == "TEA-001").values(low_stock_threshold=0)
        )
    )
    assert staff_alerts.low_stock(db) == 0  # back above: the condition is forgotten
    db.write(
        lambda conn: conn.execute(
            update(Product).where(Product.sku == "TEA-001").values(low_stock_threshold=4)
        )
    )
    assert staff_alerts.low_stock(db, now=utcnow() + timedelta(seconds=2)) == 2
    assert _who(db, "low_stock") == {staff["manager"]: 2, staff["admin"]: 2}


def test_mark_read_and_preferences(stocked: Database, staff: dict[str, int]) -> None:
    db = stocked
    capture.place_order(db, ADMIN, order_body(buyer=WANG))
    capture.place_order(db, ADMIN, order_body(buyer=WANG))
    worker.drain(db)
    me = staff["manager"]
    rows = notifications.listing(db, me, "en")
    assert len(rows) == 2 and rows[0]["id"] > rows[1]["id"]
    assert notifications.mark_read(db, staff["admin"], [rows[0]["id"]]) == 0  # not theirs
    assert notifications.mark_read(db, me, [rows[0]["id"]]) == 1
    assert notifications.unread_count(db, me) == 1
    assert notifications.mark_read(db, me, everything=True) == 1
    assert notifications.unread_count(db, me) == 0
    prefs = {p["kind"]: p for p in notifications.preferences(db, staff["warehouse"], "warehouse")}
    assert prefs["low_stock"]["in_app"] and not prefs["low_stock"]["email"]
    assert not prefs["new_order"]["in_app"]
    title, _ = notifications.render(
        "stuck_order", {"number": "DD1", "stage": "picking", "hours": 24}, "zh_Hant"
    )
    assert title == "訂單 DD1 在揀貨階段逾時"
    title, text = notifications.render(
        "webhook_failing", {"url": "https://h.example", "reason": "disabled"}, "zh_Hans"
    )
    assert title == "Webhook 端点出现问题：https://h.example"
    assert text == "Webhook 端点 https://h.example 出现问题：已停用。"


def test_two_workers_scanning_at_once_tell_a_crossing_once(
    stocked: Database, staff: dict[str, int]
) -> None:
    db = stocked
    db.write(
        lambda conn: conn.execute(
            update(Product).where(Product.sku == "TEA-001").values(low_stock_threshold=4)
        )
    )
    assert run_threads(2, lambda i: staff_alerts.low_stock(db)) == []
    assert _who(db, "low_stock") == {staff["manager"]: 1, staff["admin"]: 1, staff["warehouse"]: 1}
    events = db.read(
        lambda conn: conn.execute(
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.topic == "inventory.low_stock")
        ).scalar()
    )
    assert events == 1


def test_dispute_opened_told_through_the_outbox(stocked: Database, staff: dict[str, int]) -> None:
    db = stocked
    order, _ = capture.place_order(db, ADMIN, order_body(buyer=WANG))
    dispute = disputes.open_dispute(db, ADMIN, order["number"], {"type": "damaged"})
    worker.drain(db)
    worker.drain(db)
    told = _who(db, "dispute_opened")
    assert told == dict.fromkeys(_ids(staff, "manager", "finance", "customer_service", "admin"), 1)
    (row,) = [
        r
        for r in notifications.listing(db, staff["finance"], "en")
        if r["kind"] == "dispute_opened"
    ]
    assert row["title"] == f"Dispute opened on {order['number']}"
    assert row["link"] == f"/disputes/{dispute['id']}"


def test_a_channel_delivery_needing_attention_is_told_through_the_outbox(
    stocked: Database, staff: dict[str, int]
) -> None:
    db = stocked
    payload = {"channel": "shopify", "external_id": "450789469", "reason": "unknown SKU X-1"}
    db.write(
        lambda conn: conn.execute(
            insert(OutboxMessage).values(topic="inbound.needs_attention", payload=payload)
        )
    )
    worker.drain(db)
    worker.drain(db)
    told = _who(db, "inbound_attention")
    assert told == dict.fromkeys(_ids(staff, "manager", "customer_service", "admin"), 1)
    (row,) = notifications.listing(db, staff["customer_service"], "en")
    assert row["title"] == "Channel order needs attention: shopify 450789469"
    assert "unknown SKU X-1" in row["text"]
    assert row["link"] == "/inbound?status=needs_attention"
    (zh,) = notifications.listing(db, staff["manager"], "zh_Hant")
    assert "shopify" in zh["title"] and zh["title"] != row["title"]


def test_an_einvoice_range_running_out_is_told_to_finance_and_managers(
    stocked: Database, staff: dict[str, int]
) -> None:
    db = stocked
    payload = {"period": "2026-11", "prefix": "AB", "remaining": 10, "number": "DD001001"}
    db.write(
        lambda conn: conn.execute(
            insert(OutboxMessage).values(topic="einvoice.range_low", payload=payload)
        )
    )
    worker.drain(db)
    worker.drain(db)  # the same event again: nobody told twice
    told = _who(db, "einvoice_range_low")
    assert told == dict.fromkeys(_ids(staff, "manager", "finance", "admin"), 1)
    (row,) = notifications.listing(db, staff["finance"], "en")
    assert row["title"] == "E-invoice numbers running out: AB, 2026-11"
    assert "80% used (10 numbers left)" in row["text"]
    assert row["link"] == "/settings/invoicing"
    (zh,) = notifications.listing(db, staff["manager"], "zh_Hant")
    assert zh["title"] == "電子發票號碼即將用完：AB，2026-11"
