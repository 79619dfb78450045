"""What staff see on the order page of replays and prices (shared/CONTRACT.md, "Replays say
so" and "Permissions"): an order sent again with changes that were not applied is shown at
the top of the page and in the timeline; a price below the product's in the timeline, with
who set it."""

from __future__ import annotations

from dingdan.domain.access.roles import Role
from dingdan.services.orders import capture
from dingdan.services.shared.common import Actor
from tests.builders import LIN, order_body

MANAGER = Actor("user:manager@example.com", Role.MANAGER)


def _timeline(html: str) -> str:
    return html.split('<ol class="timeline">', 1)[1].split("</ol>", 1)[0]


def test_a_dropped_change_is_shown_at_the_top_of_the_order_page(shop, browser, db):
    body = order_body(buyer=LIN, external_id="SHOP-3")
    n = capture.place_order(db, MANAGER, body)[0]["number"]
    b = browser("customer_service")
    b.post("/language", {"language": "zh_Hant", "next": "/"})
    assert 'id="replay-differs"' not in b.get(f"/orders/{n}").text
    resent = order_body([{"sku": "TEA-001", "quantity": 5}], buyer=LIN, external_id="SHOP-3")
    order, created = capture.place_order(db, MANAGER, resent)
    assert not created and order["lines"][0]["quantity"] == 2
    page = b.get(f"/orders/{n}").text
    notice = page.split('id="replay-differs">', 1)[1].split("</p>", 1)[0]
    assert "SHOP-3" in notice and "TEA-001：訂單 2，送來 5。" in notice
    assert "not applied" not in notice and "on the order" not in notice
    assert "再次送來" in _timeline(page)


def test_a_price_below_the_products_is_in_the_timeline_with_who_set_it(shop, browser, db):
    body = order_body([{"sku": "MUG-001", "quantity": 1, "unit_price": "500.00"}], buyer=LIN)
    n = capture.place_order(db, MANAGER, body)[0]["number"]
    told = _timeline(browser("customer_service").get(f"/orders/{n}").text)
    assert "MUG-001 priced at NT$500, below the product&#39;s price of NT$680." in told
    assert "manager@example.com" in told and "user:" not in told


def test_the_edit_form_refuses_a_lower_price_beside_the_line_and_keeps_it(shop, browser, db):
    from dingdan.services.orders import queries
    from tests.pages.test_order_edit_page import edit

    number = shop["order"]["number"]
    before = queries.get_order(db, number)
    b = browser("customer_service")
    b.post("/language", {"language": "zh_Hant", "next": "/"})
    r = edit(b, number, **{"price-0": "10.00"})
    assert r.status_code == 403
    assert "低於商品售價" in r.text and "調整價格" in r.text
    assert 'value="10.00"' in r.text  # what was typed is kept
    assert queries.get_order(db, number) == before
    r = edit(browser("manager"), number, **{"price-0": "10.00"})
    assert r.status_code == 303, r.text
    assert queries.get_order(db, number)["lines"][0]["unit_price"] == "10.00"
