"""The purchasing pages as the warehouse uses them: a supplier, a PO typed in, sent,
received with the scanner (a barcode or a SKU, refused when not on the PO or already
counted), replenishment's draft POs; read-only roles see the pages but may not act."""

from __future__ import annotations

from dingdan.services.inventory import stock as inventory
from dingdan.services.purchasing import purchase_orders


def _supplier(wh):
    r = wh.post(
        "/suppliers",
        {
            "code": "ALISHAN",
            "name": "阿里山茶業",
            "currency": "TWD",
            "lead_time_days": "7",
            "pack_size": "6",
            "language": "zh-Hant",
            "email": "po@alishan.example",
        },
    )
    assert r.status_code == 303, r.text
    return r


def _po(wh):
    r = wh.post(
        "/purchase-orders/new",
        {
            "supplier": "ALISHAN",
            "location": "TPE",
            "expected_date": "2026-12-24",
            "sku-0": "TEA-001",
            "quantity-0": "3",
            "unit_cost-0": "200.00",
            "sku-2": "MUG-001",
            "quantity-2": "2",
            "unit_cost-2": "300.00",
            "freight": "50.00",
        },
    )
    assert r.status_code == 303, r.text
    return r.headers["location"]


def test_a_po_is_typed_in_sent_and_received_with_the_scanner(shop, browser, db):
    wh = browser("warehouse")
    assert _supplier(wh).headers["location"] == "/suppliers/ALISHAN"
    assert "阿里山茶業" in wh.get("/suppliers").text
    url = _po(wh)
    page = wh.get(url)
    assert page.status_code == 200 and "PO-" in page.text and 'id="send-po"' in page.text
    assert wh.post(f"{url}/send").status_code == 303
    screen = wh.get(f"{url}/receive")
    assert screen.status_code == 200 and 'id="code"' in screen.text
    # Scan the tea's barcode twice and the mug's SKU twice; a stranger and a third mug refused.
    counts = {"quantity-0": "0", "quantity-1": "0"}
    for code, field, expect in (
        ("4710000000017", "quantity-0", "1"),
        ("4710000000017", "quantity-0", "2"),
        ("MUG-001", "quantity-1", "1"),
        ("MUG-001", "quantity-1", "2"),
    ):
        r = wh.post(f"{url}/receive/scan", {**counts, "code": code})
        assert r.status_code == 200
        counts = {k: _value(r.text, k) for k in counts}
        assert counts[field] == expect
    for code in ("NOPE", "MUG-001"):
        refused = wh.post(f"{url}/receive/scan", {**counts, "code": code})
        assert "scan-refused" in refused.text
        assert {k: _value(refused.text, k) for k in counts} == counts
    counts["quantity-1"] = "1"  # the receiver corrects a count by hand
    r = wh.post(f"{url}/receive", {**counts, "reference": "DN-1"})
    assert r.status_code == 303, r.text
    po = purchase_orders.get_purchase_order(db, url.rsplit("/", 1)[1])
    assert po["status"] == "partially_received"
    assert [(ln["sku"], ln["received"]) for ln in po["lines"]] == [("TEA-001", 2), ("MUG-001", 1)]
    assert inventory.stock_of(db, "TEA-001")["on_order"] == 1
    # Too many typed by hand: refused beside the line, nothing received.
    r = wh.post(f"{url}/receive", {"quantity-0": "5", "quantity-1": "0"})
    assert r.status_code == 422 and "quantity-0-error" in r.text
    assert wh.post(f"{url}/close").status_code == 303
    assert purchase_orders.get_purchase_order(db, po["id"])["status"] == "closed"
    assert inventory.verify(db) == []


def _value(html: str, name: str) -> str:
    import re

    found = re.search(rf'name="{name}"[^>]*value="(\d+)"', html)
    assert found, name
    return found.group(1)


def test_replenishment_makes_draft_pos_from_the_page(shop, browser, db, api):
    wh = browser("warehouse")
    _supplier(wh)
    api.patch("/api/v1/products/TEA-001", json={"supplier": "ALISHAN", "reorder_point": 30})
    page = wh.get("/replenishment")
    assert page.status_code == 200 and "TEA-001" in page.text
    r = wh.post("/replenishment/drafts", {"location": "TPE"})
    assert r.status_code == 303
    drafts = purchase_orders.list_purchase_orders(db, status="draft").items
    assert [d["supplier"] for d in drafts] == ["ALISHAN"]


def test_read_only_roles_see_purchasing_but_may_not_act(shop, browser):
    wh = browser("warehouse")
    _supplier(wh)
    url = _po(wh)
    viewer = browser("viewer")
    for path in ("/purchase-orders", url, "/suppliers", "/suppliers/ALISHAN", "/replenishment"):
        r = viewer.get(path)
        assert r.status_code == 200, path
        assert 'id="send-po"' not in r.text and 'id="supplier-form"' not in r.text
    assert viewer.post(f"{url}/send").status_code == 403
    assert (
        viewer.post(
            "/suppliers", {"code": "X", "name": "X", "currency": "TWD", "lead_time_days": "1"}
        ).status_code
        == 403
    )
    assert browser("customer_service").get(f"{url}/receive").status_code == 403


POINTS_URL = "/inventory/TEA-001/reorder-points"


def test_a_locations_own_reorder_point_is_seen_and_set_on_the_stock_page(shop, browser, db):
    from dingdan.services.purchasing import reorder_points, replenishment

    wh = browser("warehouse")
    page = wh.get("/inventory/TEA-001")
    assert page.status_code == 200 and 'id="reorder-points"' in page.text
    assert 'id="point-TPE"' in page.text and 'id="point-TXG"' in page.text
    # Bad input: a coded message beside that location's field, what was typed kept, nothing
    # stored.
    for typed, message in (("abc", "whole number"), ("-3", "at least 0")):
        r = wh.post(POINTS_URL, {"location": "TXG", "reorder_point": typed})
        assert r.status_code == 422, r.text
        assert 'id="reorder-point-TXG-error"' in r.text and message in r.text
        assert f'value="{typed}"' in r.text
        assert reorder_points.get(db, "TEA-001")["locations"] == []
    # TPE's own point of 30 is above its 20 available (19 after the fixture's order): the
    # stock page says it applies there, and replenishment lists TEA-001 at TPE from it.
    r = wh.post(POINTS_URL, {"location": "TPE", "reorder_point": "30"})
    assert r.status_code == 303 and r.headers["location"].endswith("#reorder-points")
    assert reorder_points.get(db, "TEA-001")["locations"] == [
        {"location": "TPE", "reorder_point": 30}
    ]
    assert "the location&#39;s own" in wh.get("/inventory/TEA-001").text
    listed = replenishment.suggestions(db)["items"]
    assert [(i["sku"], i["location"], i["reorder_point"]) for i in listed] == [
        ("TEA-001", "TPE", 30)
    ]
    # Cleared: the product's point (none, no demand, threshold 0 < 19) applies again.
    r = wh.post(POINTS_URL, {"location": "TPE", "reorder_point": "30", "clear": "1"})
    assert r.status_code == 303
    assert reorder_points.get(db, "TEA-001")["locations"] == []
    assert replenishment.suggestions(db)["items"] == []
    # In Chinese; a role that may not buy sees the points but no form, and may not post.
    wh.post("/language", {"language": "zh_Hant", "next": "/"})
    assert "各倉庫的再訂購點" in wh.get("/inventory/TEA-001").text
    viewer = browser("viewer")
    seen = viewer.get("/inventory/TEA-001").text
    assert 'id="point-TPE"' in seen and 'id="reorder-point-TPE"' not in seen
    r = viewer.post(POINTS_URL, {"location": "TPE", "reorder_point": "5"})
    assert r.status_code == 403
    assert reorder_points.get(db, "TEA-001")["locations"] == []
