"""Settings of sales channels, carriers and tax rates in the back office: for the roles that
manage settings only, each change reaching the orders (a channel takes orders, a carrier is
offered when shipping, a rate taxes new orders), bad input shown with nothing saved, and a
seller's own carrier named on the order and tracking pages."""

from __future__ import annotations

import re

import pytest

from dingdan.domain.shared.errors import ValidationFailed
from dingdan.services.catalog import channels_and_taxes
from dingdan.services.fulfilment import carriers
from dingdan.services.fulfilment import shipments as fulfilment
from dingdan.services.orders import capture
from dingdan.services.payments import transactions
from tests.builders import ADMIN, LIN, order_body

PAGES = ("/settings/channels", "/settings/carriers", "/settings/taxes")
WRITES = [
    ("/settings/channels", {"code": "shopee", "name": "Shopee"}),
    ("/settings/channels/web", {"do": "rename", "name": "Forged"}),
    ("/settings/carriers", {"code": "kerry_tw", "name": "Kerry"}),
    ("/settings/carriers/hct", {"do": "deactivate"}),
    (
        "/settings/taxes",
        {"country": "TW", "tax_class": "standard", "rate": "9", "prices_include_tax": "1"},
    ),
    ("/settings/taxes/TW/standard/delete", {}),
]


def _carrier(db, code):
    return next((c for c in carriers.list_carriers(db)["items"] if c["code"] == code), None)


def _channel(db, code):
    return next(
        (c for c in channels_and_taxes.list_channels(db)["items"] if c["code"] == code), None
    )


def _overrides(db):
    return [r for r in channels_and_taxes.list_tax_rates(db)["items"] if r["source"] == "override"]


def _ship_options(html):
    form = html.split('id="ship-form"', 1)[1].split("</form>", 1)[0]
    return set(re.findall(r'<option value="([^"]+)"', form.split('id="ship-carrier"', 1)[1]))


@pytest.mark.parametrize("role", ["manager", "admin"])
def test_a_manager_finds_the_three_pages_from_the_settings_page(shop, browser, role):
    b = browser(role)
    html = b.get("/settings").text
    for url in PAGES:
        assert f'href="{url}"' in html
    for url in PAGES:
        r = b.get(url)
        assert r.status_code == 200, url
        assert f'href="{url}" aria-current="page"' in r.text
        assert 'name="csrf_token"' in r.text


@pytest.mark.parametrize("role", ["warehouse", "customer_service"])
def test_other_roles_may_neither_see_nor_change_these_settings(shop, browser, db, role):
    b = browser(role)
    for url in PAGES:
        assert b.get(url).status_code == 403, url
    channels_and_taxes.set_tax_rate(
        db, ADMIN, "TW", "standard", {"rate": "7", "prices_include_tax": True}
    )
    for url, data in WRITES:
        assert b.post(url, data).status_code == 403, url
    assert _channel(db, "shopee") is None and _channel(db, "web")["name"] == "Web shop"
    assert _carrier(db, "kerry_tw") is None and _carrier(db, "hct")["active"] is True
    assert [(r["country"], r["rate"]) for r in _overrides(db)] == [("TW", "7")]


# ---- channels ----------------------------------------------------------------------------


def test_a_created_channel_takes_orders_until_it_is_switched_off(shop, browser, db):
    b = browser("manager")
    r = b.post("/settings/channels", {"code": "shopee", "name": "蝦皮購物"})
    assert r.status_code == 303 and r.headers["location"] == "/settings/channels"
    assert "蝦皮購物" in b.get("/settings/channels").text
    order, _ = capture.place_order(db, ADMIN, order_body(buyer=LIN, channel="shopee"))
    assert order["channel"] == "shopee"

    assert b.post("/settings/channels/shopee", {"do": "deactivate"}).status_code == 303
    assert _channel(db, "shopee")["active"] is False
    with pytest.raises(ValidationFailed):
        capture.place_order(db, ADMIN, order_body(buyer=LIN, channel="shopee"))
    assert b.post("/settings/channels/shopee", {"do": "activate"}).status_code == 303
    assert _channel(db, "shopee")["active"] is True


def test_a_built_in_channel_is_renamed_but_not_switched_off(shop, browser, db):
    b = browser("admin")
    assert b.post("/settings/channels/web", {"do": "rename", "name": "官方網站"}).status_code == 303
    assert _channel(db, "web")["name"] == "官方網站"
    assert "官方網站" in b.get("/settings/channels").text
    r = b.post("/settings/channels/web", {"do": "deactivate"})
    assert r.status_code == 409 and "conflicts" in r.text
    assert _channel(db, "web")["active"] is True


@pytest.mark.parametrize(
    ("data", "shown"),
    [
        ({"code": "Shopee!", "name": "Shopee"}, "lower-case letters"),
        ({"code": "shopee", "name": ""}, "is required"),
        ({"code": "web", "name": "Another web"}, "is already taken"),
        ({"code": "shopee", "name": "x" * 101}, "at most 100 characters"),
    ],
)
def test_a_bad_channel_is_shown_and_not_saved(shop, browser, db, data, shown):
    before = channels_and_taxes.list_channels(db)["items"]
    r = browser("manager").post("/settings/channels", data)
    assert r.status_code == (409 if shown == "is already taken" else 422)  # as the API
    assert "Please correct the fields below." in r.text and shown in r.text
    assert f'value="{data["code"]}"' in r.text  # what was typed is kept
    assert channels_and_taxes.list_channels(db)["items"] == before


def test_an_empty_rename_is_refused(shop, browser, db):
    r = browser("manager").post("/settings/channels/app", {"do": "rename", "name": " "})
    assert r.status_code == 422 and "is required" in r.text
    assert _channel(db, "app")["name"] == "App"


# ---- carriers ----------------------------------------------------------------------------


def test_a_created_carrier_is_offered_when_shipping_until_switched_off(shop, browser, db):
    b = browser("manager")
    r = b.post(
        "/settings/carriers",
        {
            "code": "kerry_tw",
            "name": "嘉里大榮物流",
            "tracking_format": "",
            "tracking_url": "https://kerry.example/track?no={number}",
        },
    )
    assert r.status_code == 303
    saved = _carrier(db, "kerry_tw")
    assert saved["name"] == "嘉里大榮物流" and saved["tracking_format"] is None
    assert saved["tracking_url"] == "https://kerry.example/track?no={number}"
    assert saved["store_pickup"] is False and saved["active"] is True

    number = shop["order"]["number"]
    transactions.record_payment(db, ADMIN, number, {"amount": shop["order"]["total"]})
    wh = browser("warehouse")
    html = wh.get(f"/orders/{number}").text  # paid: shipping is offered
    assert "kerry_tw" in _ship_options(html) and "嘉里大榮物流" in html

    assert b.post("/settings/carriers/kerry_tw", {"do": "deactivate"}).status_code == 303
    assert "kerry_tw" not in _ship_options(wh.get(f"/orders/{number}").text)


def test_a_carrier_is_edited_and_a_default_switched_off(shop, browser, db):
    b = browser("admin")
    carriers.create_carrier(db, ADMIN, {"code": "bike", "name": "Bike"})
    r = b.post(
        "/settings/carriers/bike",
        {
            "do": "edit",
            "name": "Taipei Bike Couriers",
            "tracking_format": "tcat",
            "tracking_url": "",
            "store_pickup": "1",
        },
    )
    assert r.status_code == 303
    saved = _carrier(db, "bike")
    assert (saved["name"], saved["tracking_format"], saved["tracking_url"]) == (
        "Taipei Bike Couriers",
        "tcat",
        None,
    )
    assert saved["store_pickup"] is True
    assert b.post("/settings/carriers/tcat", {"do": "deactivate"}).status_code == 303
    assert _carrier(db, "tcat")["active"] is False
    number = shop["order"]["number"]
    transactions.record_payment(db, ADMIN, number, {"amount": shop["order"]["total"]})
    html = browser("warehouse").get(f"/orders/{number}").text  # paid: shipping is offered
    assert "tcat" not in _ship_options(html) and "bike" in _ship_options(html)


@pytest.mark.parametrize(
    ("data", "shown"),
    [
        ({"code": "Kerry TW", "name": "Kerry"}, "lower-case letters"),
        ({"code": "kerry", "name": ""}, "is required"),
        (
            {"code": "kerry", "name": "Kerry", "tracking_url": "https://k.example/t"},
            "containing {number}",
        ),
        (
            {"code": "kerry", "name": "Kerry", "tracking_url": "javascript:alert(1)//{number}"},
            "containing {number}",
        ),
        ({"code": "kerry", "name": "Kerry", "tracking_format": "nope"}, "must be one of"),
        ({"code": "tcat", "name": "T-cat again"}, "is already taken"),
    ],
)
def test_a_bad_carrier_is_shown_and_not_saved(shop, browser, db, data, shown):
    before = carriers.list_carriers(db)["items"]
    r = browser("manager").post("/settings/carriers", data)
    assert r.status_code == (409 if shown == "is already taken" else 422)  # as the API
    assert "Please correct the fields below." in r.text and shown in r.text
    assert carriers.list_carriers(db)["items"] == before


def test_a_bad_carrier_edit_keeps_the_form_open_and_changes_nothing(shop, browser, db):
    r = browser("manager").post(
        "/settings/carriers/hct", {"do": "edit", "name": "HCT", "tracking_url": "ftp://x/{number}"}
    )
    assert r.status_code == 422 and "containing {number}" in r.text
    assert 'value="ftp://x/{number}"' in r.text
    row = r.text.split('id="carrier-hct"', 1)[1].split("</tr>", 1)[0]
    assert "<details open>" in row
    assert _carrier(db, "hct")["updated_at"] is None  # no row stored for the default


def test_an_unknown_carrier_is_404(shop, browser):
    assert (
        browser("manager").post("/settings/carriers/nobody", {"do": "deactivate"}).status_code
        == 404
    )


# ---- the seller's carrier on shipments ---------------------------------------------------


def test_a_custom_carrier_is_named_and_linked_on_the_tracking_and_order_pages(shop, browser, db):
    carriers.create_carrier(
        db,
        ADMIN,
        {
            "code": "kerry_tw",
            "name": "嘉里大榮物流",
            "tracking_url": "https://kerry.example/track?no={number}",
        },
    )
    order = shop["order"]
    transactions.record_payment(db, ADMIN, order["number"], {"amount": "760.00"})
    fulfilment.create_shipment(
        db, ADMIN, order["number"], {"carrier": "kerry_tw", "tracking_number": "KR12345678"}
    )
    track = browser().get(f"/track/{order['tracking_token']}").text
    assert "<strong>嘉里大榮物流</strong>" in track
    assert 'href="https://kerry.example/track?no=KR12345678"' in track
    page = browser("customer_service").get(f"/orders/{order['number']}").text
    shipments = page.split("<h2>Shipments</h2>", 1)[1].split("</section>", 1)[0]
    assert ">嘉里大榮物流</td>" in shipments
    assert 'href="https://kerry.example/track?no=KR12345678"' in shipments


def test_a_renamed_default_carrier_shows_the_new_name_to_the_customer(shop, browser, db):
    carriers.update_carrier(db, ADMIN, "hct", {"name": "新竹物流 HCT", "active": True})
    order = shop["order"]
    transactions.record_payment(db, ADMIN, order["number"], {"amount": "760.00"})
    fulfilment.create_shipment(db, ADMIN, order["number"], {"carrier": "hct"})
    track = browser().get(f"/track/{order['tracking_token']}").text
    assert "<strong>新竹物流 HCT</strong>" in track


# ---- tax rates ---------------------------------------------------------------------------


def test_a_tax_rate_of_your_own_taxes_new_orders_until_removed(shop, browser, db):
    first = shop["order"]  # 2 × 350 + 60 shipping, 5% included in Taiwan
    assert (first["total"], first["tax_total"]) == ("760.00", "36.19")
    b = browser("manager")
    r = b.post(
        "/settings/taxes",
        {"country": "tw", "tax_class": "standard", "rate": "10%", "prices_include_tax": "0"},
    )
    assert r.status_code == 303
    assert [
        (t["country"], t["tax_class"], t["rate"], t["prices_include_tax"]) for t in _overrides(db)
    ] == [("TW", "standard", "10", False)]
    html = b.get("/settings/taxes").text
    row = html.split('id="tax-TW-standard"', 1)[1].split("</tr>", 1)[0]
    assert "10%" in row and "Added to prices" in row and "Your own" in row

    taxed, _ = capture.place_order(db, ADMIN, order_body(buyer=LIN))
    assert (taxed["total"], taxed["tax_total"]) == ("836.00", "76.00")

    assert b.post("/settings/taxes/TW/standard/delete").status_code == 303
    assert _overrides(db) == []
    again, _ = capture.place_order(db, ADMIN, order_body(buyer=LIN))
    assert (again["total"], again["tax_total"]) == ("760.00", "36.19")


def test_a_rate_is_edited_in_its_row(shop, browser, db):
    b = browser("admin")
    r = b.post(
        "/settings/taxes",
        {
            "key": "HK/standard",
            "country": "HK",
            "tax_class": "standard",
            "rate": "2.5",
            "prices_include_tax": "1",
        },
    )
    assert r.status_code == 303
    assert [(t["country"], t["rate"], t["prices_include_tax"]) for t in _overrides(db)] == [
        ("HK", "2.5", True)
    ]


@pytest.mark.parametrize(
    ("data", "shown"),
    [
        ({"country": "TW", "tax_class": "standard", "rate": "abc"}, "with at most 4 decimals"),
        ({"country": "TW", "tax_class": "standard", "rate": "101"}, "must be at most 100"),
        ({"country": "ZZ", "tax_class": "standard", "rate": "5"}, "two-letter country code"),
        ({"country": "TW", "tax_class": "zero", "rate": "5"}, "must be one of"),
        (
            {"country": "TW", "tax_class": "standard", "rate": "5", "prices_include_tax": "maybe"},
            "must be true or false",
        ),
    ],
)
def test_a_bad_tax_rate_is_shown_and_not_saved(shop, browser, db, data, shown):
    r = browser("manager").post("/settings/taxes", {"prices_include_tax": "1", **data})
    assert r.status_code == 422
    assert "Please correct the fields below." in r.text and shown in r.text
    assert _overrides(db) == []


def test_a_bad_edit_of_a_rate_opens_its_row_again(shop, browser, db):
    r = browser("manager").post(
        "/settings/taxes",
        {
            "key": "TW/reduced",
            "country": "TW",
            "tax_class": "reduced",
            "rate": "5,5",
            "prices_include_tax": "1",
        },
    )
    assert r.status_code == 422
    row = r.text.split('id="tax-TW-reduced"', 1)[1].split("</tr>", 1)[0]
    assert "<details open>" in row and 'value="5,5"' in row
    assert _overrides(db) == []


def test_removing_a_rate_that_is_not_yours_is_404(shop, browser):
    assert browser("manager").post("/settings/taxes/TW/standard/delete").status_code == 404


def test_the_pages_read_in_traditional_chinese(shop, browser):
    b = browser("manager")
    b.post("/language", {"language": "zh_Hant", "next": "/"})
    r = b.post(
        "/settings/taxes",
        {"country": "TW", "tax_class": "standard", "rate": "x", "prices_include_tax": "1"},
    )
    assert r.status_code == 422
    assert "稅率" in r.text and "請修正以下欄位。" in r.text
    assert "must be a percentage" not in r.text
