"""The Reports section (報表) in the back office: its menu entry, every report page in the
three languages with a chart drawn by plotly's own bundled JS served from this server (no
CDN), a table, CSV/XLSX downloads, presets, the previous period, the currency asked for when
two are in the range, and each KPI's definition one click away."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from dingdan.db.order_tables import Order
from dingdan.services.jobs import worker
from dingdan.services.orders import capture
from dingdan.services.reports.rollup_reads import today
from dingdan.web.pages.reports.report_pages import preset_range
from tests.builders import ADMIN, order_body

PAGES = ("sales", "top", "kpis", "heatmap", "carriers", "stockouts")
WORDS = {"en": "Reports", "zh_Hant": "報表", "zh_Hans": "报表"}
SCRIPT_SRC = re.compile(r'<script[^>]*\bsrc="([^"]+)"')


@pytest.fixture
def sold(shop, db):
    """The shop's order (placed now) rolled up, and a USD order placed 40 days ago."""
    line = {"sku": "TEA-001", "quantity": 1, "unit_price": "11.00"}
    body = order_body([line], currency="USD", shipping_price="6.00")
    number = capture.place_order(db, ADMIN, body)[0]["number"]
    stmt = (
        update(Order)
        .where(Order.number == number)
        .values(created_at=datetime.now(UTC) - timedelta(days=40))
    )
    db.write(lambda c: c.execute(stmt))
    worker.drain(db)
    return shop


@pytest.mark.parametrize("language", ["en", "zh_Hant", "zh_Hans"])
def test_every_report_page_renders_with_a_local_chart_in_each_language(sold, browser, language):
    b = browser("viewer")
    b.post("/language", {"language": language, "next": "/reports"})
    index = b.get("/reports").text
    assert '<a href="/reports"' in index and WORDS[language] in index
    for name in PAGES:
        r = b.get(f"/reports/{name}")
        assert r.status_code == 200, (name, r.text[:500])
        sources = SCRIPT_SRC.findall(r.text)
        assert "/static/vendor/plotly.min.js" in sources, name
        assert not [s for s in sources if s.startswith(("http:", "https:", "//"))]
        assert 'id="report-chart-data"' in r.text
        assert f"/reports/{name}/download.csv?" in r.text
        assert f"/reports/{name}/download.xlsx?" in r.text


def test_plotly_is_served_from_the_installed_package(sold, browser):
    r = browser("viewer").get("/static/vendor/plotly.min.js")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/javascript")
    assert b"plotly" in r.content[:2000].lower() and len(r.content) > 1_000_000
    assert browser("viewer").get("/static/reports.js").status_code == 200


def test_the_sales_page_shows_the_period_and_the_one_before(sold, browser):
    b = browser("manager")
    html = b.get("/reports/sales?range=30d").text
    assert "NT$760" in html  # the shop's order: 2 × 350.00 + 60.00
    assert "Compared with the 30 days before." in html
    week = b.get("/reports/sales?range=90d&group_by=week&currency=TWD").text
    assert "NT$760" in week and 'data-label="Week"' in week
    usd = b.get("/reports/sales?range=90d&currency=USD").text
    assert "17.00" in usd and "NT$760" not in usd  # 11.00 + 6.00 shipping
    two = b.get("/reports/sales?range=90d")
    assert two.status_code == 422 and "TWD, USD" in two.text


def test_the_top_page_sets_each_key_beside_the_period_before(sold, browser):
    html = browser("viewer").get("/reports/top?range=30d&dimension=products&metric=units").text
    assert "Previous period" in html and "凍頂烏龍茶" in html
    # The USD order 40 days ago is in the period before 30d, in another currency: no 422.
    assert browser("viewer").get("/reports/top?range=30d").status_code == 200


def test_kpi_definitions_are_one_click_away(sold, browser):
    html = browser("viewer").get("/reports/kpis").text
    assert html.count('<details class="definition">') >= 12
    assert "Cancelled orders divided by all orders placed." in html


def test_a_report_downloads_as_csv_and_xlsx(sold, browser):
    b = browser("viewer")
    r = b.get("/reports/top/download.csv?range=30d&dimension=products&metric=units")
    assert r.status_code == 200 and r.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert rows[0] == ["from", "to", "currency", "key", "label", "value"]
    assert rows[1][3:] == ["TEA-001", "凍頂烏龍茶", "2"]
    x = b.get("/reports/kpis/download.xlsx?range=today")
    assert x.status_code == 200 and x.content[:2] == b"PK"
    assert b.get("/reports/nothing/download.csv").status_code == 404


def test_presets_name_their_days():
    now = today()
    assert preset_range("today", now) == (now, now)
    assert preset_range("7d", now) == (now - timedelta(days=6), now)
    start, end = preset_range("last_month", now.replace(day=15))
    assert start.day == 1 and end == now.replace(day=1) - timedelta(days=1)
    assert preset_range("this_year", now) == (now.replace(month=1, day=1), now)
    assert preset_range("custom", now) is None


def test_signed_out_visitors_are_sent_to_sign_in(shop, browser):
    r = browser().get("/reports/sales", follow_redirects=False)
    assert r.status_code in (302, 303) and "/login" in r.headers["location"]
