"""The back office masks customers' emails and phones for warehouse and viewer, and shows
them in full for one page once a reason is given, in the audit trail (issue 26, part 3)."""

from __future__ import annotations

import pytest

from dingdan.services.access import audit_log

EMAIL, PHONE_DIGITS = "lin@example.com", "912345678"
MASKED_EMAIL = "l***@example.com"


@pytest.mark.parametrize(
    ("role", "masked"),
    [("admin", False), ("customer_service", False), ("warehouse", True), ("viewer", True)],
)
def test_order_page_list_and_customer_pages_mask_by_role(shop, browser, role, masked):
    number = shop["order"]["number"]
    b = browser(role)
    order_page = b.get(f"/orders/{number}").text
    listed = b.get("/orders", params={"q": EMAIL}).text  # found by the full value
    customers = b.get("/customers").text
    customer_id = shop["order"]["customer"]["id"]
    customer_page = b.get(f"/customers/{customer_id}").text
    assert number in listed
    for html in (order_page, customers, customer_page):
        assert (EMAIL in html) is not masked, html
        assert (MASKED_EMAIL in html) is masked
    assert ('id="reveal-form"' in order_page) is masked
    if role == "viewer":  # the viewer sees no phone in full, the address's neither
        assert "912 345 678" not in order_page and "912345678" not in order_page


def test_a_masked_role_reveals_with_a_reason_logged(shop, browser, db):
    number = shop["order"]["number"]
    b = browser("warehouse")
    refused = b.post(f"/orders/{number}/reveal", {"reason": "  "})
    assert refused.status_code == 422
    assert EMAIL not in refused.text and 'aria-invalid="true"' in refused.text
    shown = b.post(f"/orders/{number}/reveal", {"reason": "courier needs to call"})
    assert shown.status_code == 200 and EMAIL in shown.text
    assert 'id="reveal-form"' not in shown.text
    # Only that page: the next one is masked again.
    assert EMAIL not in b.get(f"/orders/{number}").text
    [entry] = audit_log.list_entries(db, action="reveal").items
    assert (entry["entity_type"], entry["entity_id"]) == ("order", number)
    assert entry["after"] == {"reason": "courier needs to call"}
    assert "warehouse@example.com" in entry["actor"]
    assert b.post("/orders/DD999999/reveal", {"reason": "x"}).status_code == 404
