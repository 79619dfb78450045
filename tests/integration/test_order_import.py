"""Order import (shared/CONTRACT.md, "Order import and export"): historical and captured,
all or nothing, twice adds nothing, CSV and XLSX alike, through the service and the CLI."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from dingdan.db.engine import Database
from dingdan.db.order_tables import Customer, Order, OrderLine, Payment, Shipment
from dingdan.db.tables import OutboxMessage, table_of
from dingdan.domain.shared.errors import ValidationFailed
from dingdan.services.catalog import imports, order_imports
from dingdan.services.inventory import stock
from dingdan.services.orders.queries import get_order
from tests.builders import ADMIN, Shop

SHOP = Shop(
    products={"TEA-001": "350.00", "CUP-001": "500.00"},
    locations={"TPE": 0},
    stock={"TPE": {"TEA-001": 5, "CUP-001": 2}},
)
stocked = SHOP.fixture()

HEADER = [
    "channel",
    "external_id",
    "created_at",
    "currency",
    "customer_email",
    "customer_phone",
    "customer_name",
    "country",
    "sku",
    "quantity",
    "unit_price",
    "city",
    "postal_code",
    "line1",
    "shipping_price",
    "payment_method",
]


def line(ext: str, sku: str = "TEA-001", qty: int = 1, **kw: Any) -> list[Any]:
    row = {
        "channel": "web",
        "external_id": ext,
        "created_at": "2024-03-01 10:00:00",
        "currency": "TWD",
        "customer_email": f"{ext.lower()}@example.com",
        "customer_phone": "0912345678",
        "customer_name": "王小明",
        "country": "TW",
        "sku": sku,
        "quantity": qty,
        "unit_price": "350.00",
        "city": "台北市",
        "postal_code": "100",
        "line1": "中正路1號",
        "shipping_price": "60",
        "payment_method": "card",
    }
    row.update(kw)
    return [row[h] for h in HEADER]


SAMPLE = [
    line("A-1"),
    line("A-1", "CUP-001", 2, unit_price="500.00"),
    line("A-2", customer_email="a-1@example.com", created_at="2024-03-02T09:00:00+00:00"),
    line("A-3", "CUP-001", 1, unit_price="'480.00", customer_email=""),
]


def write_csv(path: Path, rows: list[list[Any]], bom: bool = False) -> Path:
    with path.open("w", encoding="utf-8-sig" if bom else "utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(HEADER)
        w.writerows(rows)
    return path


def write_xlsx(path: Path, rows: list[list[Any]]) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(HEADER)
    for row in rows:
        ws.append(row)
    wb.save(path)
    return path


def count(db: Database, model: Any) -> int:
    t = table_of(model)
    return int(db.read(lambda c: c.execute(select(func.count()).select_from(t)).scalar()))


def run(db: Database, path: Path, **kw: Any) -> order_imports.OrderImportResult:
    return order_imports.import_orders(db, ADMIN, imports.read_rows(path), **kw)


def stored(db: Database) -> list[tuple[Any, ...]]:
    """What the orders are, without what differs between two imports (ids, numbers)."""
    o, ol = table_of(Order), table_of(OrderLine)
    stmt = (
        select(
            o.c.external_id,
            o.c.status,
            o.c.financial_status,
            o.c.fulfillment_status,
            o.c.total_minor,
            o.c.paid_minor,
            o.c.created_at,
            ol.c.sku,
            ol.c.quantity,
            ol.c.shipped,
            ol.c.unit_price_minor,
        )
        .join(ol, ol.c.order_id == o.c.id)
        .order_by(o.c.external_id, ol.c.position)
    )
    return [tuple(r) for r in db.read(lambda c: c.execute(stmt).all())]


def on_hand(db: Database, sku: str) -> tuple[int, int]:
    x = stock.stock_of(db, sku)["locations"][0]
    return x["on_hand"], x["reserved"]


def test_historical_import_stores_past_orders_as_they_were(stocked, tmp_path):
    outbox_before = count(stocked, OutboxMessage)
    result = run(stocked, write_csv(tmp_path / "o.csv", SAMPLE), historical=True)
    assert (result.imported, result.errors) == (3, [])
    rows = stored(stocked)
    assert [r[0] for r in rows] == ["A-1", "A-1", "A-2", "A-3"]
    assert {r[1:4] for r in rows} == {("completed", "paid", "fulfilled")}
    # 350 + 2 x 500 + 60 shipping; A-3's price had a spreadsheet's apostrophe
    assert rows[0][4] == rows[0][5] == 141_000
    assert rows[3][10] == 48_000
    assert all(r[9] == r[8] for r in rows)  # shipped in full
    # created_at kept: without an offset in Asia/Taipei (UTC+8)
    first = rows[0][6].replace(tzinfo=UTC) if rows[0][6].tzinfo is None else rows[0][6]
    assert first == datetime(2024, 3, 1, 2, 0, tzinfo=UTC)
    assert count(stocked, Payment) == 3 and count(stocked, Shipment) == 3
    # one customer for A-1 and A-2 (same email), one for A-3 (by phone: none given... found
    # by the phone A-1 gave)
    assert count(stocked, Customer) == 1
    # no stock moves, nothing sent
    assert on_hand(stocked, "TEA-001") == (5, 0)
    assert count(stocked, OutboxMessage) == outbox_before
    # the order reads as any other (its view: lines, payment, shipment)
    number = stocked.read(
        lambda c: c.execute(
            select(table_of(Order).c.number).where(table_of(Order).c.external_id == "A-1")
        ).scalar_one()
    )
    view = get_order(stocked, number)
    assert (view["status"], view["total"]) == ("completed", "1410.00")
    assert (view["paid"], view["balance_due"]) == ("1410.00", "0.00")
    assert [ln["shipped"] for ln in view["lines"]] == [1, 2]


def test_the_same_file_twice_adds_nothing(stocked, tmp_path):
    path = write_csv(tmp_path / "o.csv", SAMPLE)
    run(stocked, path, historical=True)
    before = stored(stocked)
    again = run(stocked, path, historical=True)
    assert (again.imported, again.existing) == (0, 3)
    assert stored(stocked) == before
    assert count(stocked, Order) == 3


def test_csv_with_and_without_bom_and_xlsx_agree(stocked, tmp_path, db_url):
    plain = imports.read_rows(write_csv(tmp_path / "a.csv", SAMPLE))
    bom = imports.read_rows(write_csv(tmp_path / "b.csv", SAMPLE, bom=True))
    xlsx = imports.read_rows(write_xlsx(tmp_path / "c.xlsx", SAMPLE))
    assert plain == bom == xlsx
    # the CLI's reader, row by row, reads them the same
    for name in ("a.csv", "b.csv", "c.xlsx"):
        assert list(imports.stream_rows(tmp_path / name)) == plain
    result = order_imports.import_orders(stocked, ADMIN, xlsx, historical=True)
    assert result.imported == 3


def test_big5_is_refused_with_a_message(stocked, tmp_path):
    path = tmp_path / "big5.csv"
    text = ",".join(HEADER) + "\n" + ",".join(str(v) for v in line("B-1")) + "\n"
    path.write_bytes(text.encode("big5"))
    with pytest.raises(ValidationFailed) as exc:
        run(stocked, path, historical=True)
    assert exc.value.errors[0].code == "not_utf8"
    assert count(stocked, Order) == 0


def test_a_bad_row_at_9999_of_10000_stores_nothing(stocked, tmp_path):
    path = tmp_path / "big.csv"
    rows = [line(f"X-{i // 2}", "TEA-001" if i % 2 else "CUP-001") for i in range(10_000)]
    rows[9_997] = line(f"X-{9_997 // 2}", "NOPE")  # spreadsheet row 9,999 (header is 1)
    write_csv(path, rows)
    result = run(stocked, path, historical=True)
    assert [(e.row, e.field, e.code) for e in result.errors] == [(9_999, "sku", "unknown_sku")]
    assert result.imported == 0
    assert count(stocked, Order) == 0 and count(stocked, Customer) == 0


def test_every_bad_row_is_listed_and_skip_bad_imports_the_rest(stocked, tmp_path):
    rows = [
        line("C-1"),
        line("C-2", channel="fax"),
        line("C-3", quantity="two"),
        line("C-4", created_at="yesterday"),
        line("C-5"),
        line("", sku="CUP-001", customer_email="x@example.com"),
    ]
    path = write_csv(tmp_path / "o.csv", rows)
    result = run(stocked, path, historical=True)
    assert [(e.row, e.field) for e in result.errors] == [
        (3, "channel"),
        (4, "quantity"),
        (5, "created_at"),
        (7, "external_id"),
    ]
    assert count(stocked, Order) == 0
    skipped = run(stocked, path, historical=True, skip_bad=True)
    assert (skipped.imported, skipped.skipped) == (2, 4)


def test_the_rows_of_an_order_stand_together(stocked, tmp_path):
    rows = [line("D-1"), line("D-2"), line("D-1", "CUP-001")]
    result = run(stocked, write_csv(tmp_path / "o.csv", rows), historical=True)
    assert [(e.row, e.field, e.code) for e in result.errors] == [
        (4, "external_id", "appears_again")
    ]


def test_historical_without_address_columns(stocked, tmp_path):
    path = tmp_path / "o.csv"
    path.write_text(
        ",".join(HEADER[:11]) + "\n" + ",".join(str(v) for v in line("E-1")[:11]) + "\n",
        encoding="utf-8",
    )
    assert run(stocked, path, historical=True).imported == 1
    with pytest.raises(ValidationFailed) as exc:
        run(stocked, path)
    assert exc.value.errors[0].code == "missing_columns"


def test_captured_import_reserves_stock_and_lists_orders_refused(stocked, tmp_path):
    rows = [line("F-1", "CUP-001", 2, unit_price="500.00"), line("F-2", "CUP-001", 1)]
    path = write_csv(tmp_path / "o.csv", rows)
    result = run(stocked, path)
    assert result.imported == 1
    assert result.refused == ["web/F-2"]
    assert on_hand(stocked, "CUP-001") == (2, 2)
    assert count(stocked, Order) == 1
    again = run(stocked, path)
    assert (again.imported, again.existing, count(stocked, Order)) == (0, 1, 1)


# --- the CLI -------------------------------------------------------------------------------


@pytest.fixture
def cli(db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    from dingdan.config import get_settings

    monkeypatch.setenv("DINGDAN_DATABASE_URL", db_url)
    get_settings.cache_clear()
    yield CliRunner()
    get_settings.cache_clear()


def run_cli(cli: CliRunner, *args: str) -> Any:
    from dingdan.cli.main import app

    return cli.invoke(app, list(args))


def test_cli_imports_and_prints_the_count_last(cli, stocked, tmp_path):
    path = write_csv(tmp_path / "o.csv", SAMPLE)
    r = run_cli(cli, "orders", "import", str(path), "--historical")
    assert r.exit_code == 0, r.output
    assert r.stdout.strip().splitlines()[-1] == "imported 3 orders"


def test_cli_refuses_big5_with_a_message(cli, stocked, tmp_path):
    path = tmp_path / "big5.csv"
    text = ",".join(HEADER) + "\n" + ",".join(str(v) for v in line("B-1")) + "\n"
    path.write_bytes(text.encode("big5"))
    r = run_cli(cli, "orders", "import", str(path), "--historical")
    assert r.exit_code == 1
    assert "is not UTF-8" in r.stderr
    assert count(stocked, Order) == 0


def test_cli_lists_bad_rows_and_exits_1(cli, stocked, tmp_path):
    path = write_csv(tmp_path / "o.csv", [line("G-1"), line("G-2", sku="NOPE")])
    r = run_cli(cli, "orders", "import", str(path))
    assert r.exit_code == 1
    assert "row 3: sku: no product with SKU 'NOPE'" in r.stderr
    assert count(stocked, Order) == 0
    ok = run_cli(cli, "orders", "import", str(path), "--skip-bad")
    assert ok.exit_code == 0, ok.output
    assert "imported 1 orders" in ok.stdout
