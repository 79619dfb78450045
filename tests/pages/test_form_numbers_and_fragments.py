"""Numbers typed into the back office's forms are read one way (full-width digits, thousands
separators in money, bounds), and the live search answers its fragment."""

from __future__ import annotations

import pytest

from dingdan.services.catalog import products
from dingdan.services.orders import capture, queries
from dingdan.services.reports import dashboard
from tests.builders import ADMIN, lines, order_body

FRAGMENT = {"HX-Request": "true", "HX-Target": "results"}


# ---- 10: the live search and filters -----------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("/orders?q=DD001", "DD001001"),
        ("/orders?status=open", "DD001001"),
        ("/orders?q=%E6%9E%97", "DD001001"),
        ("/products?q=tea", "TEA-001"),
        ("/customers?q=lin", "lin@example.com"),
    ],
)
def test_the_live_search_answers_the_results_fragment(shop, browser, url, expected):
    r = browser("admin").get(url, headers=FRAGMENT)
    assert r.status_code == 200, r.text
    assert r.text.lstrip().startswith('<div id="results"') and "<html" not in r.text
    assert expected in r.text


# ---- 9 and 24: numbers in forms ---------------------------------------------------------


@pytest.mark.parametrize("hours", ["inf", "-inf", "nan", "1e400", "0.01", "0", "8761", "²"])
def test_stage_limits_take_whole_hours_from_1_to_8760_only(shop, browser, db, hours):
    before = dashboard.stage_limits(db)
    form = {f"{s}_owner": v["owner"] for s, v in dashboard.DEFAULT_LIMITS.items()}
    form |= {f"{s}_hours": "24" for s in dashboard.STAGES} | {"payment_hours": hours}
    r = browser("admin").post("/settings/stage-limits", form)
    assert r.status_code == 422, r.text
    assert "from 1 to 8760" in r.text
    assert dashboard.stage_limits(db) == before


def test_stage_limits_read_full_width_digits(shop, browser, db):
    form = {f"{s}_hours": "２４" for s in dashboard.STAGES}
    form |= {f"{s}_owner": v["owner"] for s, v in dashboard.DEFAULT_LIMITS.items()}
    r = browser("admin").post("/settings/stage-limits", form)
    assert r.status_code == 303, r.text
    assert {v["hours"] for v in dashboard.stage_limits(db).values()} == {24}


@pytest.mark.parametrize("amount", ["1,320.00", "1,320", "１，３２０", " 1,320 "])
def test_a_payment_is_typed_with_thousands_separators(shop, browser, db, amount):
    order, _ = capture.place_order(db, ADMIN, order_body(lines(("TEA-001", 4))))
    assert order["total"] == "1460.00"
    r = browser("finance").post(f"/orders/{order['number']}/payments", {"amount": amount})
    assert r.status_code == 303, r.text
    assert queries.get_order(db, order["number"])["paid"] == "1320.00"


@pytest.mark.parametrize("amount", ["1,32", "1.320,00", "1e3", "²"])
def test_a_malformed_amount_is_refused_and_nothing_is_paid(shop, browser, db, amount):
    number = shop["order"]["number"]
    r = browser("finance").post(
        f"/orders/{number}/payments", {"amount": amount}, follow_redirects=True
    )
    assert r.status_code < 500
    assert queries.get_order(db, number)["paid"] == "0.00"


def test_the_product_form_reads_a_price_with_separators_and_full_width_numbers(shop, browser, db):
    r = browser("admin").post(
        "/products",
        {
            "sku": "BIG-1",
            "name": "大禮盒",
            "price": "12,800",
            "currency": "TWD",
            "weight_grams": "１２００",
            "low_stock_threshold": "５",
            "active": "1",
        },
    )
    assert r.status_code == 303, r.text
    p = products.get_product(db, "BIG-1")
    assert (p["price"], p["weight_grams"], p["low_stock_threshold"]) == ("12800.00", 1200, 5)


@pytest.mark.parametrize("weight", ["99999999999", "²", "inf", "-5"])
def test_the_product_form_refuses_numbers_it_cannot_store(shop, browser, db, weight):
    r = browser("admin").post(
        "/products",
        {"sku": "BIG-2", "name": "x", "price": "1", "currency": "TWD", "weight_grams": weight},
    )
    assert r.status_code == 422, r.text
    assert products.list_products(db, q="BIG-2").items == []


@pytest.mark.parametrize("quantity", ["²", "9" * 40, "-1", "inf", "1e3"])
def test_a_line_cancel_with_a_quantity_that_is_no_number_changes_nothing(
    shop, browser, db, quantity
):
    number = shop["order"]["number"]
    r = browser("admin").post(
        f"/orders/{number}/lines/cancel", {"sku": "TEA-001", "quantity": quantity, "reason": "x"}
    )
    # The order page again, the message beside the quantity (was a 303 and a flash).
    assert r.status_code == 422 and 'id="cl-qty-error"' in r.text
    assert queries.get_order(db, number)["lines"][0]["cancelled"] == 0


def test_a_line_cancel_reads_full_width_digits(shop, browser, db):
    number = shop["order"]["number"]
    r = browser("admin").post(
        f"/orders/{number}/lines/cancel", {"sku": "TEA-001", "quantity": "１", "reason": "x"}
    )
    assert r.status_code == 303
    assert queries.get_order(db, number)["lines"][0]["cancelled"] == 1
