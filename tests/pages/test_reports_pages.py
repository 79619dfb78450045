"""The return-rate report: received units over shipped units, by reason, SKU and carrier;
requested units that never came back do not count."""

from __future__ import annotations

from dingdan.services import fulfilment, orders, payments, reports, returns
from tests.helpers import ADMIN
from tests.pages.conftest import order_body


def _ship(db, number, amount, carrier="hct", tracking="HCT20260001"):
    payments.record_payment(db, ADMIN, number, {"amount": amount})
    fulfilment.create_shipment(db, ADMIN, number, {"carrier": carrier, "tracking_number": tracking})


def _return(db, number, sku, n, reason, received):
    body = {"lines": [{"sku": sku, "quantity": n, "reason": reason}]}
    rid = returns.request_return(db, ADMIN, number, body)["id"]
    if received:
        returns.approve_return(db, ADMIN, rid)
        lines = [{"sku": sku, "quantity": n, "condition": "damaged"}]
        returns.receive_return(db, ADMIN, rid, {"location": "TPE", "lines": lines})


def _scene(db, shop):
    first = shop["order"]["number"]  # 2 × TEA-001
    _ship(db, first, "760.00")
    second, _ = orders.place_order(
        db,
        ADMIN,
        order_body(lines=[{"sku": "TEA-001", "quantity": 2}, {"sku": "MUG-001", "quantity": 2}]),
    )
    _ship(db, second["number"], second["total"], "tcat", "123456789012")
    _return(db, first, "TEA-001", 1, "defective", received=True)
    _return(db, second["number"], "MUG-001", 1, "changed_mind", received=True)
    _return(db, second["number"], "TEA-001", 2, "defective", received=False)


def test_the_return_rate_counts_received_units_by_reason_sku_and_carrier(shop, db):
    _scene(db, shop)
    data = reports.return_rates(db)
    assert (data["shipped"], data["returned"], data["rate"]) == (6, 2, "33.3")
    by = {
        k: {r["key"]: (r["returned"], r["shipped"], r["rate"]) for r in data[k]}
        for k in ("by_reason", "by_sku", "by_carrier")
    }
    assert by["by_reason"] == {"defective": (1, 6, "16.7"), "changed_mind": (1, 6, "16.7")}
    assert by["by_sku"] == {"TEA-001": (1, 4, "25.0"), "MUG-001": (1, 2, "50.0")}
    assert by["by_carrier"] == {"hct": (1, 2, "50.0"), "tcat": (1, 4, "25.0")}


def test_nothing_shipped_has_no_rate(shop, db):
    data = reports.return_rates(db)
    assert data["rate"] is None and data["by_reason"] == [] and data["by_carrier"] == []
    assert reports.rate(0, 0) is None and reports.rate(1, 3) == "33.3"


def test_every_role_reads_the_report_page_in_its_language(shop, browser, db):
    _scene(db, shop)
    for role in ("viewer", "warehouse", "finance"):
        html = browser(role).get("/reports/returns").text
        assert "33.3%" in html and "TEA-001" in html and "Defective" in html
    b = browser("viewer")
    b.post("/language", {"language": "zh_Hant", "next": "/"})
    html = b.get("/reports/returns").text
    assert "退貨率" in html and "黑貓宅急便" in html


def test_signed_out_visitors_cannot_read_the_report(shop, browser):
    r = browser().get("/reports/returns", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login")
