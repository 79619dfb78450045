"""Products and locations through HTTP."""

from __future__ import annotations

from tests.builders import product


def test_a_product_is_created_and_read_back_with_its_money_as_a_string(api):
    r = api.post(
        "/api/v1/products",
        json={
            "sku": "TEA-001",
            "name": "凍頂烏龍茶 150g",
            "price": "350",
            "currency": "TWD",
            "barcode": "4710000000011",
            "weight_grams": 150,
        },
    )
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["price"] == "350.00" and body["name"] == "凍頂烏龍茶 150g"
    assert isinstance(body["id"], str)
    got = api.get("/api/v1/products/TEA-001").json()
    assert got["name"] == "凍頂烏龍茶 150g" and got["barcode"] == "4710000000011"


def test_a_duplicate_sku_is_a_conflict(api, db):
    product(db, "TEA-001")
    r = api.post(
        "/api/v1/products", json={"sku": "TEA-001", "name": "x", "price": "1", "currency": "TWD"}
    )
    assert r.status_code == 409
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["code"] == "conflict"


def test_money_as_a_number_and_too_many_decimals_are_refused_naming_the_field(api):
    r = api.post(
        "/api/v1/products", json={"sku": "A", "name": "x", "price": 350, "currency": "TWD"}
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "price"
    r = api.post(
        "/api/v1/products", json={"sku": "A", "name": "x", "price": "1.5", "currency": "JPY"}
    )
    assert r.status_code == 422
    assert r.json()["errors"] == [
        {
            "field": "price",
            "code": "too_many_decimals",
            "message": "JPY allows at most 0 decimal places",
        }
    ]
    assert api.get("/api/v1/products/A").status_code == 404


def test_an_unknown_field_is_refused_rather_than_silently_dropped(api):
    r = api.post(
        "/api/v1/products",
        json={"sku": "A", "name": "x", "price": "1", "currency": "TWD", "colour": "red"},
    )
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "colour"


def test_products_are_updated_deactivated_and_listed_with_search_and_keyset_paging(api, db):
    for i in range(5):
        product(db, f"SKU-{i}")
    r = api.patch("/api/v1/products/SKU-1", json={"price": "120.50", "name": "Green tea"})
    assert r.status_code == 200 and r.json()["price"] == "120.50"
    assert api.post("/api/v1/products/SKU-2/deactivate").json()["active"] is False
    page = api.get("/api/v1/products?limit=2").json()
    assert [p["sku"] for p in page["items"]] == ["SKU-0", "SKU-1"]
    page2 = api.get(f"/api/v1/products?limit=2&cursor={page['next_cursor']}").json()
    assert [p["sku"] for p in page2["items"]] == ["SKU-2", "SKU-3"]
    page3 = api.get(f"/api/v1/products?limit=2&cursor={page2['next_cursor']}").json()
    assert [p["sku"] for p in page3["items"]] == ["SKU-4"] and page3["next_cursor"] is None
    found = api.get("/api/v1/products?q=green").json()["items"]
    assert [p["sku"] for p in found] == ["SKU-1"]
    assert [p["sku"] for p in api.get("/api/v1/products?active=false").json()["items"]] == ["SKU-2"]


def test_list_limits_outside_one_to_two_hundred_and_bad_cursors_are_422(api):
    for query in ("limit=0", "limit=201", "limit=abc", "cursor=%%%", "cursor=WyJ4Il0x"):
        r = api.get(f"/api/v1/products?{query}")
        assert r.status_code == 422, query


def test_search_treats_percent_and_underscore_as_text(api, db):
    product(db, "A-1")
    product(db, "B_2")
    assert [p["sku"] for p in api.get("/api/v1/products?q=_").json()["items"]] == ["B_2"]
    assert api.get("/api/v1/products?q=%25").json()["items"] == []


def test_locations_are_created_with_priority_and_listed_in_priority_order(api):
    r = api.post(
        "/api/v1/locations", json={"code": "TPE", "name": "台北倉", "country": "TW", "priority": 1}
    )
    assert r.status_code == 201, r.text
    api.post("/api/v1/locations", json={"code": "KHH", "name": "高雄倉", "country": "TW"})
    assert [x["code"] for x in api.get("/api/v1/locations").json()["items"]] == ["KHH", "TPE"]
    assert (
        api.post(
            "/api/v1/locations", json={"code": "TPE", "name": "x", "country": "TW"}
        ).status_code
        == 409
    )
    bad = api.post("/api/v1/locations", json={"code": "X", "name": "x", "country": "ZZ"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "country"
