"""A customer's rights: a copy of all their data, and erasure that keeps the money records
(shared/CONTRACT.md, "Routing, pickup, risk, personal data"; issue 26, part 5)."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import insert, select, update

from dingdan.db.crm_tables import CustomerNote
from dingdan.db.message_tables import Message
from dingdan.db.order_tables import Customer, Order, Payment
from dingdan.db.webhook_tables import WebhookDelivery
from dingdan.services.access import audit_log
from dingdan.services.jobs import worker
from tests.builders import TEA_SHOP, order_body, post_order

stocked = TEA_SHOP.fixture()

EMAIL, PHONE, NAME = "a@example.com", "+886912345678", "王小明"
IP = "203.0.113.9"
BILLING = {
    "name": "Wang Hsiao-ming",
    "line1": "1 Main St",
    "city": "Springfield",
    "postal_code": "62701",
    "region": "IL",
    "country": "US",
}


def _order_and_customer(api, **over):
    order = post_order(api, order_body(**over))
    return order, order["customer"]["id"]


def _personal(db, number: str) -> str:
    """Everything stored for one order where a person's data could be, as one text."""

    def work(c):
        o = c.execute(select(Order).where(Order.number == number)).one()
        messages = c.execute(select(Message).where(Message.order_number == number)).all()
        hooks = (
            c.execute(select(WebhookDelivery.body).where(WebhookDelivery.order_number == number))
            .scalars()
            .all()
        )
        cards = c.execute(
            select(Payment.card_bin, Payment.card_last4, Payment.card_fingerprint).where(
                Payment.order_id == o.id
            )
        ).all()
        return json.dumps(
            [
                o.customer,
                o.shipping_address,
                o.billing_address,
                o.client_ip,
                [list(card) for card in cards],
                o.search_text,
                [(m.recipient, m.subject, m.text_body, m.html_body) for m in messages],
                hooks,
            ],
            ensure_ascii=False,
        )

    return db.read(work)


def test_export_gives_every_order_and_message_and_is_audited(api, stocked):
    api.post("/api/v1/webhooks", json={"url": "https://hooks.example.com/x", "events": ["*"]})
    order, cid = _order_and_customer(api, client_ip=IP, billing_address=BILLING)
    worker.drain(api.db)  # the confirmation message and the webhook deliveries
    _paid_by_card(api, order)
    r = api.get(f"/api/v1/customers/{cid}/export", role="customer_service")
    assert r.status_code == 200, r.text
    data = r.json()
    assert data["customer"] == {
        **data["customer"],
        "id": cid,
        "email": EMAIL,
        "phone": PHONE,
        "name": NAME,
    }
    [exported] = data["orders"]
    assert exported["number"] == order["number"] and exported["total"] == order["total"]
    assert exported["lines"] == [
        {
            "sku": "TEA-001",
            "name": exported["lines"][0]["name"],
            "quantity": 2,
            "unit_price": "350.00",
        }
    ]
    assert exported["shipping_address"]["line1"] == "信義路五段7號"
    assert exported["billing_address"]["line1"] == "1 Main St" and exported["client_ip"] == IP
    assert [p["card"] for p in exported["payments"]] == [
        {"first6": "431195", "last4": "2222", "country": "US"}
    ]
    assert [m["recipient"] for m in data["messages"]] == [EMAIL]
    trail = audit_log.list_entries(api.db, entity_type="customer", entity_id=cid).items
    assert [e["action"] for e in trail][:1] == ["export"]
    assert trail[0]["actor"].endswith("test-customer_service")
    assert api.get(f"/api/v1/customers/{cid}/export", role="warehouse").status_code == 403
    assert api.get(f"/api/v1/customers/{cid}/export", role="viewer").status_code == 403
    assert api.get("/api/v1/customers/999999/export").status_code == 404


def _paid_by_card(api, order):
    """Paid by card through a gateway; the card's digits as ECPay's callback keeps them."""
    r = api.post(
        f"/api/v1/orders/{order['number']}/payments",
        role="finance",
        json={
            "amount": order["total"],
            "method": "card",
            "card_fingerprint": "tok_wang_card",
            "card_country": "US",
        },
    )
    assert r.status_code == 201, r.text
    api.db.write(
        lambda c: c.execute(
            update(Payment)
            .where(Payment.id == int(r.json()["id"]))
            .values(card_bin="431195", card_last4="2222")
        )
    )


def test_erase_is_refused_while_an_order_is_open_and_changes_nothing(api, stocked):
    order, cid = _order_and_customer(api)
    before = _personal(api.db, order["number"])
    r = api.post(f"/api/v1/customers/{cid}/erase")
    assert r.status_code == 409, r.text
    assert order["number"] in r.json()["detail"]
    assert _personal(api.db, order["number"]) == before
    assert api.post(f"/api/v1/customers/{cid}/erase", role="manager").status_code == 403


def test_erase_replaces_the_person_everywhere_and_keeps_the_money(api, stocked):
    api.post("/api/v1/webhooks", json={"url": "https://hooks.example.com/x", "events": ["*"]})
    order, cid = _order_and_customer(api, client_ip=IP, billing_address=BILLING)
    _paid_by_card(api, order)
    cancelled, _ = _order_and_customer(api)
    assert (
        api.post(
            f"/api/v1/orders/{cancelled['number']}/cancel", json={"reason": "changed mind"}
        ).status_code
        == 200
    )
    shipped = api.post(
        f"/api/v1/orders/{order['number']}/shipments", json={"carrier": "tcat"}, role="warehouse"
    )
    assert shipped.status_code == 201, shipped.text
    worker.drain(api.db)
    delivered = api.post(f"/api/v1/shipments/{shipped.json()['id']}/delivered", role="warehouse")
    assert delivered.status_code == 200, delivered.text
    worker.drain(api.db)
    assert EMAIL in _personal(api.db, order["number"])

    api.db.write(
        lambda c: c.execute(
            insert(CustomerNote).values(
                customer_id=int(cid), body="王小明 prefers calls on 0912345678", actor="test"
            )
        )
    )
    r = api.post(f"/api/v1/customers/{cid}/erase")
    assert r.status_code == 200, r.text
    assert r.json()["orders"] == 2
    assert api.db.read(lambda c: c.execute(select(CustomerNote.body)).scalars().all()) == [
        "(erased)"
    ]

    for number in (order["number"], cancelled["number"]):
        stored = _personal(api.db, number)
        for value in (
            EMAIL,
            NAME,
            "912345678",
            "信義路五段7號",
            "1 Main St",
            "Wang",
            IP,
            "431195",
            "2222",
        ):
            assert value not in stored, (value, stored)
    got = api.get(f"/api/v1/orders/{order['number']}").json()
    assert (got["total"], got["paid"], got["financial_status"]) == (
        order["total"],
        order["total"],
        "paid",
    )
    assert got["shipping_address"]["country"] == "TW"
    assert got["shipping_address"]["postal_code"] == "110"
    assert got["customer"]["email"] is None and got["customer"]["name"] == "(erased)"
    customer = api.db.read(
        lambda c: c.execute(select(Customer).where(Customer.id == int(cid))).one()
    )
    assert (customer.name, customer.email, customer.phone) == ("(erased)", None, None)
    # Search no longer finds them by what they were; the order number still finds it.
    assert api.get("/api/v1/orders", params={"q": EMAIL}).json()["items"] == []
    assert [
        o["number"]
        for o in api.get("/api/v1/orders", params={"q": order["number"]}).json()["items"]
    ] == [order["number"]]
    # Once more: nothing left to change, same answer.
    again = api.post(f"/api/v1/customers/{cid}/erase")
    assert again.status_code == 200 and again.json()["orders"] == 2
    erased = [
        e
        for e in audit_log.list_entries(api.db, entity_type="customer", entity_id=cid).items
        if e["action"] == "erase"
    ]
    assert len(erased) == 2 and EMAIL not in json.dumps(erased[0], ensure_ascii=False)


@pytest.mark.parametrize(
    "value",
    [
        {"name": "王小明", "note": "call 0912345678", "city": "台北市"},
    ],
)
def test_scrub_replaces_personal_keys_and_the_persons_words(value):
    from dingdan.services.orders.customer_rights import scrub

    assert scrub(value, ["0912345678"]) == {
        "name": "(erased)",
        "note": "(erased)",
        "city": "台北市",
    }
    assert scrub({"events": [{"message": "王小明 called"}]}, ["王小明"]) == {
        "events": [{"message": "(erased) called"}]
    }


def test_retention_anonymises_customers_inactive_for_the_set_years(api, stocked, monkeypatch):
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import update

    from dingdan.config import get_settings
    from dingdan.services.orders import customer_rights
    from tests.builders import LIN, Buyer

    old, old_cid = _order_and_customer(api)
    _, recent_cid = _order_and_customer(api, buyer=LIN)
    still_open, open_cid = _order_and_customer(api, buyer=Buyer("c@example.com", "陳大文"))
    four_years_ago = datetime.now(UTC) - timedelta(days=4 * 366)

    def age(c):
        for number in (old["number"], still_open["number"]):
            c.execute(update(Order).where(Order.number == number).values(created_at=four_years_ago))
        c.execute(update(Order).where(Order.number == old["number"]).values(status="completed"))
        c.execute(
            update(Customer)
            .where(Customer.id.in_([int(old_cid), int(open_cid)]))
            .values(created_at=four_years_ago)
        )

    api.db.write(age)
    assert customer_rights.anonymise_inactive(api.db, 0) == []  # off
    assert customer_rights.anonymise_inactive(api.db, 5) == []  # not yet
    # Three years: the old customer goes; the recent one stays; the open order is waited for.
    monkeypatch.setenv("DINGDAN_RETENTION_YEARS", "3")
    get_settings.cache_clear()
    monkeypatch.setattr(worker, "_retention_ran", {})
    try:
        assert worker.apply_retention(api.db) == 1
        assert worker.apply_retention(api.db) == 0  # once a day
    finally:
        get_settings.cache_clear()

    def who(c):
        return {str(r.id): (r.name, r.email) for r in c.execute(select(Customer))}

    people = api.db.read(who)
    assert people[old_cid] == ("(erased)", None)
    assert people[recent_cid] == ("林美華", "lin@example.com")
    assert people[open_cid] == ("陳大文", "c@example.com")
    assert EMAIL not in _personal(api.db, old["number"])
    trail = audit_log.list_entries(api.db, action="erase").items
    assert [(e["entity_id"], e["actor"]) for e in trail] == [(old_cid, "system:retention")]
