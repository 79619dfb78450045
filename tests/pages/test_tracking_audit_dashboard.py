"""The customer's tracking page, the audit trail of changes and views, and the dashboard."""

from __future__ import annotations

from datetime import timedelta

from dingdan.db.types import utcnow
from dingdan.services.access import audit_log
from dingdan.services.fulfilment import picking, shipments
from dingdan.services.orders import customers
from dingdan.services.payments import transactions
from dingdan.services.reports import dashboard
from dingdan.web.pages.orders import tracking
from tests.builders import ADMIN


def _shipped(db, number):
    transactions.record_payment(db, ADMIN, number, {"amount": "760.00"})
    return shipments.create_shipment(
        db, ADMIN, number, {"carrier": "hct", "tracking_number": "HCT20260001"}
    )


def test_the_tracking_page_shows_status_items_and_shipments_without_personal_data(
    shop, browser, db
):
    order = shop["order"]
    _shipped(db, order["number"])
    r = browser().get(f"/track/{order['tracking_token']}")
    assert r.status_code == 200
    html = r.text
    assert order["number"] in html and "凍頂烏龍茶" in html
    assert "Hsinchu Transport" in html and "HCT20260001" in html
    for private in ("lin@example.com", "+886912345678", "0912345678", "林美華", "信義路"):
        assert private not in html, private
    assert r.headers["referrer-policy"] == "no-referrer"


def test_a_wrong_tracking_token_is_404(shop, browser):
    b = browser()
    assert b.get("/track/" + "x" * 32).status_code == 404
    assert b.get("/track/short").status_code == 404
    token = shop["order"]["tracking_token"]
    assert b.get("/track/" + token[:-1] + ("A" if token[-1] != "A" else "B")).status_code == 404


def test_the_tracking_page_is_rate_limited_per_address(shop, browser, app):
    app.state.track_limiter = tracking.RateLimit(limit=3, window=60)
    b = browser()
    codes = [b.get("/track/" + "y" * 32).status_code for _ in range(5)]
    assert codes == [404, 404, 404, 429, 429]


def test_the_rate_limit_window_slides():
    limit = tracking.RateLimit(limit=2, window=10)
    assert limit.allow("a", 0) and limit.allow("a", 1) and not limit.allow("a", 2)
    assert limit.allow("b", 2)
    assert limit.allow("a", 10.5)


def test_views_of_an_order_and_a_customer_are_audited_and_filterable(shop, browser, db):
    n = shop["order"]["number"]
    cs = browser("customer_service")
    cs.get(f"/orders/{n}")
    cid = customers.list_customers(db).items[0]["id"]
    cs.get(f"/customers/{cid}")
    views = audit_log.list_entries(db, action="view").items
    assert {(e["entity_type"], e["entity_id"], e["actor"]) for e in views} == {
        ("order", n, "user:customer_service@example.com"),
        ("customer", cid, "user:customer_service@example.com"),
    }
    html = browser("manager").get("/audit?action=view&entity_type=order").text
    assert n in html and "customer_service@example.com" in html
    assert "user:customer_service" not in html  # who, as people read it
    assert "Viewed" in html and f"<strong>{cid}</strong>" not in html


def test_writes_through_the_pages_are_audited_with_before_and_after(shop, browser, db):
    wh = browser("warehouse")
    wh.post(
        "/products/TEA-001", {"name": "新名字", "price": "350.00", "currency": "TWD", "active": "1"}
    )
    entry = audit_log.list_entries(db, entity_type="product", action="update").items[0]
    assert entry["before"]["name"] == "凍頂烏龍茶" and entry["after"]["name"] == "新名字"
    assert entry["actor"] == "user:warehouse@example.com"
    html = browser("admin").get("/audit?entity_type=product").text
    assert "新名字" in html


def test_the_customer_page_shows_order_history_and_lifetime_value(shop, browser, db):
    transactions.record_payment(db, ADMIN, shop["order"]["number"], {"amount": "760.00"})
    c = customers.list_customers(db, q="林").items[0]
    assert c["orders"] == 1 and c["lifetime_value"] == [{"currency": "TWD", "amount": "760.00"}]
    html = browser("viewer").get(f"/customers/{c['id']}").text
    assert shop["order"]["number"] in html and "NT$760" in html


def test_the_dashboard_counts_orders_by_stage_and_flags_late_ones(shop, browser, db):
    n = shop["order"]["number"]
    d = dashboard.summary(db)
    assert d["today"]["orders"] == 1
    assert d["today"]["sales"] == [{"currency": "TWD", "amount": "760.00"}]
    assert d["today"]["received"] == []  # nothing paid yet
    assert d["counts"]["payment"] == 1 and d["late"] == []
    later = dashboard.summary(db, now=utcnow() + timedelta(hours=73))
    assert [(r["number"], r["stage"], r["owner"]) for r in later["late"]] == [
        (n, "payment", "finance")
    ]
    transactions.record_payment(db, ADMIN, n, {"amount": "760.00"})
    assert dashboard.summary(db)["counts"]["picking"] == 1
    picking.mark_picked(db, ADMIN, "TPE", [n])
    assert dashboard.summary(db)["counts"]["packing"] == 1
    html = browser("manager").get("/").text
    assert "Waiting at each stage" in html and "Packing" in html


def test_stage_limits_are_set_in_settings_by_a_manager(shop, browser, db):
    data = {f"{s}_hours": "12" for s in dashboard.STAGES}
    data.update({f"{s}_owner": "manager" for s in dashboard.STAGES})
    r = browser("manager").post("/settings/stage-limits", data)
    assert r.status_code == 303
    limits = dashboard.stage_limits(db)
    assert limits["payment"] == {"hours": 12, "owner": "manager"}
    late = dashboard.summary(db, now=utcnow() + timedelta(hours=13))["late"]
    assert late and late[0]["owner"] == "manager"
    bad = browser("manager").post("/settings/stage-limits", {**data, "payment_hours": "-1"})
    assert bad.status_code == 422 and "must be a number of hours" in bad.text


def test_money_received_today_is_payments_less_refunds_beside_sales(shop, browser, db):
    n = shop["order"]["number"]
    transactions.record_payment(db, ADMIN, n, {"amount": "760.00"})
    today = dashboard.summary(db)["today"]
    assert today["received"] == [{"currency": "TWD", "amount": "760.00"}]
    transactions.refund(db, ADMIN, n, {"amount": "760.00", "reason": "out of stock"})
    today = dashboard.summary(db)["today"]
    assert today["received"] == [{"currency": "TWD", "amount": "0.00"}]
    assert today["sales"] == [{"currency": "TWD", "amount": "0.00"}]  # refunded in full
    html = browser("finance").get("/").text
    assert "Money received today" in html and "Sales today" in html
    assert "Revenue today" not in html


def test_each_stage_count_opens_the_list_of_its_orders(shop, browser, db):
    n = shop["order"]["number"]
    b = browser("manager")
    home = b.get("/").text
    for stage in dashboard.STAGES:
        assert f'href="/stages/{stage}"' in home
    assert 'href="/orders?placed=today"' in home
    listed = b.get("/stages/payment").text
    assert f'href="/orders/{n}"' in listed
    assert f'href="/orders/{n}"' not in b.get("/stages/picking").text
    assert f'href="/orders/{n}"' in b.get("/orders?placed=today").text
    assert b.get("/stages/nowhere").status_code == 404


def test_the_packer_sees_pick_pack_ship_first_and_no_money(shop, browser, db):
    n = shop["order"]["number"]
    transactions.record_payment(db, ADMIN, n, {"amount": "760.00"})
    html = browser("warehouse").get("/").text
    assert "Money received today" not in html and "Sales today" not in html
    assert "NT$760" not in html
    mine = html.index('id="my-work"')
    assert mine < html.index('id="orders-today"')
    for stage in ("picking", "packing", "shipping"):
        assert f'id="mine-{stage}"' in html
    assert 'id="mine-payment"' not in html
    assert 'href="/warehouse"' in html.split('id="my-work"')[1].split("</section>")[0]


def test_customer_service_sees_the_return_requests_to_review_first(shop, browser, db):
    from dingdan.services.after_sales import returns
    from dingdan.services.fulfilment import shipments as ship

    n = shop["order"]["number"]
    transactions.record_payment(db, ADMIN, n, {"amount": "760.00"})
    ship.create_shipment(db, ADMIN, n, {"carrier": "tcat"})
    returns.request_return(
        db, ADMIN, n, {"lines": [{"sku": "TEA-001", "quantity": 1, "reason": "damaged"}]}
    )
    html = browser("customer_service").get("/").text
    mine = html.split('id="my-work"')[1].split("</section>")[0]
    assert 'href="/returns?status=requested"' in mine
    assert ">1<" in mine.split('id="mine-returns-requested"')[1]
    assert "Money received today" not in html  # refunds and the day's money: finance's
