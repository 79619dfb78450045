"""The cycle count pages: a count sheet made for a location, counted on the phone page by
scanning (one unit a scan) or typing, printed on A4, posted; refused below what is reserved;
a viewer reads but may not count; the ABC/XYZ badge on the product page and stock list."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from sqlalchemy import update

from dingdan.db.order_tables import Order
from dingdan.services.inventory import stock as inventory
from tests.pages.test_every_form_fuzzed import EVERY_FORM

ZH = {"Accept-Language": "zh-TW"}


def _sheet(wh):
    r = wh.post("/cycle-counts", {"location": "TPE"})
    assert r.status_code == 303, r.text
    url = r.headers["location"]
    assert re.fullmatch(r"/cycle-counts/[0-9]+", url)
    return url


def _tpe(db, sku):
    return next(
        (lv["on_hand"], lv["reserved"])
        for lv in inventory.stock_of(db, sku)["locations"]
        if lv["location"] == "TPE"
    )


def test_a_sheet_is_counted_by_scanning_and_typing_then_posted(shop, browser, db):
    wh = browser("warehouse")
    url = _sheet(wh)
    page = wh.get(url, headers=ZH)
    assert page.status_code == 200 and 'lang="zh-Hant"' in page.text
    assert "data-scan" in page.text and "TEA-001" in page.text and "MUG-001" in page.text
    assert "盤點" in page.text
    for _ in range(3):  # the tea's barcode, one unit a scan
        assert wh.post(f"{url}/count", {"code": "4710000000017", "counted": ""}).status_code == 303
    assert wh.post(f"{url}/count", {"code": "MUG-001", "counted": "５"}).status_code == 303
    typo = wh.post(f"{url}/count", {"code": "MUG-001", "counted": "5x"})
    assert typo.status_code == 422 and 'value="5x"' in typo.text
    refused = wh.post(f"{url}/count", {"code": "NOPE", "counted": "1"})
    assert refused.status_code == 422 and "NOPE" in refused.text
    shown = wh.get(url).text
    assert "+0" in shown and "-17" in shown
    printed = wh.get(f"{url}/print", headers=ZH)
    assert printed.status_code == 200 and "cycle_count_print.css" in printed.text
    assert "TEA-001" in printed.text
    posted = wh.post(f"{url}/post")
    assert posted.status_code == 303
    assert _tpe(db, "TEA-001") == (3, 2)  # the shop's order still holds its two
    assert _tpe(db, "MUG-001") == (5, 0)
    assert inventory.verify(db) == []
    assert wh.post(f"{url}/post").status_code == 303  # already posted: a message, nothing else
    assert _tpe(db, "TEA-001") == (3, 2)
    listed = wh.get("/cycle-counts", headers=ZH)
    assert listed.status_code == 200 and url in listed.text


def test_a_count_below_what_is_reserved_is_refused(shop, browser, db):
    wh = browser("warehouse")
    url = _sheet(wh)
    wh.post(f"{url}/count", {"code": "TEA-001", "counted": "1"})
    r = wh.post(f"{url}/post")
    assert r.status_code == 409
    assert _tpe(db, "TEA-001") == (20, 2)
    assert inventory.verify(db) == []


def test_a_viewer_reads_but_may_not_count(shop, browser):
    url = _sheet(browser("manager"))
    viewer = browser("viewer")
    page = viewer.get(url)
    assert page.status_code == 200 and "data-scan" not in page.text
    assert 'id="make-sheet"' not in viewer.get("/cycle-counts").text
    assert viewer.post("/cycle-counts", {"location": "TPE"}).status_code == 403
    assert viewer.post(f"{url}/count", {"code": "TEA-001", "counted": "1"}).status_code == 403
    assert viewer.post(f"{url}/post").status_code == 403
    assert viewer.get("/cycle-counts/99999").status_code == 404
    assert viewer.get("/cycle-counts/x%00").status_code == 404


def test_the_abc_badge_on_the_product_page_and_the_stock_list(shop, browser, db):
    when = datetime.now(UTC) - timedelta(days=3)
    db.write(lambda c: c.execute(update(Order).values(created_at=when)))
    b = browser("viewer")
    product = b.get("/products/TEA-001", headers=ZH)
    assert product.status_code == 200 and "ABC A" in product.text
    stock = b.get("/inventory", headers=ZH)
    assert stock.status_code == 200 and 'class="badge abc-class"' in stock.text


def test_the_forms_take_any_typing(shop, browser):
    wh = browser("warehouse")
    url = _sheet(wh)
    for value in EVERY_FORM:
        for action, fields in (
            ("/cycle-counts", ("location",)),
            (f"{url}/count", ("code", "counted")),
        ):
            for name in fields:
                data = {"location": "TPE", "code": "TEA-001", "counted": "1", name: value}
                r = wh.post(action, data)
                assert r.status_code < 500, (action, name, value)
    assert wh.post("/cycle-counts/%C2%B2/count", {"code": "TEA-001"}).status_code == 303
