"""The return-rate report: received units over shipped units, by reason, SKU and carrier;
requested units that never came back do not count; a date range picks the orders by the
day they were placed (Taipei time)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import update

from dingdan.db.order_tables import Order
from dingdan.domain.shared.errors import ValidationFailed
from dingdan.services.after_sales import returns
from dingdan.services.fulfilment import shipments
from dingdan.services.orders import capture
from dingdan.services.payments import transactions
from dingdan.services.reports import return_rates
from tests.builders import ADMIN, LIN, order_body


def _ship(db, number, amount, carrier="hct", tracking="HCT20260001"):
    transactions.record_payment(db, ADMIN, number, {"amount": amount})
    shipments.create_shipment(db, ADMIN, number, {"carrier": carrier, "tracking_number": tracking})


def _return(db, number, sku, n, reason, received):
    body = {"lines": [{"sku": sku, "quantity": n, "reason": reason}]}
    rid = returns.request_return(db, ADMIN, number, body)["id"]
    if received:
        returns.approve_return(db, ADMIN, rid)
        lines = [{"sku": sku, "quantity": n, "condition": "damaged"}]
        returns.receive_return(db, ADMIN, rid, {"location": "TPE", "lines": lines})


def _placed(db, number, when):
    stmt = update(Order).where(Order.number == number).values(created_at=when)
    db.write(lambda c: c.execute(stmt))


def _scene(db, shop):
    first = shop["order"]["number"]  # 2 × TEA-001
    _ship(db, first, "760.00")
    second, _ = capture.place_order(
        db,
        ADMIN,
        order_body(
            buyer=LIN, lines=[{"sku": "TEA-001", "quantity": 2}, {"sku": "MUG-001", "quantity": 2}]
        ),
    )
    _ship(db, second["number"], second["total"], "tcat", "123456789012")
    _return(db, first, "TEA-001", 1, "defective", received=True)
    _return(db, second["number"], "MUG-001", 1, "changed_mind", received=True)
    _return(db, second["number"], "TEA-001", 2, "defective", received=False)
    # The first on 10 January; the second at 01:00 on 1 February in Taipei (still 31
    # January in UTC).
    _placed(db, first, datetime(2026, 1, 10, 3, 0, tzinfo=UTC))
    _placed(db, second["number"], datetime(2026, 1, 31, 17, 0, tzinfo=UTC))
    return first, second["number"]


def test_the_return_rate_counts_received_units_by_reason_sku_and_carrier(shop, db):
    _scene(db, shop)
    data = return_rates.return_rates(db)
    assert (data["shipped"], data["returned"], data["rate"]) == (6, 2, "33.3")
    by = {
        k: {r["key"]: (r["returned"], r["shipped"], r["rate"]) for r in data[k]}
        for k in ("by_reason", "by_sku", "by_carrier")
    }
    assert by["by_reason"] == {"defective": (1, 6, "16.7"), "changed_mind": (1, 6, "16.7")}
    assert by["by_sku"] == {"TEA-001": (1, 4, "25.0"), "MUG-001": (1, 2, "50.0")}
    assert by["by_carrier"] == {"hct": (1, 2, "50.0"), "tcat": (1, 4, "25.0")}


def test_nothing_shipped_has_no_rate(shop, db):
    data = return_rates.return_rates(db)
    assert data["rate"] is None and data["by_reason"] == [] and data["by_carrier"] == []
    assert return_rates.rate(0, 0) is None and return_rates.rate(1, 3) == "33.3"


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


def test_a_date_range_counts_the_orders_placed_in_it(shop, db):
    _scene(db, shop)
    feb = return_rates.return_rates(db, date(2026, 2, 1), None)
    assert (feb["shipped"], feb["returned"], feb["rate"]) == (4, 1, "25.0")
    assert feb["from"] == "2026-02-01" and feb["to"] is None
    assert {r["key"]: r["returned"] for r in feb["by_reason"]} == {"changed_mind": 1}
    assert {r["key"]: (r["returned"], r["shipped"]) for r in feb["by_carrier"]} == {"tcat": (1, 4)}
    jan = return_rates.return_rates(db, None, date(2026, 1, 31))
    assert (jan["shipped"], jan["returned"], jan["rate"]) == (2, 1, "50.0")
    assert {r["key"]: (r["returned"], r["shipped"]) for r in jan["by_sku"]} == {"TEA-001": (1, 2)}
    one_day = return_rates.return_rates(db, date(2026, 1, 10), date(2026, 1, 10))
    assert one_day["shipped"] == 2
    assert return_rates.return_rates(db, date(2025, 1, 1), date(2025, 12, 31))["shipped"] == 0
    wide = return_rates.return_rates(db, date.min, date.max)
    assert (wide["shipped"], wide["returned"]) == (6, 2)
    with pytest.raises(ValidationFailed) as err:
        return_rates.return_rates(db, date(2026, 2, 1), date(2026, 1, 1))
    assert err.value.errors[0].field == "to"


def test_the_report_page_filters_by_the_range_and_says_what_it_counts(shop, browser, db):
    _scene(db, shop)
    b = browser("viewer")
    html = b.get("/reports/returns?from=2026-02-01&to=2026-02-28").text
    assert "25.0%" in html and "33.3%" not in html and 'value="2026-02-01"' in html
    assert "by the day they were placed" in html
    assert "50.0%" in b.get("/reports/returns?to=2026-01-31").text
    assert "33.3%" in b.get("/reports/returns?from=&to=").text


@pytest.mark.parametrize(
    ("query", "shown"),
    [
        ("from=2026-13-01", "must be a date such as 2026-12-31"),
        ("to=yesterday", "must be a date such as 2026-12-31"),
        ("from=2026-02-01&to=2026-01-01", "must not be before the start date"),
    ],
)
def test_a_bad_range_is_a_message_and_the_whole_report(shop, browser, db, query, shown):
    _scene(db, shop)
    r = browser("viewer").get(f"/reports/returns?{query}")
    assert r.status_code == 422 and shown in r.text and "33.3%" in r.text


def test_a_sellers_own_carrier_is_named_as_in_the_settings(shop, db, browser):
    from dingdan.services.fulfilment import carriers

    carriers.create_carrier(db, ADMIN, {"code": "mylocal", "name": "巷口快遞"})
    number = shop["order"]["number"]
    _ship(db, number, "760.00", "mylocal", "ML-0001")
    _return(db, number, "TEA-001", 1, "defective", received=True)
    html = browser("manager").get("/reports/returns").text
    assert "巷口快遞" in html
