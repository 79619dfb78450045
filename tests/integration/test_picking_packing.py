"""Pick lists (JSON, CSV, printable page) and packing with scan verification, through HTTP."""

from __future__ import annotations

import csv
import io
import re

import pytest

from dingdan.services.inventory import stock
from tests.builders import Shop, lines, order_body, post_order, product, receive
from tests.builders import pay as pay_in_full

TEA, GREEN, MUG = "TEA-001", "TEA-002", "MUG-01"
TEA_EAN, GREEN_EAN, MUG_EAN = "4710000000011", "4710000000028", "4710000000035"


stocked = Shop(
    products={
        TEA: {"price": "350.00", "name": "凍頂烏龍茶 150g", "barcode": TEA_EAN},
        GREEN: {"price": "120.00", "name": "碧螺春綠茶", "barcode": GREEN_EAN},
        MUG: {"price": "500.00", "name": "=SUM(A1) 馬克杯", "barcode": MUG_EAN},
    },
    locations={"TPE": 0, "KHH": 1},
    stock={"TPE": {TEA: 10, GREEN: 10, MUG: 1}, "KHH": {TEA: 10}},
).fixture()


def place(api, pairs, *, pay=True, method="bank_transfer"):
    o = post_order(api, order_body(lines(*pairs), payment_method=method))
    if pay:
        pay_in_full(api, o)
    return o["number"]


@pytest.fixture
def batch(api, stocked):
    """a: paid, two SKUs; b: cash on delivery, unpaid; c: unpaid transfer; d: cancelled."""
    a = place(api, [(TEA, 2), (GREEN, 1)])
    b = place(api, [(TEA, 1)], pay=False, method="cod")
    c = place(api, [(GREEN, 1)], pay=False)
    d = place(api, [(TEA, 1)])
    assert api.post(f"/api/v1/orders/{d}/cancel", json={"reason": "test"}).status_code == 200
    return a, b, c, d


def kinds(api, number):
    return [e["kind"] for e in api.get(f"/api/v1/orders/{number}/events").json()["items"]]


# ---- pick lists --------------------------------------------------------------------------


def test_pick_list_groups_lines_by_sku_with_each_orders_share(api, batch):
    a, b, c, d = batch
    r = api.get("/api/v1/locations/TPE/pick-list", role="viewer")
    assert r.status_code == 200, r.text
    data = r.json()
    assert data["location"] == "TPE" and data["orders"] == [a, b]
    assert data["lines"] == [
        {
            "sku": TEA,
            "name": "凍頂烏龍茶 150g",
            "barcode": TEA_EAN,
            "quantity": 3,
            "orders": [{"order": a, "quantity": 2}, {"order": b, "quantity": 1}],
        },
        {
            "sku": GREEN,
            "name": "碧螺春綠茶",
            "barcode": GREEN_EAN,
            "quantity": 1,
            "orders": [{"order": a, "quantity": 1}],
        },
    ]
    assert data["total_quantity"] == 4


def test_pick_list_takes_the_oldest_orders_up_to_the_limit_or_the_orders_named(api, batch):
    a, b, c, d = batch
    assert api.get("/api/v1/locations/TPE/pick-list?limit=1").json()["orders"] == [a]
    r = api.get(f"/api/v1/locations/TPE/pick-list?orders={b}")
    assert r.json()["orders"] == [b]
    assert r.json()["lines"] == [
        {
            "sku": TEA,
            "name": "凍頂烏龍茶 150g",
            "barcode": TEA_EAN,
            "quantity": 1,
            "orders": [{"order": b, "quantity": 1}],
        }
    ]
    assert api.get("/api/v1/locations/KHH/pick-list").json()["lines"] == []
    assert pack(api, a, [TEA, TEA, GREEN]).status_code == 201
    assert api.get("/api/v1/locations/TPE/pick-list").json()["orders"] == [b]
    assert api.get(f"/api/v1/locations/TPE/pick-list?orders={a}").json()["orders"] == [a]


def test_pick_list_refuses_orders_that_cannot_be_picked_there_naming_each(api, batch):
    a, b, c, d = batch
    r = api.get(f"/api/v1/locations/TPE/pick-list?orders={a},{c},{d},DD999999")
    assert r.status_code == 422 and r.json()["code"] == "validation_error"
    messages = [e["message"] for e in r.json()["errors"] if e["field"] == "orders"]
    assert messages == [
        f"{c} is not paid in full",
        f"{d} is cancelled",
        "no order numbered 'DD999999'",
    ]
    r = api.get(f"/api/v1/locations/KHH/pick-list?orders={a}")
    assert r.status_code == 422 and "nothing to pick at KHH" in r.json()["errors"][0]["message"]
    assert api.get("/api/v1/locations/NOPE/pick-list").status_code == 404
    assert api.get("/api/v1/locations/TPE/pick-list?limit=0").status_code == 422
    assert api.get("/api/v1/locations/TPE/pick-list?format=pdf").status_code == 422


def test_pick_list_csv_has_a_bom_chinese_names_and_one_row_per_order_share(api, batch):
    a, b, c, d = batch
    r = api.get("/api/v1/locations/TPE/pick-list?format=csv")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/csv")
    assert r.headers["content-disposition"].startswith('attachment; filename="pick-list-TPE-')
    assert r.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert rows == [
        ["sku", "name", "barcode", "total_quantity", "order", "quantity"],
        [TEA, "凍頂烏龍茶 150g", TEA_EAN, "3", a, "2"],
        [TEA, "凍頂烏龍茶 150g", TEA_EAN, "3", b, "1"],
        [GREEN, "碧螺春綠茶", GREEN_EAN, "1", a, "1"],
    ]


def test_pick_list_csv_defuses_text_a_spreadsheet_would_run_as_a_formula(api, stocked):
    n = place(api, [(MUG, 1)])
    r = api.get(f"/api/v1/locations/TPE/pick-list?format=csv&orders={n}")
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert rows[1][1] == "'=SUM(A1) 馬克杯"


def test_pick_list_page_is_self_contained_with_a_barcode_per_sku(api, batch):
    a, b, c, d = batch
    r = api.get("/api/v1/locations/TPE/pick-list.html", role="warehouse")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    page = r.text
    assert "凍頂烏龍茶 150g" in page and "碧螺春綠茶" in page and a in page and b in page
    assert page.count("<svg") == 2
    for banned in ("<script", "<link", "src=", "http://", "https://"):
        assert banned not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")


def test_pick_list_page_shows_each_products_photo_inside_the_page(
    api, stocked, batch, tmp_path, monkeypatch
):
    """A product with a photo has its thumbnail on its line as a data: URL (the page
    fetches nothing); a product without one has none."""
    from PIL import Image

    from dingdan.services.catalog import photos
    from tests.builders import ADMIN

    monkeypatch.setenv("DINGDAN_UPLOAD_DIR", str(tmp_path / "uploads"))
    picture = io.BytesIO()
    Image.new("RGB", (640, 480), (20, 160, 60)).save(picture, format="PNG")
    photos.add_photo(stocked, ADMIN, "tea.png", picture.getvalue(), sku=TEA)
    page = api.get("/api/v1/locations/TPE/pick-list.html", role="warehouse").text
    rows = {
        sku: row
        for row in re.findall(r"<tr>.*?</tr>", page, re.S)
        for sku in (TEA, GREEN)
        if f"<strong>{sku}</strong>" in row
    }
    assert re.search(r'<img src="data:image/jpeg;base64,[A-Za-z0-9+/=]+"', rows[TEA])
    assert "<img" not in rows[GREEN]
    for banned in ("<script", "<link", "http://", "https://"):
        assert banned not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")


def test_pick_list_page_escapes_product_names(api, stocked):
    product(stocked, "X-1", name="<b>茶</b>")
    receive(stocked, "TPE", {"X-1": 1})
    n = place(api, [("X-1", 1)])
    page = api.get(f"/api/v1/locations/TPE/pick-list.html?orders={n}").text
    assert "&lt;b&gt;茶&lt;/b&gt;" in page and "<b>茶" not in page


def test_reading_a_pick_list_records_nothing_but_posting_one_records_picked(api, batch):
    a, b, c, d = batch
    api.get("/api/v1/locations/TPE/pick-list")
    assert "picked" not in kinds(api, a)
    assert (
        api.post("/api/v1/locations/TPE/pick-list", json={"orders": [a]}, role="viewer").status_code
        == 403
    )
    r = api.post("/api/v1/locations/TPE/pick-list", json={"orders": [a, b]}, role="warehouse")
    assert r.status_code == 200, r.text
    assert r.json()["orders"] == [a, b]
    assert kinds(api, a)[-1] == "picked" and kinds(api, b)[-1] == "picked"
    ev = api.get(f"/api/v1/orders/{b}/events").json()["items"][-1]
    assert ev["data"] == {"location": "TPE", "lines": [{"sku": TEA, "quantity": 1}]}
    r = api.post("/api/v1/locations/TPE/pick-list", json={"orders": [a, c]})
    assert r.status_code == 422 and kinds(api, a).count("picked") == 1


# ---- packing -----------------------------------------------------------------------------


def pack(api, number, scans, role="warehouse", **extra):
    return api.post(f"/api/v1/orders/{number}/pack", json={"scans": scans, **extra}, role=role)


def test_packing_refuses_wrong_extra_and_missing_items_listing_each_and_records_nothing(api, batch):
    a = batch[0]
    cases = [
        ([TEA, TEA, GREEN, MUG], ["extra 1 × MUG-01"]),
        ([TEA, TEA, TEA, GREEN], ["extra 1 × TEA-001"]),
        ([TEA, GREEN], ["missing 1 × TEA-001"]),
        ([TEA, "123", GREEN_EAN], ["missing 1 × TEA-001", "unknown code 123"]),
        ([], ["missing 2 × TEA-001", "missing 1 × TEA-002"]),
    ]
    for scans, expected in cases:
        r = pack(api, a, scans)
        assert r.status_code == 422, r.text
        assert r.json()["code"] == "validation_error"
        got = r.json()["errors"]
        assert [(e["field"], e["message"]) for e in got] == [("scans", m) for m in expected]
        assert {e["code"] for e in got} <= {"scan_extra", "scan_missing", "scan_unknown"}
    assert api.get(f"/api/v1/orders/{a}/pack-records").json()["items"] == []
    assert "packed" not in kinds(api, a)


def test_packing_succeeds_with_skus_and_barcodes_mixed_and_only_once(api, stocked, batch):
    a = batch[0]
    r = pack(api, a, [TEA_EAN, " TEA-002 ", TEA])
    assert r.status_code == 201, r.text
    rec = r.json()
    assert rec["order"] == a and rec["location"] == "TPE" and rec["id"]
    assert rec["lines"] == [
        {"sku": TEA, "name": "凍頂烏龍茶 150g", "quantity": 2},
        {"sku": GREEN, "name": "碧螺春綠茶", "quantity": 1},
    ]
    assert rec["created_at"].endswith("Z") and rec["shipment_id"] is None
    assert kinds(api, a)[-1] == "packed"
    assert api.get(f"/api/v1/orders/{a}/pack-records").json()["items"] == [rec]
    again = pack(api, a, [TEA, TEA, GREEN])
    assert again.status_code == 409 and again.json()["code"] == "conflict"
    s = api.post(f"/api/v1/orders/{a}/shipments", json={"carrier": "tcat"}, role="warehouse")
    assert s.status_code == 201
    assert pack(api, a, []).status_code == 409  # nothing left to pack: invalid_transition
    assert stock.verify(stocked) == []


def test_the_check_endpoint_compares_each_scan_without_recording(api, batch):
    a = batch[0]
    url = f"/api/v1/orders/{a}/pack/check"
    r = api.post(url, json={"scans": [TEA_EAN]}, role="warehouse")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["ok"] is True and body["complete"] is False and body["location"] == "TPE"
    assert body["expected"] == [
        {"sku": TEA, "name": "凍頂烏龍茶 150g", "quantity": 2, "barcode": TEA_EAN, "scanned": 1},
        {"sku": GREEN, "name": "碧螺春綠茶", "quantity": 1, "barcode": GREEN_EAN, "scanned": 0},
    ]
    assert body["scanned"] == [{"sku": TEA, "name": "凍頂烏龍茶 150g", "quantity": 1}]
    assert [d["message"] for d in body["differences"]] == [
        "missing 1 × TEA-001",
        "missing 1 × TEA-002",
    ]
    wrong = api.post(url, json={"scans": [TEA, MUG_EAN]}).json()
    assert wrong["ok"] is False
    assert {
        "kind": "wrong_item",
        "sku": MUG,
        "code": None,
        "quantity": 1,
        "message": "extra 1 × MUG-01",
    } in wrong["differences"]
    done = api.post(url, json={"scans": [TEA, TEA, GREEN]}).json()
    assert done["ok"] is True and done["complete"] is True and done["differences"] == []
    assert "packed" not in kinds(api, a)


def test_only_fulfilment_roles_may_pack(api, batch):
    a = batch[0]
    for role in ("viewer", "finance", "customer_service"):
        assert pack(api, a, [TEA, TEA, GREEN], role=role).status_code == 403
        assert (
            api.post(f"/api/v1/orders/{a}/pack/check", json={"scans": []}, role=role).status_code
            == 403
        )
    assert pack(api, a, [TEA, TEA, GREEN], role="manager").status_code == 201


def test_packing_a_split_order_needs_its_location(api, stocked):
    receive(stocked, "KHH", {GREEN: 1})
    n = place(api, [(TEA, 15)])  # 10 at TPE, 5 at KHH
    r = pack(api, n, [TEA] * 5)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "location"
    assert pack(api, n, [TEA] * 5, location="NOPE").status_code == 422
    assert pack(api, n, [TEA] * 5, location="KHH").status_code == 201
    r = pack(api, n, [TEA] * 9, location="TPE")
    assert r.json()["errors"] == [
        {"field": "scans", "code": "scan_missing", "message": "missing 1 × TEA-001"}
    ]


def test_packing_refuses_unpaid_and_strictly_typed_input(api, batch):
    a, b, c, d = batch
    assert pack(api, c, [GREEN]).json()["code"] == "payment_required"
    assert pack(api, d, []).json()["code"] == "invalid_transition"
    assert pack(api, b, [TEA]).status_code == 201  # cash on delivery packs unpaid
    assert pack(api, a, [4710000000011]).status_code == 422
    r = api.post(f"/api/v1/orders/{a}/pack", json={"scans": [TEA], "note": "x"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "note"
    assert pack(api, "DD999999", []).status_code == 404


def test_control_characters_in_codes_are_refused_not_stored_or_crashed_on(api, batch):
    a = batch[0]
    assert pack(api, a, ["TEA\u0000"]).json()["errors"][0]["field"] == "scans[0]"
    assert pack(api, a, [TEA], location="T\u0000").json()["errors"][0]["field"] == "location"
    r = api.post(f"/api/v1/orders/{a}/pack/check", json={"scans": ["\u0000"]})
    assert r.status_code == 422
    assert api.get("/api/v1/locations/TPE/pick-list?orders=DD%00").status_code == 422
