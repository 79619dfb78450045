"""Settings an admin keeps: channels, carriers and tax rates, through HTTP."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from dingdan.domain.orders.rules import TaxRule
from dingdan.domain.shared.errors import ValidationFailed
from dingdan.services.fulfilment import carriers
from dingdan.services.orders import capture as order_service
from tests.builders import Shop, order_body

TEA_IN_TPE = Shop(
    products={"TEA-001": "350.00"}, locations={"TPE": 0}, stock={"TPE": {"TEA-001": 10}}
)
stocked = TEA_IN_TPE.fixture()


def put(api, url, role="admin", **kw):
    return api.request("PUT", url, role=role, **kw)


def delete(api, url, role="admin"):
    return api.request("DELETE", url, role=role)


# ---- channels ----------------------------------------------------------------------------


def test_channels_list_the_built_ins_and_a_created_channel_takes_orders(api, stocked):
    items = api.get("/api/v1/channels", role="viewer").json()["items"]
    assert [c["code"] for c in items] == ["web", "app", "phone", "store", "marketplace", "email"]
    assert all(c["builtin"] and c["active"] for c in items)
    r = api.post("/api/v1/orders", json=order_body(channel="shopee"))
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "channel"
    r = api.post("/api/v1/channels", json={"code": "shopee", "name": "蝦皮購物"})
    assert r.status_code == 201, r.text
    assert (
        r.json() | {"code": "shopee", "name": "蝦皮購物", "builtin": False, "active": True}
        == r.json()
    )
    assert api.get("/api/v1/channels").json()["items"][-1]["code"] == "shopee"
    r = api.post("/api/v1/orders", json=order_body(channel="shopee"))
    assert r.status_code == 201 and r.json()["channel"] == "shopee"


def test_a_deactivated_channel_takes_no_new_orders(api, stocked):
    api.post("/api/v1/channels", json={"code": "line-shop", "name": "LINE 禮物"})
    r = api.patch("/api/v1/channels/line-shop", json={"active": False})
    assert r.status_code == 200 and r.json()["active"] is False
    assert api.post("/api/v1/orders", json=order_body(channel="line-shop")).status_code == 422
    assert [c["code"] for c in api.get("/api/v1/channels?active=false").json()["items"]] == [
        "line-shop"
    ]
    api.patch("/api/v1/channels/line-shop", json={"active": True, "name": "LINE"})
    assert api.post("/api/v1/orders", json=order_body(channel="line-shop")).status_code == 201


def test_channel_codes_are_unique_lower_case_and_built_ins_stay_active(api):
    assert (
        api.post("/api/v1/channels", json={"code": "pchome", "name": "PChome"}).status_code == 201
    )
    for code, status in (
        ("pchome", 409),
        ("web", 409),
        ("Shopee", 422),
        ("-x", 422),
        ("x" * 33, 422),
    ):
        r = api.post("/api/v1/channels", json={"code": code, "name": "n"})
        assert r.status_code == status, (code, r.text)
    r = api.patch("/api/v1/channels/web", json={"active": False})
    assert r.status_code == 409 and r.json()["code"] == "conflict"
    r = api.patch("/api/v1/channels/web", json={"name": "官網"})
    assert r.status_code == 200 and r.json() | {"name": "官網", "builtin": True} == r.json()
    assert api.get("/api/v1/channels").json()["items"][0]["name"] == "官網"
    assert api.patch("/api/v1/channels/nope", json={"name": "x"}).status_code == 404
    assert api.patch("/api/v1/channels/pchome", json={"name": None}).status_code == 422
    assert api.patch("/api/v1/channels/pchome", json={"active": "no"}).status_code == 422


def test_only_settings_roles_change_channels(api):
    for role in ("warehouse", "customer_service", "finance", "viewer"):
        r = api.post("/api/v1/channels", json={"code": "momo", "name": "momo"}, role=role)
        assert r.status_code == 403
    assert (
        api.post(
            "/api/v1/channels", json={"code": "momo", "name": "momo"}, role="manager"
        ).status_code
        == 201
    )


# ---- tax rates ---------------------------------------------------------------------------


def test_tax_rates_list_defaults_and_overrides(api):
    items = api.get("/api/v1/tax-rates", role="viewer").json()["items"]
    tw = next(i for i in items if (i["country"], i["tax_class"]) == ("TW", "standard"))
    assert tw | {"rate": "5", "prices_include_tax": True, "source": "default"} == tw
    r = put(
        api, "/api/v1/tax-rates/TW/standard", json={"rate": "10.5", "prices_include_tax": False}
    )
    assert r.status_code == 200, r.text
    assert (
        r.json()
        | {
            "rate": "10.5",
            "prices_include_tax": False,
            "source": "override",
            "default": {"rate": "5", "prices_include_tax": True},
        }
        == r.json()
    )
    put(api, "/api/v1/tax-rates/US/standard", json={"rate": "8.875", "prices_include_tax": False})
    listed = api.get("/api/v1/tax-rates").json()["items"]
    items = {(i["country"], i["tax_class"]): i for i in listed}
    assert items[("TW", "standard")]["rate"] == "10.5"
    assert (
        items[("US", "standard")] | {"rate": "8.875", "default": None} == items[("US", "standard")]
    )
    assert delete(api, "/api/v1/tax-rates/TW/standard").status_code == 204
    assert delete(api, "/api/v1/tax-rates/TW/standard").status_code == 404
    tw = next(i for i in api.get("/api/v1/tax-rates").json()["items"] if i["country"] == "TW")
    assert tw["source"] == "default" and tw["rate"] == "5"


def test_tax_overrides_are_what_order_pricing_reads(api, db):
    put(api, "/api/v1/tax-rates/TW/reduced", json={"rate": "0", "prices_include_tax": True})
    put(api, "/api/v1/tax-rates/HK/standard", json={"rate": "2.5", "prices_include_tax": False})
    assert db.read(order_service.tax_overrides) == {
        ("TW", "reduced"): TaxRule(0, True),
        ("HK", "standard"): TaxRule(25_000, False),
    }


def test_an_order_is_taxed_at_the_rate_of_its_moment_whoever_changed_it(api, db):
    """Capture keeps the tax table per process and rereads it when its version (bumped by
    triggers, migration 0008) moves: by the API or by SQL typed into a console."""
    TEA_IN_TPE.build(db)

    def tax_of_one_order():
        r = api.post("/api/v1/orders", json=order_body(shipping_price="0"))
        assert r.status_code == 201, r.text
        return r.json()["tax_total"]

    assert tax_of_one_order() == "33.33"  # 700 TWD, 5% included
    put(api, "/api/v1/tax-rates/TW/standard", json={"rate": "10", "prices_include_tax": True})
    assert tax_of_one_order() == "63.64"
    db.write(lambda c: c.execute(text("UPDATE tax_rates SET rate_ppm = 0")))
    assert tax_of_one_order() == "0.00"
    db.write(lambda c: c.execute(text("DELETE FROM tax_rates")))
    assert tax_of_one_order() == "33.33"


@pytest.mark.parametrize(
    "url,body,field",
    [
        ("/api/v1/tax-rates/TW/standard", {"rate": "5.12345", "prices_include_tax": True}, "rate"),
        ("/api/v1/tax-rates/TW/standard", {"rate": "100.01", "prices_include_tax": True}, "rate"),
        ("/api/v1/tax-rates/TW/standard", {"rate": "-1", "prices_include_tax": True}, "rate"),
        ("/api/v1/tax-rates/TW/standard", {"rate": 5, "prices_include_tax": True}, "rate"),
        ("/api/v1/tax-rates/TW/standard", {"rate": "5"}, "prices_include_tax"),
        ("/api/v1/tax-rates/XX/standard", {"rate": "5", "prices_include_tax": True}, "country"),
        ("/api/v1/tax-rates/tw/standard", {"rate": "5", "prices_include_tax": True}, "country"),
        ("/api/v1/tax-rates/TW/zero", {"rate": "5", "prices_include_tax": True}, "tax_class"),
    ],
)
def test_bad_tax_rates_are_refused_naming_the_field(api, url, body, field):
    r = put(api, url, json=body)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == field, r.text
    assert api.get("/api/v1/tax-rates").json()["items"][-1]["source"] == "default"


def test_only_settings_roles_change_tax_rates(api):
    body = {"rate": "5", "prices_include_tax": True}
    assert put(api, "/api/v1/tax-rates/TW/standard", role="finance", json=body).status_code == 403
    assert delete(api, "/api/v1/tax-rates/TW/standard", role="warehouse").status_code == 403


def test_a_tax_override_changes_the_tax_of_new_orders(api, stocked):
    before = api.post("/api/v1/orders", json=order_body()).json()
    assert before["tax_total"] == "36.19" and before["total"] == "760.00"
    put(api, "/api/v1/tax-rates/TW/standard", json={"rate": "10", "prices_include_tax": False})
    after = api.post("/api/v1/orders", json=order_body()).json()
    assert after["tax_total"] == "76.00" and after["total"] == "836.00"
    assert api.get(f"/api/v1/orders/{before['number']}").json()["tax_total"] == "36.19"


# ---- carriers ----------------------------------------------------------------------------


def test_carriers_list_the_defaults_and_a_custom_carrier(api):
    items = api.get("/api/v1/carriers", role="viewer").json()["items"]
    codes = [c["code"] for c in items]
    assert codes[:3] == ["tcat", "hct", "chunghwa_post"] and "other" in codes
    tcat = items[0]
    assert tcat["names"]["zh_Hant"] == "黑貓宅急便" and tcat["tracking_format"] == "tcat"
    assert tcat["builtin"] and tcat["active"]
    r = api.post(
        "/api/v1/carriers",
        json={
            "code": "kerry",
            "name": "嘉里大榮物流",
            "tracking_format": None,
            "tracking_url": "https://example.com/track?no={number}",
        },
    )
    assert r.status_code == 201, r.text
    assert (
        r.json()
        | {
            "code": "kerry",
            "builtin": False,
            "active": True,
            "store_pickup": False,
            "tracking_format": None,
        }
        == r.json()
    )
    assert api.get("/api/v1/carriers").json()["items"][-1]["code"] == "kerry"
    assert api.get("/api/v1/carriers/kerry").json()["name"] == "嘉里大榮物流"
    assert api.get("/api/v1/carriers/nope").status_code == 404


def test_carrier_input_is_checked(api):
    ok = {"code": "kerry", "name": "Kerry"}
    assert api.post("/api/v1/carriers", json=ok).status_code == 201
    for body, status in (
        (ok, 409),
        ({"code": "tcat", "name": "x"}, 409),
        ({"code": "Kerry2", "name": "x"}, 422),
        ({"code": "k2", "name": "x", "tracking_format": "zip"}, 422),
        ({"code": "k2", "name": "x", "tracking_url": "javascript:alert(1)//{number}"}, 422),
        ({"code": "k2", "name": "x", "tracking_url": "https://example.com/"}, 422),
    ):
        r = api.post("/api/v1/carriers", json=body)
        assert r.status_code == status, (body, r.text)
    assert api.post("/api/v1/carriers", json=ok, role="warehouse").status_code == 403


def test_a_default_carrier_can_be_changed_and_deactivated(api, db):
    r = api.patch("/api/v1/carriers/dhl", json={"active": False})
    assert r.status_code == 200 and r.json()["active"] is False
    assert r.json()["tracking_format"] == "dhl" and r.json()["builtin"] is True
    assert "dhl" not in [c["code"] for c in api.get("/api/v1/carriers?active=true").json()["items"]]
    with pytest.raises(ValidationFailed) as exc:
        db.read(lambda conn: carriers.resolve_carrier(conn, "DHL"))
    assert exc.value.errors[0].field == "carrier"
    r = api.patch(
        "/api/v1/carriers/hct",
        json={"name": "HCT 新竹物流", "tracking_url": "https://hct.example/{number}"},
    )
    assert r.json()["names"]["zh_Hant"] == "HCT 新竹物流"
    assert api.patch("/api/v1/carriers/nope", json={"active": False}).status_code == 404


def test_resolve_carrier_and_tracking_numbers_follow_the_settings(api, db):
    api.post(
        "/api/v1/carriers", json={"code": "ups-tw", "name": "UPS 台灣", "tracking_format": "ups"}
    )

    def resolve(code, tracking=None):
        return db.read(lambda conn: carriers.shipment_carrier(conn, code, tracking))

    assert resolve(" TCAT ") == ("tcat", None)
    assert resolve("tcat", "1234 5678 9012") == ("tcat", "123456789012")
    assert resolve("ups-tw", "1z5r89390357567127") == ("ups-tw", "1Z5R89390357567127")
    assert db.read(lambda conn: carriers.resolve_carrier(conn, "ups-tw")) == ("ups-tw", "ups")
    api.patch("/api/v1/carriers/hct", json={"active": False})
    for code, tracking, field in (
        ("Nope Express", None, "carrier"),
        ("hct", None, "carrier"),
        ("ups-tw", "12345", "tracking_number"),
        ("tcat", "12345", "tracking_number"),
    ):
        with pytest.raises(ValidationFailed) as exc:
            resolve(code, tracking)
        assert exc.value.errors[0].field == field


def test_a_carrier_named_in_chinese_is_shipped_with_and_an_unknown_one_is_refused(api, stocked):
    o = api.post(
        "/api/v1/orders",
        json=order_body(payment_method="cod", lines=[{"sku": "TEA-001", "quantity": 1}]),
    ).json()
    url = f"/api/v1/orders/{o['number']}/shipments"
    r = api.post(url, json={"carrier": "黑貓宅急便", "lines": [{"sku": "TEA-001", "quantity": 1}]})
    assert r.status_code == 201 and r.json()["carrier"] == "tcat", r.text
    o = api.post(
        "/api/v1/orders",
        json=order_body(payment_method="cod", lines=[{"sku": "TEA-001", "quantity": 1}]),
    ).json()
    url = f"/api/v1/orders/{o['number']}/shipments"
    r = api.post(url, json={"carrier": "Pigeon Post", "tracking_number": "PP-123456"})
    assert r.status_code == 422, r.text
    assert [(e["field"], e["code"]) for e in r.json()["errors"]] == [("carrier", "unknown_carrier")]
    assert api.get(f"/api/v1/orders/{o['number']}/shipments").json()["items"] == []
    # once the seller adds the courier in the settings, it ships with it
    assert (
        api.post("/api/v1/carriers", json={"code": "pigeon", "name": "Pigeon Post"}).status_code
        == 201
    )
    r = api.post(url, json={"carrier": "Pigeon Post", "tracking_number": "PP-123456"})
    assert r.status_code == 201 and r.json()["carrier"] == "pigeon", r.text


def test_control_characters_are_refused_not_crashed_on(api):
    assert api.patch("/api/v1/carriers/a%00", json={"active": False}).status_code == 404
    assert api.get("/api/v1/carriers/a%00").status_code == 404
    assert api.patch("/api/v1/channels/a%00", json={"name": "x"}).status_code == 404
    assert delete(api, "/api/v1/tax-rates/TW/a%00").status_code == 404
    r = api.post(
        "/api/v1/carriers",
        json={"code": "k", "name": "k", "tracking_url": "https://x/\u0000{number}"},
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "tracking_url"
    assert api.post("/api/v1/channels", json={"code": "abc", "name": "x\u0000"}).status_code == 422
