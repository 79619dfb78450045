"""What the seller tells planning through the API: the shop's promotions (listed, added,
deleted, each refusal coded and changing nothing), the ABC/XYZ thresholds the ABC report
then uses, and a location's own reorder point, which wins there in the suggestions."""

from __future__ import annotations

from sqlalchemy import func, select

from dingdan.db.forecast_tables import PromotionEvent
from tests.builders import location, order_body, post_order, product, receive


def _count(db) -> int:
    return db.read(lambda c: c.execute(select(func.count()).select_from(PromotionEvent)).scalar())


def test_promotions_are_listed_added_and_deleted(api, db):
    body = {"name": "週年慶", "starts_on": "2027-03-01", "ends_on": "2027-03-03"}
    r = api.post("/api/v1/promotions", json={**body, "expected_uplift": 1.5}, role="warehouse")
    assert r.status_code == 201, r.text
    made = r.json()
    assert {k: made[k] for k in ("name", "starts_on", "ends_on", "expected_uplift")} == {
        **body,
        "expected_uplift": 1.5,
    }
    plain = api.post(
        "/api/v1/promotions",
        json={**body, "name": "Spring", "starts_on": "2027-04-01", "ends_on": "2027-04-01"},
    ).json()
    assert plain["expected_uplift"] is None
    listed = api.get("/api/v1/promotions").json()["items"]
    assert [p["name"] for p in listed] == ["Spring", "週年慶"]  # latest first
    assert api.request("DELETE", f"/api/v1/promotions/{made['id']}").status_code == 204
    assert [p["name"] for p in api.get("/api/v1/promotions").json()["items"]] == ["Spring"]
    assert api.request("DELETE", f"/api/v1/promotions/{made['id']}").status_code == 404
    assert api.request("DELETE", "/api/v1/promotions/³").status_code == 404
    assert api.post("/api/v1/promotions", json=body, role="viewer").status_code == 403


def test_a_bad_promotion_is_refused_with_every_field_coded(api, db):
    r = api.post(
        "/api/v1/promotions",
        json={
            "name": " ",
            "starts_on": "2027-03-05",
            "ends_on": "2027-03-01",
            "expected_uplift": 0,
        },
    )
    assert r.status_code == 422, r.text
    codes = {(e["field"], e["code"]) for e in r.json()["errors"]}
    assert codes == {
        ("name", "text_length"),
        ("ends_on", "before_start"),
        ("expected_uplift", "out_of_range"),
    }
    r = api.post(
        "/api/v1/promotions",
        json={
            "name": "x",
            "starts_on": "2027-02-30",
            "ends_on": "2029-01-01",
            "expected_uplift": 11,
        },
    )
    assert {(e["field"], e["code"]) for e in r.json()["errors"]} == {
        ("starts_on", "not_a_date"),
        ("expected_uplift", "out_of_range"),
    }
    r = api.post(
        "/api/v1/promotions", json={"name": "x", "starts_on": "2027-01-01", "ends_on": "2028-01-02"}
    )
    assert [(e["field"], e["code"]) for e in r.json()["errors"]] == [("ends_on", "range_too_long")]
    r = api.post(
        "/api/v1/promotions",
        json={
            "name": "x",
            "starts_on": "2027-01-01",
            "ends_on": "2027-01-02",
            "expected_uplift": "1.5",
        },
    )
    assert r.status_code == 422  # a rate is a JSON number
    assert _count(db) == 0


def test_abc_thresholds_are_read_set_and_used_by_the_report(api, db):
    assert api.get("/api/v1/settings/abc-thresholds").json() == {
        "a": 0.8,
        "b": 0.95,
        "x": 0.5,
        "y": 1.0,
    }
    bad = api.request(
        "PUT", "/api/v1/settings/abc-thresholds", json={"a": 0.9, "b": 0.5, "x": 0, "y": 1}
    )
    assert bad.status_code == 422
    assert {(e["field"], e["code"]) for e in bad.json()["errors"]} == {
        ("b", "below_other_threshold"),
        ("x", "out_of_range"),
    }
    missing = api.request("PUT", "/api/v1/settings/abc-thresholds", json={"a": 0.5})
    assert missing.status_code == 422
    assert api.get("/api/v1/settings/abc-thresholds").json()["a"] == 0.8  # nothing changed
    assert (
        api.request(
            "PUT",
            "/api/v1/settings/abc-thresholds",
            json={"a": 0.5, "b": 0.9, "x": 0.5, "y": 1},
            role="warehouse",
        ).status_code
        == 403
    )
    r = api.request(
        "PUT", "/api/v1/settings/abc-thresholds", json={"a": 0.5, "b": 0.9, "x": 0.25, "y": 2}
    )
    assert r.status_code == 200, r.text
    assert r.json() == {"a": 0.5, "b": 0.9, "x": 0.25, "y": 2.0}
    assert api.get("/api/v1/settings/abc-thresholds").json() == r.json()
    # Revenue 60 and 40: the second SKU has 60% before it, B under a = 0.5 (A by default).
    product(db, "TEA-001", price="60.00")
    product(db, "CUP-001", price="40.00")
    location(db, "TPE")
    receive(db, "TPE", {"TEA-001": 5, "CUP-001": 5})
    post_order(
        api, order_body([{"sku": "TEA-001", "quantity": 1}, {"sku": "CUP-001", "quantity": 1}])
    )
    report = api.get("/api/v1/reports/abc").json()["items"]
    assert [(i["sku"], i["class"]) for i in report] == [("TEA-001", "A"), ("CUP-001", "B")]


def test_a_locations_own_reorder_point_wins_there(api, db):
    product(db, "PEN-001", price="10.00")
    location(db, "TPE")
    location(db, "KHH", priority=1)
    receive(db, "TPE", {"PEN-001": 500})
    receive(db, "KHH", {"PEN-001": 500})
    api.patch("/api/v1/products/PEN-001", json={"reorder_point": 10})
    assert api.get("/api/v1/replenishment").json()["items"] == []
    url = "/api/v1/products/PEN-001/reorder-points"
    r = api.request("PUT", f"{url}/TPE", json={"reorder_point": 600}, role="warehouse")
    assert r.status_code == 200, r.text
    assert r.json() == {
        "sku": "PEN-001",
        "reorder_point": 10,
        "locations": [{"location": "TPE", "reorder_point": 600}],
    }
    items = api.get("/api/v1/replenishment").json()["items"]
    # TPE only: 500 available, 600 its own point, no demand: 100 to order; KHH keeps 10.
    assert [(i["location"], i["reorder_point"], i["suggested_quantity"]) for i in items] == [
        ("TPE", 600, 100)
    ]
    for body, code in (({"reorder_point": -1}, 422), ({"reorder_point": "5"}, 422), ({}, 422)):
        assert api.request("PUT", f"{url}/TPE", json=body).status_code == code
    assert api.request("PUT", f"{url}/NOWHERE", json={"reorder_point": 1}).status_code == 404
    assert (
        api.request(
            "PUT", "/api/v1/products/NOPE/reorder-points/TPE", json={"reorder_point": 1}
        ).status_code
        == 404
    )
    assert api.get(url).json()["locations"] == [{"location": "TPE", "reorder_point": 600}]
    r = api.request("PUT", f"{url}/TPE", json={"reorder_point": None})
    assert r.json()["locations"] == []
    assert api.get("/api/v1/replenishment").json()["items"] == []
