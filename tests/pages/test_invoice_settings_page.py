"""Settings → Invoices: the seller, e-invoice on or off, and the number ranges, typed or
pasted from the tax platform's file; refusals beside their fields, nothing saved."""

from __future__ import annotations

from dingdan.services.invoicing import settings as invoicing_settings

GOOD = {
    "seller_name": "茶舖有限公司",
    "seller_ubn": "04595257",
    "einvoice": "1",
    "issue_on": "payment",
    "void_closing_day": "15",
}


def test_finance_sets_the_seller_and_a_bad_ubn_changes_nothing(shop, browser, db):
    finance = browser("finance")
    page = finance.get("/settings/invoicing")
    assert page.status_code == 200 and 'id="invoicing-form"' in page.text
    assert browser("warehouse").get("/settings/invoicing").status_code == 403
    bad = finance.post("/settings/invoicing", {**GOOD, "seller_ubn": "12345678"})
    assert bad.status_code == 422
    assert 'aria-invalid="true"' in bad.text and "茶舖有限公司" in bad.text  # typed kept
    assert invoicing_settings.get(db)["configured"] is False
    done = finance.post("/settings/invoicing", GOOD)
    assert done.status_code == 303
    cfg = invoicing_settings.get(db)
    assert (cfg["seller_ubn"], cfg["einvoice"], cfg["void_closing_day"]) == ("04595257", True, 15)


def test_ranges_typed_and_pasted_are_listed_with_their_use(shop, browser, db):
    finance = browser("finance")
    r = finance.post(
        "/settings/invoicing/tracks",
        {"period": "2026-11", "prefix": "AB", "start": "10000000", "end": "10000049"},
    )
    assert r.status_code == 303
    refused = finance.post(
        "/settings/invoicing/tracks",
        {"period": "2026-12", "prefix": "ab", "start": "10000001", "end": "1"},
    )
    assert refused.status_code == 422 and 'id="tr-prefix"' in refused.text
    overlap = finance.post(
        "/settings/invoicing/tracks",
        {"period": "2026-11", "prefix": "AB", "start": "10000000", "end": "10000099"},
    )
    assert overlap.status_code == 409
    csv = "期別,字軌,起號,迄號\n11511,AC,20000000,20000049\n11511,AD,30000000,30000099\n"
    pasted = finance.post("/settings/invoicing/tracks/import", {"csv": csv})
    assert pasted.status_code == 303
    assert [(t["prefix"], t["remaining"]) for t in invoicing_settings.list_tracks(db)["items"]] == [
        ("AB", 50),
        ("AC", 50),
        ("AD", 100),
    ]
    listed = finance.get("/settings/invoicing").text
    assert "AB10000000" in listed and "20000000–20000049" in listed


def test_each_ranges_blank_numbers_download_as_e0402(shop, browser, db):
    finance = browser("finance")
    assert finance.post("/settings/invoicing", GOOD).status_code == 303
    finance.post(
        "/settings/invoicing/tracks",
        {"period": "2026-11", "prefix": "AB", "start": "10000000", "end": "10000049"},
    )
    page = finance.get("/settings/invoicing").text
    link = "/settings/invoicing/blanks/AB.xml?period=2026-11"
    assert link in page and "E0402 (50)" in page
    xml = finance.get(link)
    assert xml.status_code == 200 and xml.headers["content-type"].startswith("application/xml")
    assert b"<InvoiceBeginNo>10000000</InvoiceBeginNo>" in xml.content
    assert b"<YearMonth>11512</YearMonth>" in xml.content
    assert finance.get("/settings/invoicing/blanks/AB.xml?period=2026-12").status_code == 422
