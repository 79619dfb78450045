"""Editing an open order in the back office: quantities, a line added by SKU or removed, the
shipping price and address; stock is re-reserved at once and shown; a refused edit (not
enough stock, a bad postal code, an order that has shipped or closed) changes nothing and
comes back with what was typed."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

import pytest

from dingdan.services.fulfilment import shipments
from dingdan.services.inventory import stock
from dingdan.services.orders import queries
from dingdan.services.payments import transactions
from tests.builders import ADMIN


class _FormReader(HTMLParser):
    """The fields a browser would send for the form ``form_id`` (checked boxes only)."""

    def __init__(self, form_id: str) -> None:
        super().__init__()
        self.form_id, self.inside, self.fields = form_id, False, {}
        self.select: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "form" and a.get("id") == self.form_id:
            self.inside = True
        if not self.inside or "disabled" in a:
            return
        if tag == "input" and a.get("name"):
            if a.get("type") == "checkbox" and "checked" not in a:
                return
            self.fields[a["name"]] = a.get("value") or ""
        elif tag == "select":
            self.select = a.get("name")
        elif tag == "option" and self.select and "selected" in a:
            self.fields[self.select] = a.get("value") or ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.inside = False
        elif tag == "select":
            self.select = None


def form_fields(html: str, form_id: str = "edit-form") -> dict[str, str]:
    reader = _FormReader(form_id)
    reader.feed(html)
    assert reader.fields, f"no form {form_id}"
    return reader.fields


def edit(b: Any, number: str, **changes: str) -> Any:
    """Load the edit form, change some fields as a person would, and send it."""
    fields = form_fields(b.get(f"/orders/{number}/edit").text)
    fields.update(
        {
            k.replace("_", "-", 1) if k.startswith(("add_", "addr_")) else k: v
            for k, v in changes.items()
        }
    )
    return b.post(f"/orders/{number}/edit", fields)


def reserved(db: Any, sku: str) -> int:
    return sum(x["reserved"] for x in stock.stock_of(db, sku)["locations"])


def lines_of(db: Any, number: str) -> dict[str, int]:
    return {
        ln["sku"]: ln["quantity"] - ln["cancelled"] for ln in queries.get_order(db, number)["lines"]
    }


@pytest.fixture
def number(shop: dict[str, Any]) -> str:
    return str(shop["order"]["number"])


def test_the_order_page_offers_edit_and_packing_slip_only_to_roles_that_may(number, browser):
    for role, edit_link, slip in [
        ("customer_service", True, False),
        ("manager", True, True),
        ("warehouse", False, True),
        ("finance", False, False),
        ("viewer", False, False),
    ]:
        html = browser(role).get(f"/orders/{number}").text
        assert (f'href="/orders/{number}/edit"' in html) is edit_link, role
        assert (f'href="/orders/{number}/packing-slip"' in html) is slip, role
    assert browser("viewer").get(f"/orders/{number}/edit").status_code == 403
    page = browser("customer_service").get(f"/orders/{number}/edit")
    assert page.status_code == 200 and 'name="csrf_token"' in page.text
    assert 'value="信義路五段7號"' in page.text and 'name="qty-0"' in page.text


def test_raising_a_quantity_reserves_more_stock_and_shows_where(number, browser, db):
    cs = browser("customer_service")
    r = edit(cs, number, **{"qty-0": "5"})
    assert r.status_code == 303 and r.headers["location"] == f"/orders/{number}/edit"
    assert lines_of(db, number) == {"TEA-001": 5} and reserved(db, "TEA-001") == 5
    order = queries.get_order(db, number)
    assert order["total"] == "1810.00"  # 5 × 350 + 60 shipping
    shown = cs.get(r.headers["location"]).text
    assert 'id="edit-result"' in shown and "2 → 5" in shown and "TPE 5" in shown
    assert "saved" in shown and "1,810" in shown
    assert 'id="edit-result"' not in cs.get(f"/orders/{number}/edit").text  # shown once


def test_a_line_is_added_by_sku_and_another_removed_in_one_save(number, browser, db):
    cs = browser("customer_service")
    r = edit(cs, number, **{"add_sku-0": "MUG-001", "add_qty-0": "2", "remove-0": "1"})
    assert r.status_code == 303, r.text
    assert lines_of(db, number) == {"MUG-001": 2}
    assert reserved(db, "TEA-001") == 0 and reserved(db, "MUG-001") == 2
    assert queries.get_order(db, number)["total"] == "1420.00"
    shown = cs.get(r.headers["location"]).text
    assert "(removed)" in shown and "0 → 2" in shown


def test_not_enough_stock_refuses_the_whole_edit_and_keeps_what_was_typed(number, browser, db):
    cs = browser("customer_service")
    before = queries.get_order(db, number)
    r = edit(cs, number, **{"qty-0": "3", "add_sku-0": "MUG-001", "add_qty-0": "9"})
    assert r.status_code == 409
    assert "There is not enough stock for this." in r.text
    # Beside the added line's quantity, the row it was typed in.
    assert re.search(r'id="add-qty-0-error"[^>]*>[^<]*4 short of stock', r.text)
    assert 'name="add-sku-0" maxlength="64" autocomplete="off" value="MUG-001"' in r.text
    assert 'value="9"' in r.text and 'name="qty-0" type="number" min="0" max="1000000"' in r.text
    assert queries.get_order(db, number) == before
    assert reserved(db, "TEA-001") == 2 and reserved(db, "MUG-001") == 0


def test_an_invalid_postal_code_is_shown_and_nothing_changes(number, browser, db):
    cs = browser("customer_service")
    before = queries.get_order(db, number)
    r = edit(cs, number, **{"qty-0": "4", "addr_postal_code": "12", "addr_city": "新北市"})
    assert r.status_code == 422
    assert re.search(
        r'id="addr-postal_code-error"[^>]*>must be a Taiwan postal code of 3, 5 or 6 digits',
        r.text,
    )
    assert 'value="12"' in r.text and 'value="新北市"' in r.text
    assert queries.get_order(db, number) == before and reserved(db, "TEA-001") == 2


def test_a_new_address_and_shipping_price_are_saved_normalised(number, browser, db):
    cs = browser("customer_service")
    changes = {
        "addr_postal_code": "２２０-０１",
        "addr_city": "新北市",
        "addr_line1": "文化路一段1號",
        "addr_phone": "0912 345 678",
        "shipping_price": "0",
    }
    assert edit(cs, number, **changes).status_code == 303
    order = queries.get_order(db, number)
    address = order["shipping_address"]
    assert (address["postal_code"], address["city"], address["phone"]) == (
        "22001",
        "新北市",
        "+886912345678",
    )
    assert order["shipping_total"] == "0.00" and order["total"] == "700.00"
    assert lines_of(db, number) == {"TEA-001": 2}


@pytest.mark.parametrize(
    ("changes", "status", "shown"),
    [
        ({"qty-0": "abc"}, 422, "must be a whole number"),
        ({"add_sku-0": "NOPE-1"}, 422, "no product with SKU &#39;NOPE-1&#39;"),
        ({"add_sku-0": "TEA-001"}, 422, "is already on the order"),
        ({"price-0": "12.345"}, 422, "TWD allows at most 2 decimal places"),
        ({"remove-0": "1"}, 422, "an order needs at least one line"),
        ({"addr_phone": "12"}, 422, 'id="addr-phone-error" role="alert">is not a valid phone'),
        ({}, 422, "Nothing was changed."),
    ],
)
def test_bad_input_is_shown_translated_and_nothing_changes(
    number, browser, db, changes, status, shown
):
    before = queries.get_order(db, number)
    r = edit(browser("customer_service"), number, **changes)
    assert r.status_code == status and shown in r.text, r.text[-3000:]
    assert queries.get_order(db, number) == before


def test_a_quantity_below_what_has_shipped_is_refused(number, browser, db):
    transactions.record_payment(db, ADMIN, number, {"amount": "760.00"})
    shipments.create_shipment(db, ADMIN, number, {"carrier": "hct", "tracking_number": "HCT1"})
    cs = browser("customer_service")
    html = cs.get(f"/orders/{number}/edit").text
    assert 'name="remove-0"' not in html  # a shipped line cannot be removed
    r = edit(cs, number, **{"qty-0": "1"})
    assert r.status_code == 422 and "cannot be less than what has shipped (2)" in r.text
    assert lines_of(db, number) == {"TEA-001": 2}


def test_a_cancelled_order_cannot_be_edited_and_offers_no_edit(number, browser, db):
    shipments.cancel_order(db, ADMIN, number, "customer asked")
    cs = browser("customer_service")
    assert f'href="/orders/{number}/edit"' not in cs.get(f"/orders/{number}").text
    page = cs.get(f"/orders/{number}/edit").text
    assert 'id="not-editable"' in page and 'id="edit-form"' not in page
    forged = cs.post(f"/orders/{number}/edit", {"sku-0": "TEA-001", "qty-0": "3"})
    assert forged.status_code == 409 and "can no longer be edited: it is cancelled" in forged.text
    assert lines_of(db, number) == {"TEA-001": 0}


def test_a_forged_edit_from_a_role_that_may_not_is_refused_with_403(number, browser, db):
    fields = form_fields(browser("manager").get(f"/orders/{number}/edit").text)
    for role in ("warehouse", "finance", "viewer"):
        b = browser(role)
        r = b.post(f"/orders/{number}/edit", {**fields, "qty-0": "7", "csrf_token": b.csrf})
        assert r.status_code == 403, role
    cs = browser("customer_service")
    no_csrf = cs.client.post(f"/orders/{number}/edit", data={**fields, "csrf_token": "x" * 40})
    assert no_csrf.status_code == 403
    assert lines_of(db, number) == {"TEA-001": 2} and reserved(db, "TEA-001") == 2


def test_the_invoice_choice_is_edited_as_at_entry_until_the_invoice_is_issued(number, browser, db):
    from dingdan.db.types import utcnow
    from dingdan.domain.invoicing import rules
    from dingdan.services.invoicing import settings as invoicing_settings
    from dingdan.services.jobs import worker
    from dingdan.services.orders import invoice_choice

    cs = browser("customer_service")
    page = cs.get(f"/orders/{number}/edit").text
    assert form_fields(page)["inv-kind"] == "printed"
    before = queries.get_order(db, number)
    bad = {"qty-0": "4", "inv-kind": "b2b", "inv-ubn": "04595258", "inv-buyer": "甲公司"}
    r = edit(cs, number, **bad)
    assert r.status_code == 422
    assert re.search(r'id="inv-ubn-error"[^>]*>', r.text)
    assert 'value="04595258"' in r.text and 'value="甲公司"' in r.text
    assert queries.get_order(db, number) == before  # nothing changed, the quantity neither
    r = edit(cs, number, **{"inv-kind": "b2b", "inv-ubn": "04595257", "inv-buyer": "甲公司"})
    assert r.status_code == 303, r.text
    assert invoice_choice.for_order(db, number)["request"] == {
        "type": "b2b",
        "buyer_ubn": "04595257",
        "buyer_name": "甲公司",
    }
    assert form_fields(cs.get(f"/orders/{number}/edit").text)["inv-ubn"] == "04595257"
    # Once the invoice is issued the choice is no longer on the form.
    invoicing_settings.put(
        db, ADMIN, {"seller_name": "茶行", "seller_ubn": "04595257", "einvoice": True}
    )
    track = {
        "period": rules.period_of(utcnow()),
        "prefix": "AB",
        "start": "10000000",
        "end": "10000049",
    }
    invoicing_settings.add_track(db, ADMIN, track)
    order = queries.get_order(db, number)
    transactions.record_payment(db, ADMIN, number, {"amount": order["total"]})
    worker.drain(db)
    page = cs.get(f"/orders/{number}/edit").text
    assert 'id="invoice-issued"' in page and "inv-ubn" not in form_fields(page)
