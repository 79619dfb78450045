"""The CRM pages (issue 24, part 6): the customers by value and segment, a customer's page
with tags and notes, feedback answered from the back office, customers likely to buy again,
and the order entry page's "frequently bought together" fragment."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import insert, select, update

from dingdan.db.crm_tables import CustomerNote, CustomerTag, RatingReply
from dingdan.db.message_tables import OrderRating
from dingdan.db.order_tables import Order
from dingdan.db.tables import AuditEntry
from dingdan.services.orders import capture
from dingdan.services.reports import clv, recommendations
from tests.builders import ADMIN, WANG, order_body


def _one(db, stmt):
    return db.read(lambda c: c.execute(stmt).scalar_one())


@pytest.fixture
def crm(shop, db):
    """Lin's order of the shop, and two of Wang's (TEA-001 with MUG-001, in March and May),
    the second rated 4 with a comment."""
    lin = shop["order"]
    numbers = []
    for when in (datetime(2026, 3, 2, 2, tzinfo=UTC), datetime(2026, 5, 4, 2, tzinfo=UTC)):
        body = order_body([{"sku": "TEA-001", "quantity": 1}, {"sku": "MUG-001", "quantity": 1}])
        order, _ = capture.place_order(db, ADMIN, {**body, "customer": WANG.customer()})
        stmt = update(Order).where(Order.number == order["number"]).values(created_at=when)
        db.write(lambda c, stmt=stmt: c.execute(stmt))
        numbers.append(order["number"])
    oid = _one(db, select(Order.id).where(Order.number == numbers[1]))
    rating = db.write(
        lambda c: c.execute(
            insert(OrderRating)
            .values(order_id=oid, rating=4, comment="茶很香 <b>")
            .returning(OrderRating.id)
        ).scalar_one()
    )
    wang = _one(db, select(Order.customer_id).where(Order.number == numbers[1]))
    return {"lin": lin, "wang": str(wang), "rating": str(rating), "numbers": numbers}


def test_the_customer_list_shows_segments_counts_and_sorts(crm, browser):
    b = browser("manager")
    r = b.get("/reports/customers")
    assert r.status_code == 200, r.text
    assert 'id="segment-counts"' in r.text and 'id="rfm-customers"' in r.text
    # Two customers: Wang (2 orders, last in May) and Lin (1 order, today).
    assert r.text.index("王小明") < r.text.index("林美華")  # by value: Wang's two orders first
    by_last = b.get("/reports/customers?sort=last_order").text
    assert by_last.index("林美華") < by_last.index("王小明")
    # Three distinct values, n = 2: scores 1 + ⌊5 · (worse + 1/2) / 2⌋ = 2 and 4.
    assert "2 · 4 · 4" in r.text  # Wang: R 2, F 4, M 4
    assert b.get("/reports/customers?sort=nonsense&segment=whales").status_code == 200
    zh = b.get("/reports/customers", headers={"Accept-Language": "zh-TW"})
    assert "顧客分析" in zh.text


def test_a_customers_page_shows_history_value_and_feedback_and_is_audited(crm, browser, db):
    b = browser("manager")
    r = b.get(f"/reports/customers/{crm['wang']}")
    assert r.status_code == 200, r.text
    for number in crm["numbers"]:
        assert number in r.text
    assert "茶很香 &lt;b&gt;" in r.text  # the customer's comment, escaped
    assert 'id="customer-returns"' in r.text and 'id="customer-messages"' in r.text
    views = db.read(
        lambda c: c.execute(
            select(AuditEntry.entity_id).where(
                AuditEntry.action == "view", AuditEntry.entity_type == "customer"
            )
        ).all()
    )
    assert (crm["wang"],) in views
    assert b.get("/reports/customers/999999").status_code == 404


def test_tags_and_notes_are_kept_with_who_wrote_them(crm, browser, db):
    b = browser("customer_service")
    url = f"/reports/customers/{crm['wang']}"
    assert b.post(url + "/tags", {"tag": "VIP"}).status_code == 303
    assert b.post(url + "/tags", {"tag": "vip"}).status_code == 303  # the same tag
    assert b.post(url + "/notes", {"note": "Prefers 7-ELEVEN pickup"}).status_code == 303
    tags = db.read(lambda c: c.execute(select(CustomerTag.tag, CustomerTag.actor)).all())
    assert tags == [("VIP", "user:customer_service@example.com")]
    note = db.read(lambda c: c.execute(select(CustomerNote.body)).scalar_one())
    assert note == "Prefers 7-ELEVEN pickup"
    page = b.get(url).text
    assert "VIP" in page and "Prefers 7-ELEVEN pickup" in page
    refused = b.post(url + "/notes", {"note": " "})
    assert refused.status_code == 422 and 'id="note-error"' in refused.text
    assert b.post(url + "/tags/remove", {"tag": "VIP"}).status_code == 303
    assert db.read(lambda c: c.execute(select(CustomerTag.tag)).all()) == []
    viewer = browser("viewer")
    assert viewer.post(url + "/tags", {"tag": "X"}).status_code == 403


def test_a_rating_is_answered_from_the_feedback_page(crm, browser, db):
    b = browser("customer_service")
    page = b.get("/reports/feedback")
    assert page.status_code == 200 and "茶很香" in page.text
    r = b.post(f"/reports/feedback/{crm['rating']}/reply", {"reply": "謝謝您的支持！"})
    assert r.status_code == 303, r.text
    reply = db.read(lambda c: c.execute(select(RatingReply.body, RatingReply.actor)).one())
    assert tuple(reply) == ("謝謝您的支持！", "user:customer_service@example.com")
    assert "謝謝您的支持！" in b.get(f"/reports/customers/{crm['wang']}").text
    assert "茶很香" not in b.get("/reports/feedback?unanswered=1").text
    assert b.post("/reports/feedback/999999/reply", {"reply": "x"}).status_code == 303


def test_likely_to_buy_lists_the_fit_with_contacts_masked_for_a_viewer(crm, browser, db):
    empty = browser("manager").get("/reports/likely-to-buy")
    assert empty.status_code == 200 and 'id="likely-customers"' not in empty.text
    clv.fit(db, date(2026, 6, 1))
    shown = browser("manager").get("/reports/likely-to-buy").text
    assert 'id="likely-customers"' in shown and "a@example.com" in shown
    masked = browser("viewer").get("/reports/likely-to-buy").text
    assert "a***@example.com" in masked and "a@example.com" not in masked


def test_the_order_entry_page_asks_for_products_bought_together(crm, browser, db):
    recommendations.compute(db)
    b = browser("manager")
    fragment = b.get("/reports/bought-together?sku=TEA-001")
    assert fragment.status_code == 200
    assert 'data-add-sku="MUG-001"' in fragment.text
    assert "<html" not in fragment.text.lower()  # a fragment, not a page
    assert b.get("/reports/bought-together").text.strip() == ""
    # The entry page's lines ask for it with their SKUs.
    lines = b.post("/orders/new/lines", {"product-q": "TEA-001"})
    assert lines.status_code == 200, lines.text
    assert 'hx-get="/reports/bought-together?sku=TEA-001"' in lines.text
