"""Exports of the lists (shared/CONTRACT.md, "Order import and export"): every kind as CSV
(UTF-8 with a BOM) and XLSX with its header and rows, the list's filters, formula cells
neutralised, sheets continued, roles, refusals, and a product export that imports back to
the same catalogue."""

from __future__ import annotations

import csv
import io
import tracemalloc
from datetime import datetime, timedelta
from typing import Any

import openpyxl
import pytest
from sqlalchemy import func, select, update

from dingdan.db.order_tables import Order
from dingdan.db.tables import AuditEntry
from dingdan.services.catalog import imports
from dingdan.services.catalog import products as catalog
from dingdan.services.reports import export_files, exports
from dingdan.services.shared.common import SYSTEM
from tests.builders import ADMIN, LIN, WANG, Shop, lines, order_body, post_order

SHOP = Shop(
    products={
        "TEA-001": {"price": "350.00", "name": "凍頂烏龍茶", "barcode": "4710000000017"},
        "EQ-001": {"price": "10.00", "name": "=1+2", "category": "公式"},
        "PLUS-01": {"price": "1320.50", "name": "+SUM(A1)", "brand": "@cmd"},
        "MINUS-1": {"price": "5.00", "name": "-5 折扣", "active": False},
        "QUOTE-1": {"price": "7.00", "name": "'Tis 茶"},
    },
    locations={"TPE": 0, "KHH": 1},
    stock={"TPE": {"TEA-001": 10, "EQ-001": 3}, "KHH": {"TEA-001": 2}},
)
stocked = SHOP.fixture()


def get(api: Any, kind: str, fmt: str = "csv", role: str = "admin", **params: Any) -> Any:
    r = api.get(f"/api/v1/exports/{kind}", params={"format": fmt, **params}, role=role)
    assert r.status_code == 200, r.text
    return r


def csv_rows(r: Any) -> list[list[str]]:
    assert r.headers["content-type"].startswith("text/csv")
    assert r.content.startswith(b"\xef\xbb\xbf"), "a BOM first, for Excel"
    return list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"), newline="")))


def xlsx_sheets(data: bytes) -> list[Any]:
    return openpyxl.load_workbook(io.BytesIO(data)).worksheets


def xlsx_rows(r: Any) -> list[list[Any]]:
    assert r.headers["content-type"] == export_files.XLSX_TYPE
    (sheet,) = xlsx_sheets(r.content)
    return [[c.value for c in row] for row in sheet.iter_rows()]


@pytest.fixture
def orders(stocked: Any, api: Any) -> list[dict[str, Any]]:
    first = post_order(api, order_body(lines(("TEA-001", 2), ("EQ-001", 1))))
    second = post_order(api, order_body(lines(("TEA-001", 1)), buyer=LIN, channel="marketplace"))
    return [first, second]


def test_orders_export_has_one_row_per_order_newest_first_with_chinese_and_money(
    orders: Any, api: Any
) -> None:
    r = get(api, "orders")
    assert 'filename="orders-' in r.headers["content-disposition"]
    assert r.headers["content-disposition"].endswith('.csv"')
    header, *rows = csv_rows(r)
    assert tuple(header) == exports.ORDER_HEADER
    got = [dict(zip(header, row, strict=True)) for row in rows]
    assert [o["number"] for o in got] == [orders[1]["number"], orders[0]["number"]]
    assert got[1]["customer_name"] == WANG.name == "王小明"
    assert got[1]["city"] == "台北市"
    assert got[1]["total"] == orders[0]["total"]
    assert got[1]["items"] == "3"
    assert got[1]["customer_email"] == WANG.email
    assert got[1]["customer_phone"] == "'+886912345678", "a leading + is neutralised"
    assert got[1]["created_at"].endswith("+08:00"), "times in the seller's time zone"


def test_order_lines_export_has_a_row_per_line_in_csv_and_xlsx(orders: Any, api: Any) -> None:
    header, *rows = csv_rows(get(api, "order-lines"))
    assert tuple(header) == exports.LINE_HEADER
    first = orders[0]["number"]
    mine = [dict(zip(header, row, strict=True)) for row in rows if row[0] == first]
    assert [(ln["sku"], ln["name"], ln["quantity"]) for ln in mine] == [
        ("TEA-001", "凍頂烏龍茶", "2"),
        ("EQ-001", "'=1+2", "1"),
    ]
    table = xlsx_rows(get(api, "order-lines", "xlsx"))
    assert tuple(table[0]) == exports.LINE_HEADER
    assert len(table) == 1 + 3
    assert table[-1][LINE_HEADER_INDEX["name"]] == "'=1+2"
    assert table[-1][LINE_HEADER_INDEX["quantity"]] == 1, "whole numbers stay numbers"


LINE_HEADER_INDEX = {name: i for i, name in enumerate(exports.LINE_HEADER)}


def test_orders_export_applies_the_lists_filters_and_the_days(orders: Any, api: Any) -> None:
    _, *rows = csv_rows(get(api, "orders", channel="marketplace"))
    assert [r[0] for r in rows] == [orders[1]["number"]]
    _, *rows = csv_rows(get(api, "orders", q="lin@example.com"))
    assert [r[0] for r in rows] == [orders[1]["number"]]
    # The first order placed ten days ago: ``from``/``to`` are days, ``to`` included.
    earlier = datetime.now().astimezone() - timedelta(days=10)
    api.db.write(
        lambda c: c.execute(
            update(Order).where(Order.number == orders[0]["number"]).values(created_at=earlier)
        )
    )
    day = earlier.astimezone(exports.BUSINESS_TZ).date()
    _, *rows = csv_rows(get(api, "orders", **{"from": str(day), "to": str(day)}))
    assert [r[0] for r in rows] == [orders[0]["number"]]
    after = str(day + timedelta(days=1))
    _, *rows = csv_rows(get(api, "order-lines", **{"from": after}))
    assert {r[0] for r in rows} == {orders[1]["number"]}


def test_bad_kind_format_or_filter_is_a_problem_not_a_broken_file(stocked: Any, api: Any) -> None:
    r = api.get("/api/v1/exports/returns-of-nothing")
    assert r.status_code == 404
    assert r.headers["content-type"] == "application/problem+json"
    r = api.get("/api/v1/exports/orders?format=pdf")
    assert r.status_code == 422
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["errors"][0]["field"] == "format"
    for params, name in [
        ({"from": "2026-13-01"}, "from"),
        ({"from": "2026-12-02", "to": "2026-12-01"}, "to"),
        ({"status": "lost"}, "status"),
        ({"refund_due": "perhaps"}, "refund_due"),
        ({"channel": "web\x00"}, "channel"),
        ({"q": "a" * 201}, "q"),
    ]:
        r = api.get("/api/v1/exports/orders", params=params)
        assert r.status_code == 422, (params, r.text)
        assert r.json()["errors"][0]["field"] == name
    r = api.client.get("/api/v1/exports/orders")
    assert r.status_code == 401


def test_customers_export_is_refused_to_masked_roles_and_audited(orders: Any, api: Any) -> None:
    for role in ("warehouse", "viewer"):
        r = api.get("/api/v1/exports/customers", role=role)
        assert r.status_code == 403, role
        assert r.headers["content-type"] == "application/problem+json"
    header, *rows = csv_rows(get(api, "customers", role="customer_service"))
    assert tuple(header) == exports.CUSTOMER_HEADER
    got = {row[1]: dict(zip(header, row, strict=True)) for row in rows}
    assert set(got) == {"王小明", "林美華"}
    assert got["林美華"]["email"] == "lin@example.com"
    assert got["林美華"]["orders"] == "1"
    assert got["林美華"]["lifetime_value"].startswith("TWD ")
    viewed = select(AuditEntry.entity_id).where(
        AuditEntry.action == "view", AuditEntry.entity_type == "customer"
    )
    ids = api.db.read(lambda c: sorted(c.execute(viewed).scalars()))
    assert ids == sorted(row["id"] for row in got.values()), "one audited view per customer"


def test_orders_export_masks_emails_and_phones_for_warehouse(orders: Any, api: Any) -> None:
    header, *rows = csv_rows(get(api, "orders", role="warehouse"))
    row = dict(zip(header, rows[-1], strict=True))
    assert row["customer_email"] == "a***@example.com"
    assert row["customer_phone"] == "'+886******678"
    assert row["customer_name"] == "王小明"


def test_products_export_writes_formula_cells_as_text_in_csv_and_xlsx(
    stocked: Any, api: Any
) -> None:
    header, *rows = csv_rows(get(api, "products"))
    assert tuple(header) == imports.PRODUCT_COLUMNS
    names = {row[0]: row[1] for row in rows}
    assert names == {
        "EQ-001": "'=1+2",
        "MINUS-1": "'-5 折扣",
        "PLUS-01": "'+SUM(A1)",
        "QUOTE-1": "''Tis 茶",
        "TEA-001": "凍頂烏龍茶",
    }
    r = get(api, "products", "xlsx", active="true")
    assert r.headers["content-disposition"].endswith('.xlsx"')
    (sheet,) = xlsx_sheets(r.content)
    cells = {row[0].value: row for row in sheet.iter_rows(min_row=2)}
    assert "MINUS-1" not in cells, "the list's filter: active only"
    plus = cells["PLUS-01"]
    assert [c.value for c in plus[1:3]] == ["'+SUM(A1)", "1320.50"]
    assert plus[imports.PRODUCT_COLUMNS.index("brand")].value == "'@cmd"
    texts = [c for row in sheet.iter_rows() for c in row if isinstance(c.value, str)]
    assert texts and all(c.data_type == "s" for c in texts), "text cells, never formulas"


def test_every_formula_start_is_neutralised_by_the_writers() -> None:
    risky = ["=1+2", " =1+2", "+1", "-1", "@SUM(A1)", "\tTab", "\rCR", "＝1+2"]
    safe = ["plain", "1+2", "a=b", "", None, 42]
    header = ["value"]
    text = b"".join(export_files.csv_chunks(header, [[v] for v in risky + safe])).decode()
    got = list(csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline="")))
    assert [r[0] for r in got[1 : len(risky) + 1]] == ["'" + v for v in risky]
    assert [r[0] for r in got[len(risky) + 1 :]] == ["plain", "1+2", "a=b", "", "", "42"]
    data = b"".join(export_files.xlsx_chunks(header, [[v] for v in risky], "t"))
    (sheet,) = xlsx_sheets(data)
    cells = [row[0] for row in sheet.iter_rows(min_row=2)]
    # (XML reads a carriage return in text as a line feed: the apostrophe is what counts)
    assert [c.value.replace("\n", "\r") for c in cells] == ["'" + v for v in risky]
    assert {c.data_type for c in cells} == {"s"}


def test_a_long_xlsx_export_continues_on_further_sheets(
    stocked: Any, api: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(export_files, "ROWS_PER_SHEET", 3)  # the header and two rows
    monkeypatch.setattr(exports, "BATCH", 2)  # and pages of two: five products, three reads
    sheets = xlsx_sheets(get(api, "products", "xlsx").content)
    assert [s.title for s in sheets] == ["products", "products 2", "products 3"]
    for s in sheets:
        assert [c.value for c in next(s.iter_rows())] == list(imports.PRODUCT_COLUMNS)
    skus = [row[0].value for s in sheets for row in s.iter_rows(min_row=2)]
    assert skus == ["EQ-001", "MINUS-1", "PLUS-01", "QUOTE-1", "TEA-001"]
    _, *rows = csv_rows(get(api, "products"))
    assert [r[0] for r in rows] == skus, "the same rows, read two at a time"


def test_inventory_and_movements_exports(stocked: Any, api: Any) -> None:
    header, *rows = csv_rows(get(api, "inventory"))
    assert tuple(header) == exports.INVENTORY_HEADER
    levels = {(r[0], r[3]): r[4:7] for r in rows}
    assert levels[("TEA-001", "TPE")] == ["10", "0", "10"]
    assert levels[("TEA-001", "KHH")] == ["2", "0", "2"]
    assert levels[("PLUS-01", "")] == ["0", "0", "0"]
    _, *rows = csv_rows(get(api, "inventory", location="KHH", q="TEA"))
    assert [(r[0], r[3]) for r in rows] == [("TEA-001", "KHH")]
    table = xlsx_rows(get(api, "movements", "xlsx"))
    assert tuple(table[0]) == exports.MOVEMENT_HEADER
    moved = {(r[2], r[3], r[5]) for r in table[1:]}
    assert moved == {("TEA-001", "TPE", 10), ("EQ-001", "TPE", 3), ("TEA-001", "KHH", 2)}
    _, *rows = csv_rows(get(api, "movements", sku="TEA-001", location="KHH"))
    assert [(r[2], r[3], r[4]) for r in rows] == [("TEA-001", "KHH", "receipt")]
    today = datetime.now(exports.BUSINESS_TZ).date()
    _, *rows = csv_rows(get(api, "movements", **{"to": str(today - timedelta(days=1))}))
    assert rows == []


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_product_export_imports_back_to_the_same_catalogue(
    stocked: Any, api: Any, tmp_path: Any, fmt: str
) -> None:
    def catalogue() -> list[dict[str, Any]]:
        items = catalog.list_products(api.db, limit=200).items
        return [{k: v for k, v in p.items() if k not in ("updated_at",)} for p in items]

    before = catalogue()
    path = tmp_path / f"products.{fmt}"
    path.write_bytes(get(api, "products", fmt).content)
    for sku, name in [("EQ-001", "changed"), ("QUOTE-1", "Tis"), ("TEA-001", "烏龍")]:
        catalog.update_product(api.db, ADMIN, sku, {"name": name, "price": "1.00"})
    result = imports.import_products(api.db, ADMIN, imports.read_rows(path))
    assert not result.errors and result.updated == len(before)
    assert catalogue() == before


def test_export_of_nothing_is_the_header_alone(db: Any, api: Any) -> None:
    _, *rows = csv_rows(get(api, "orders"))
    assert rows == []
    assert xlsx_rows(get(api, "movements", "xlsx")) == [list(exports.MOVEMENT_HEADER)]
    count = select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "view")
    assert db.read(lambda c: c.execute(count).scalar()) == 0


# ---- memory ----------------------------------------------------------------------------------


def _peak_bytes(db: Any, fmt: str, **params: str) -> tuple[int, int]:
    """tracemalloc's peak while exporting the orders, and the file's size."""
    tracemalloc.start()
    try:
        size = sum(len(c) for c in exports.start(db, SYSTEM, "orders", fmt, params).chunks)
        return tracemalloc.get_traced_memory()[1], size
    finally:
        tracemalloc.stop()


def test_an_export_reads_in_pages_in_constant_memory(
    db: Any, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Orders inserted in bulk (bench/generate.py with a small catalogue, spread over 2024
    and 2025), exported in pages of 25: the peak of all of them is that of the first
    half year's (a quarter as many). The 100,000-order measurement (a
    few minutes) is bench/export_memory.py, its results in docs/benchmarks.md."""
    from bench import generate as gen

    monkeypatch.setattr(gen, "CUSTOMERS", 100)
    monkeypatch.setattr(gen, "SKUS", 20)
    monkeypatch.setattr(exports, "BATCH", 25)
    monkeypatch.setattr(export_files, "CHUNK_BYTES", 16 * 1024)
    gen.generate(db_url, 800, migrate=False)
    first_half = {"from": "2024-01-01", "to": "2024-06-30"}
    # What is made once (statements, caches) made first, on the orders of one day.
    _peak_bytes(db, "csv", **{"from": "2024-01-02", "to": "2024-01-02"})
    peak_few, size_few = _peak_bytes(db, "csv", **first_half)
    peak_all, size_all = _peak_bytes(db, "csv")
    assert size_all > 3 * size_few > 0
    assert peak_all < 1.5 * peak_few + 256 * 1024, (peak_all, peak_few)


def test_the_export_command_writes_the_file_and_products_import_reads_it_back(
    stocked: Any, db_url: str, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from dingdan.cli.main import app
    from dingdan.config import get_settings

    monkeypatch.setenv("DINGDAN_DATABASE_URL", db_url)
    get_settings.cache_clear()
    try:
        runner = CliRunner()
        (tmp_path / "out").mkdir()
        target = tmp_path / "out" / "catalogue.xlsx"
        args = ["export", "products", "--format", "xlsx", "--filter", "active=true", "-o"]
        result = runner.invoke(app, [*args, str(target)])
        assert result.exit_code == 0, result.output
        (sheet,) = xlsx_sheets(target.read_bytes())
        assert sheet.max_row == 1 + 4, "the inactive product filtered out"
        result = runner.invoke(app, ["products", "import", str(target)])
        assert result.exit_code == 0, result.output
        bad = runner.invoke(app, ["export", "orders", "--from", "someday", "-o", str(target)])
        assert bad.exit_code == 1 and "from" in bad.output
        assert [p.name for p in target.parent.iterdir()] == [target.name], "no partial file"
    finally:
        get_settings.cache_clear()


def test_returns_export_has_a_row_per_return_line_with_the_lists_status_filter(
    stocked: Any, api: Any
) -> None:
    from tests.builders import shipped_order

    n = shipped_order(api, lines(("TEA-001", 2), ("EQ-001", 1)))
    body = {"lines": [{"sku": "TEA-001", "quantity": 1, "reason": "defective"},
                      {"sku": "EQ-001", "quantity": 1, "reason": "damaged"}],
            "note": "=HYPERLINK(\"x\")"}  # fmt: skip
    r = api.post(f"/api/v1/orders/{n}/returns", json=body, role="customer_service")
    assert r.status_code == 201, r.text
    header, *rows = csv_rows(get(api, "returns"))
    assert tuple(header) == exports.RETURN_HEADER
    got = [dict(zip(header, row, strict=True)) for row in rows]
    assert [(g["order"], g["sku"], g["reason"], g["status"]) for g in got] == [
        (n, "TEA-001", "defective", "requested"),
        (n, "EQ-001", "damaged", "requested"),
    ]
    assert got[0]["note"] == '\'=HYPERLINK("x")'
    _, *rows = csv_rows(get(api, "returns", status="approved"))
    assert rows == []


def test_payments_export_lists_payments_and_refunds_with_their_filters(
    orders: Any, api: Any
) -> None:
    first, second = orders
    for o in orders:
        r = api.post(
            f"/api/v1/orders/{o['number']}/payments",
            json={"amount": o["total"], "reference": "=HYPERLINK(1)"},
            role="finance",
        )
        assert r.status_code == 201, r.text
    r = api.post(
        f"/api/v1/orders/{second['number']}/refunds",
        json={"amount": "100.00", "reason": "破損補償"},
        role="finance",
    )
    assert r.status_code == 201, r.text
    header, *rows = csv_rows(get(api, "payments"))
    assert tuple(header) == exports.PAYMENT_HEADER
    got = [(r[2], r[3], r[7], r[8], r[10]) for r in rows]
    assert got == [
        (second["number"], "refund", "TWD", "100.00", "破損補償"),
        (second["number"], "payment", "TWD", second["total"], ""),
        (first["number"], "payment", "TWD", first["total"], ""),
    ]
    # A reference that a spreadsheet would run is written as text.
    assert rows[1][9] == "'=HYPERLINK(1)"
    table = xlsx_rows(get(api, "payments", "xlsx", type="refund"))
    assert [(r[2], r[3], r[8]) for r in table[1:]] == [(second["number"], "refund", "100.00")]
    today = datetime.now(exports.BUSINESS_TZ).date()
    _, *rows = csv_rows(get(api, "payments", **{"to": str(today - timedelta(days=1))}))
    assert rows == []
    bad = api.get("/api/v1/exports/payments", params={"type": "gift"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "type"
