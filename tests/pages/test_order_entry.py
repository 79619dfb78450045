"""Order entry in the back office (/orders/new): a phone order with a scanned barcode, the
customer found by the phone number as typed, a Taiwanese address whose postal code follows
from 縣市 and 鄉鎮市區, payment received now; a price below the product's refused for a role
without the pricing permission and explained by one with it; refusals beside their fields
with everything typed kept; a past order duplicated."""

from __future__ import annotations

import re
from typing import Any

from dingdan.domain.shared import tw_postal
from dingdan.services.catalog import styles
from dingdan.services.orders import queries
from tests.builders import ADMIN, receive
from tests.pages.test_order_edit_page import form_fields

BARCODE = "4710000000017"  # TEA-001 in the pages' shop


def _start(b: Any, url: str = "/orders/new") -> dict[str, str]:
    r = b.get(url)
    assert r.status_code == 200, r.text
    return form_fields(r.text, "entry-form")


def _scan(b: Any, fields: dict[str, str], code: str) -> tuple[dict[str, str], Any]:
    """What htmx sends when a code and Enter arrive in the product field; the lines come
    back and are read into the fields as the browser would have them."""
    r = b.post("/orders/new/lines", {**fields, "product-q": code})
    assert r.status_code == 200, r.text
    kept = {k: v for k, v in fields.items() if not k.startswith("line-")}
    lines = dict(
        re.findall(r'name="(line-(?:sku|qty|price|reason)-\d+)"[^>]*?value="([^"]*)"', r.text)
    )
    return {**kept, **lines, "product-q": ""}, r


def _phone_order(fields: dict[str, str], **over: str) -> dict[str, str]:
    return {
        **fields,
        "channel": "phone",
        "cust-phone": "0933-222-111",
        "cust-name": "張志明",
        "addr-country": "TW",
        "addr-tw-city": "台北市",  # as people write it; the list spells it 臺北市
        "addr-tw-district": "信義區",
        "addr-tw-street": "松仁路100號",
        "addr-line2": "5樓",
        "shipping_method": "tcat",
        "shipping_price": "100",
        "payment_method": "cash",
        "note": "下午送",
        **over,
    }


def test_postal_codes_cover_every_district_of_the_22_counties_and_cities():
    cities = tw_postal.cities()
    assert len(cities) == 22
    assert sum(len(c["districts"]) for c in cities) == 368
    assert tw_postal.postal_code("台中市", "西屯區") == "407"
    assert tw_postal.postal_code("高雄市", "那瑪夏區") == "849"
    assert tw_postal.postal_code("臺北市", "西屯區") is None
    assert tw_postal.split_line("台北市", "信義區信義路五段7號") == ("信義區", "信義路五段7號")
    assert tw_postal.district_of("台北市", "110") == "信義區"
    assert tw_postal.district_of("新竹市", "300") == ""  # three districts share it


def test_a_phone_order_with_a_scanned_barcode_is_placed_and_paid_now(shop, browser, db):
    b = browser("customer_service")
    page = b.get("/orders").text
    assert 'href="/orders/new"' in page
    found = b.get("/orders/new/customers", params={"q": "0912-345"}).text
    assert "林美華" in found  # the phone as people type it finds the customer
    fields = _start(b)
    fields, r = _scan(b, fields, BARCODE)
    assert r.headers["X-Line-Added"] == "1"
    assert "凍頂烏龍茶" in r.text and "TPE" in r.text
    fields, r = _scan(b, fields, BARCODE)  # a second scan is a second unit
    assert fields["line-qty-0"] == "2"
    fields, r = _scan(b, fields, "mug")  # a name or SKU typed works too
    assert fields["line-sku-1"] == "MUG-001"
    r = b.post("/orders/new", {**_phone_order(fields), "paid-now": "1"})
    assert r.status_code == 303, r.text[-3000:]
    number = r.headers["location"].rsplit("/", 1)[1]
    order = queries.get_order(db, number)
    assert order["channel"] == "phone"
    assert [(ln["sku"], ln["quantity"], ln["unit_price"]) for ln in order["lines"]] == [
        ("TEA-001", 2, "350.00"),
        ("MUG-001", 1, "680.00"),
    ]
    a = order["shipping_address"]
    assert (a["postal_code"], a["city"], a["line1"], a["line2"]) == (
        "110",
        "臺北市",
        "信義區松仁路100號",
        "5樓",
    )
    assert a["name"] == "張志明" and a["phone"] == "+886933222111"
    assert order["customer"]["phone"] == "+886933222111"
    assert order["total"] == "1480.00" and order["paid"] == "1480.00"
    assert order["note"] == "下午送"
    detail = b.get(f"/orders/{number}").text
    assert "Shipping method: T-cat" in detail
    # Sent twice (a double click, the back button): one order.
    again = b.post("/orders/new", {**_phone_order(fields), "paid-now": "1"})
    assert again.headers["location"].endswith(number)


def test_a_price_below_the_products_is_refused_without_the_permission_and_nothing_is_lost(
    shop, browser, db
):
    b = browser("customer_service")
    fields, _r = _scan(b, _start(b), BARCODE)
    before = queries.list_orders(db, limit=50).items
    sent = _phone_order(fields, **{"line-price-0": "300", "line-reason-0": "老客戶"})
    r = b.post("/orders/new", sent)
    assert r.status_code == 403
    assert re.search(r'id="line-price-0-error"[^>]*>[^<]*350', r.text), r.text[-4000:]
    kept = form_fields(r.text, "entry-form")
    for name in ("line-price-0", "line-reason-0", "cust-phone", "addr-tw-street"):
        assert kept[name] == sent[name], name
    assert ">下午送</textarea>" in r.text
    assert kept["addr-tw-district"] == "信義區"
    assert len(queries.list_orders(db, limit=50).items) == len(before)


def test_a_manager_gives_a_reason_for_a_lower_price_and_it_is_kept_with_the_order(
    shop, browser, db
):
    b = browser("manager")
    fields, _r = _scan(b, _start(b), "TEA-001")
    sent = _phone_order(fields, **{"line-price-0": "300"})
    r = b.post("/orders/new", sent)
    assert r.status_code == 422
    assert 'id="line-reason-0-error"' in r.text
    r = b.post("/orders/new", {**sent, "line-reason-0": "老客戶折扣"})
    assert r.status_code == 303, r.text[-3000:]
    number = r.headers["location"].rsplit("/", 1)[1]
    order = queries.get_order(db, number)
    assert order["lines"][0]["unit_price"] == "300.00"
    assert order["paid"] == "0.00"  # not ticked: nothing recorded
    assert "老客戶折扣" in b.get(f"/orders/{number}").text


def test_refusals_are_shown_beside_their_fields_with_everything_typed(shop, browser):
    b = browser("customer_service")
    fields, _r = _scan(b, _start(b), BARCODE)
    sent = _phone_order(
        fields,
        **{
            "cust-phone": "12",
            "addr-tw-district": "西屯區",
            "line-qty-0": "兩",
            "shipping_price": "x",
            "shipping_method": "pigeon",
        },
    )
    r = b.post("/orders/new", sent)
    assert r.status_code == 422
    fields_refused = ("cust-phone", "addr-tw-district", "line-qty-0", "shipping_price")
    for field in (*fields_refused, "shipping_method"):
        assert f'id="{field}-error"' in r.text, field
    kept = form_fields(r.text, "entry-form")
    assert kept["line-qty-0"] == "兩" and kept["cust-phone"] == "12"
    assert kept["shipping_price"] == "x" and kept["addr-tw-street"] == "松仁路100號"
    nothing, _r = _scan(b, kept, "NO-SUCH-THING")
    assert "No product has this name" in _r.text and _r.headers["X-Line-Added"] == "0"


def test_not_enough_stock_is_refused_beside_the_quantity(shop, browser, db):
    b = browser("customer_service")
    fields, _r = _scan(b, _start(b), "MUG-001")  # 5 in TPE, no backorder
    r = b.post("/orders/new", _phone_order(fields, **{"line-qty-0": "9"}))
    assert r.status_code == 409
    assert re.search(r'id="line-qty-0-error"[^>]*>[^<]*5', r.text), r.text[-3000:]
    assert form_fields(r.text, "entry-form")["line-qty-0"] == "9"


def test_a_form_sent_again_after_a_change_places_a_second_order_only_when_asked(shop, browser, db):
    b = browser("customer_service")
    fields, _r = _scan(b, _start(b), BARCODE)
    first = b.post("/orders/new", _phone_order(fields))
    assert first.status_code == 303
    changed = _phone_order(fields, **{"line-qty-0": "3"})
    r = b.post("/orders/new", changed)  # the back button, a change, and Place order
    assert r.status_code == 409 and "placed an order already" in r.text
    again = form_fields(r.text, "entry-form")
    assert again["entry-key"] != changed["entry-key"] and again["line-qty-0"] == "3"
    second = b.post("/orders/new", {**changed, "entry-key": again["entry-key"]})
    assert second.status_code == 303
    assert second.headers["location"] != first.headers["location"]


def test_another_country_uses_the_usual_address_fields(shop, browser, db):
    b = browser("customer_service")
    fields, _r = _scan(b, _start(b), BARCODE)
    sent = _phone_order(
        fields,
        **{
            "addr-country": "US",
            "addr-line1": "1 Main St",
            "addr-city": "Springfield",
            "addr-region": "IL",
            "addr-postal_code": "62701",
            "cust-phone": "+1 217 555 0100",
        },
    )
    r = b.post("/orders/new", sent)
    assert r.status_code == 303, r.text[-3000:]
    order = queries.get_order(db, r.headers["location"].rsplit("/", 1)[1])
    assert order["shipping_address"]["postal_code"] == "62701"
    assert order["shipping_address"]["line1"] == "1 Main St"


def test_a_past_order_is_duplicated_into_the_form(shop, browser):
    b = browser("customer_service")
    number = shop["order"]["number"]
    assert f'href="/orders/new?from={number}"' in b.get(f"/orders/{number}").text
    fields = _start(b, f"/orders/new?from={number}")
    assert fields["cust-email"] == "lin@example.com"
    assert fields["line-sku-0"] == "TEA-001" and fields["line-qty-0"] == "2"
    assert fields["addr-tw-city"] == "臺北市" and fields["addr-tw-street"] == "信義路五段7號"


def test_a_customer_picked_brings_the_address_of_their_last_order(shop, browser, db):
    from dingdan.services.orders import customers

    b = browser("customer_service")
    lin = customers.list_customers(db, q="lin@example.com").items[0]
    r = b.get("/orders/new/address", params={"customer": lin["id"]})
    assert r.status_code == 200
    assert 'id="address-block"' in r.text
    assert 'value="信義路五段7號"' in r.text
    assert re.search(r'<option value="信義區" data-postal="110"\s+selected', r.text)
    assert b.get("/orders/new/address", params={"customer": "x"}).status_code == 200


def test_roles_that_may_not_take_orders_see_no_entry(shop, browser):
    b = browser("warehouse")
    assert 'href="/orders/new"' not in b.get("/orders").text
    assert b.get("/orders/new").status_code == 403
    r = b.post("/orders/new", {"cust-phone": "0912345678"})
    assert r.status_code == 403


def test_nothing_typed_into_the_lines_answers_a_5xx(shop, browser):
    b = browser("manager")
    fields, _r = _scan(b, _start(b), BARCODE)
    for weird in ("inf", "nan", "1e400", "-1", "１２", "²", "\x00", "9" * 40, "\u202e1", " "):
        sent = _phone_order(
            fields,
            **{
                "line-qty-0": weird,
                "line-price-0": weird,
                "line-reason-0": weird,
                "shipping_price": weird,
                "addr-tw-city": weird,
                "cust-phone": weird,
                "line-sku-1": weird,
                "line-sku-99": weird,
            },
        )
        assert b.post("/orders/new", sent).status_code < 500, weird
        assert b.post("/orders/new/lines", {**sent, "product-q": weird}).status_code < 500
        assert b.post("/orders/new/lines", {**sent, "remove": weird}).status_code < 500
        assert b.get("/orders/new/customers", params={"q": weird}).status_code < 500
        assert b.get("/orders/new/products", params={"q": weird}).status_code < 500
        assert b.get("/orders/new", params={"from": weird}).status_code < 500


def test_the_invoice_the_customer_asks_for_is_checked_beside_its_field_and_kept(shop, browser, db):
    from dingdan.services.orders import queries as order_queries

    b = browser("customer_service")
    fields, _ = _scan(b, _start(b), BARCODE)
    bad = b.post(
        "/orders/new",
        _phone_order(
            fields, **{"inv-kind": "b2b", "inv-ubn": "12345678", "inv-buyer": "茶舖有限公司"}
        ),
    )
    assert bad.status_code == 422
    assert 'id="inv-ubn-error"' in bad.text or 'aria-describedby="inv-ubn-error"' in bad.text
    assert 'value="茶舖有限公司"' in bad.text  # nothing typed lost
    mobile = b.post(
        "/orders/new", _phone_order(fields, **{"inv-kind": "mobile", "inv-carrier": "ABC1234"})
    )  # no leading "/"
    assert mobile.status_code == 422 and 'aria-describedby="inv-carrier-error"' in mobile.text
    ok = b.post(
        "/orders/new",
        _phone_order(
            fields, **{"inv-kind": "b2b", "inv-ubn": "04595257", "inv-buyer": "茶舖有限公司"}
        ),
    )
    assert ok.status_code == 303, ok.text[-2000:]
    number = ok.headers["location"].rsplit("/", 1)[1]
    asked = [e for e in order_queries.events(db, number)["items"] if e["kind"] == "invoice_request"]
    assert [e["data"] for e in asked] == [
        {"type": "b2b", "buyer_ubn": "04595257", "buyer_name": "茶舖有限公司"}
    ]


TEE = {
    "code": "TEE",
    "name": "棉質T恤",
    "options": ["尺寸", "顏色"],
    "price": "390.00",
    "currency": "TWD",
    "variants": [
        {"sku": "TEE-M-RED", "options": {"尺寸": "M", "顏色": "紅"}},
        {"sku": "TEE-L-RED", "options": {"尺寸": "L", "顏色": "紅"}, "price": "420.00"},
        {"sku": "TEE-L-BLUE", "options": {"尺寸": "L", "顏色": "藍"}, "barcode": "4710000000556"},
    ],
}


def _picks(html: str) -> list[str]:
    return re.findall(r'data-add-sku="([^"]+)"', html)


def test_a_style_found_by_name_offers_its_variants_with_their_stock_to_pick_one(shop, browser, db):
    styles.create_style(db, ADMIN, TEE)
    receive(db, "TPE", {"TEE-L-RED": 4, "TEE-M-RED": 1})
    b = browser("customer_service")
    found = b.get("/orders/new/products", params={"q": "棉質"}).text
    assert 'data-style="TEE"' in found and "3 variants: choose one" in found
    assert _picks(found) == [], "the variants are picked from their style, not listed twice"
    picker = b.get("/orders/new/products", params={"style": "TEE", "q": "棉質"}).text
    assert _picks(picker) == ["TEE-M-RED", "TEE-L-RED", "TEE-L-BLUE"]
    row = re.search(r'data-add-sku="TEE-L-RED".*?</button>', picker, re.S)
    assert row and "<strong>L</strong>" in row[0] and "<strong>紅</strong>" in row[0]
    assert "420" in row[0] and re.search(r"TPE <b class=\"\">4</b>", row[0])
    blue = re.search(r'data-add-sku="TEE-L-BLUE".*?</button>', picker, re.S)
    assert blue and "No stock" in blue[0]
    # The style's name typed and Enter: no line, the page is asked to show its variants.
    fields, r = _scan(b, _start(b), "棉質T恤")
    assert r.headers["X-Line-Added"] == "0" and r.headers["X-Style"] == "TEE"
    assert "Choose a variant from the list." in r.text
    # A variant's SKU or barcode scanned is added at once, as any product.
    fields, r = _scan(b, fields, "4710000000556")
    assert r.headers["X-Line-Added"] == "1" and fields["line-sku-0"] == "TEE-L-BLUE"
    assert "X-Style" not in r.headers
    # Without script: Add shows the style's variants, a variant's button adds it.
    r = b.post("/orders/new", {**fields, "product-q": "棉質T恤", "action": "add"})
    assert r.status_code == 200 and _picks(r.text) == ["TEE-M-RED", "TEE-L-RED", "TEE-L-BLUE"]
    assert 'name="pick-sku" value="TEE-L-RED"' in r.text
    r = b.post("/orders/new", {**form_fields(r.text, "entry-form"), "pick-sku": "TEE-L-RED"})
    kept = form_fields(r.text, "entry-form")
    assert (kept["line-sku-0"], kept["line-sku-1"]) == ("TEE-L-BLUE", "TEE-L-RED")
    assert kept["product-q"] == ""
    r = b.post("/orders/new", _phone_order({k: v for k, v in kept.items() if k != "line-sku-0"}))
    assert r.status_code == 303, r.text[-3000:]
    order = queries.get_order(db, r.headers["location"].rsplit("/", 1)[1])
    assert [(ln["sku"], ln["unit_price"]) for ln in order["lines"]] == [("TEE-L-RED", "420.00")]


def test_the_entry_page_asks_the_e_invoice_centre_about_a_mobile_barcode(
    shop, browser, db, monkeypatch
):
    """With a centre set: a barcode it does not know is refused beside its field, saying
    so in the reader's language; one it knows is kept, verified."""
    from dingdan.config import get_settings
    from dingdan.services.orders import queries as order_queries
    from tests.einvoice_fakes import FakeEcpay

    fake = FakeEcpay()
    fake.start()
    monkeypatch.setenv("DINGDAN_EINVOICE_CENTRE", "ecpay")
    monkeypatch.setenv("DINGDAN_EINVOICE_ECPAY_URL", fake.url)
    get_settings.cache_clear()
    try:
        b = browser("customer_service")
        fields, _ = _scan(b, _start(b), BARCODE)
        unknown = b.post(
            "/orders/new",
            _phone_order(fields, **{"inv-kind": "mobile", "inv-carrier": "/ABC1234"}),
            headers={"Accept-Language": "zh-TW"},
        )
        assert unknown.status_code == 422
        assert 'aria-describedby="inv-carrier-error"' in unknown.text
        assert "加值中心查無此手機條碼" in unknown.text
        ok = b.post(
            "/orders/new",
            _phone_order(fields, **{"inv-kind": "mobile", "inv-carrier": "/TRM+O+P"}),
        )
        assert ok.status_code == 303, ok.text[-2000:]
        number = ok.headers["location"].rsplit("/", 1)[1]
        asked = [
            e["data"]
            for e in order_queries.events(db, number)["items"]
            if e["kind"] == "invoice_request"
        ]
        kept = {"type": "b2c", "carrier_type": "mobile", "carrier_id": "/TRM+O+P"}
        assert asked == [{**kept, "verified": "centre"}]
    finally:
        fake.stop()
        monkeypatch.undo()
        get_settings.cache_clear()
