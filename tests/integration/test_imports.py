"""Bulk imports of products and stock from CSV and XLSX, through the service and the CLI."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from dingdan.db import stock as stock_sql
from dingdan.db.engine import Database
from dingdan.db.tables import AuditEntry, Product
from dingdan.domain.inventory.stock import MovementKind
from dingdan.domain.shared.errors import ValidationFailed
from dingdan.services.catalog import imports, products
from dingdan.services.catalog.imports import RowError
from dingdan.services.inventory import stock
from tests.builders import ADMIN, Shop, location, product

FIXTURES = Path(__file__).parent.parent / "fixtures"


def write_csv(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def write_xlsx(path: Path, rows: list[list[Any]]) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    for row in rows:
        ws.append(row)
    wb.save(path)
    return path


def product_count(db: Database) -> int:
    return int(db.read(lambda c: c.execute(select(func.count()).select_from(Product)).scalar()))


def movements_of(db: Database, sku: str) -> list[Any]:
    return stock.movements(db, sku, limit=200).items


def level(db: Database, sku: str, loc: str) -> tuple[int, int]:
    for x in stock.stock_of(db, sku)["locations"]:
        if x["location"] == loc:
            return x["on_hand"], x["reserved"]
    return 0, 0


def import_products_file(db: Database, path: Path, **kw: Any) -> imports.ImportResult:
    return imports.import_products(db, ADMIN, imports.read_rows(path), source=path.name, **kw)


def import_stock_file(db: Database, path: Path, **kw: Any) -> imports.ImportResult:
    return imports.import_inventory(db, ADMIN, imports.read_rows(path), source=path.name, **kw)


# --- products ------------------------------------------------------------------------------


def test_a_utf8_csv_with_a_bom_imports_products_with_chinese_names_intact(db):
    result = import_products_file(db, FIXTURES / "import_products_zh.csv")
    assert (result.created, result.updated, result.errors) == (3, 0, [])
    tea = products.get_product(db, "TEA-002")
    assert tea["name"] == "阿里山高山茶, 禮盒" and tea["price"] == "1280.50"
    assert tea["category"] == "茶葉" and tea["active"] is True and tea["allow_backorder"] is True
    first = products.get_product(db, "TEA-001")
    assert first["name"] == "凍頂烏龍茶 150g" and first["barcode"] == "4710000000011"
    assert first["weight_grams"] == 150 and first["allow_backorder"] is False
    cup = products.get_product(db, "CUP-001")
    assert cup["currency"] == "TWD" and cup["active"] is True and cup["tax_class"] == "standard"


def test_an_xlsx_file_imports_numbers_as_text_and_keeps_decimal_prices(db, tmp_path):
    path = write_xlsx(
        tmp_path / "p.xlsx",
        [
            ["sku", "name", "price", "currency", "barcode", "weight_grams", "active"],
            ["TEA-010", "東方美人茶", 350.5, "TWD", 4710000000028, 150.0, False],
            [None, None, None, None, None, None, None],
            ["JP-1", "抹茶", 1200, "JPY", None, 40, True],
        ],
    )
    rows = imports.read_rows(path)
    assert rows[0]["price"] == "350.5" and rows[0]["barcode"] == "4710000000028"
    assert rows[0]["weight_grams"] == "150" and rows[1]["price"] == "1200"
    result = imports.import_products(db, ADMIN, rows)
    assert (result.created, result.errors) == (2, [])
    tea = products.get_product(db, "TEA-010")
    assert tea["name"] == "東方美人茶" and tea["price"] == "350.50" and tea["active"] is False
    assert products.get_product(db, "JP-1")["price"] == "1200"


def test_an_existing_sku_is_updated_and_an_empty_cell_keeps_its_value(db, tmp_path):
    product(db, "TEA-001", price="100.00", barcode="111", weight_grams=10)
    path = write_csv(
        tmp_path / "p.csv",
        "sku,name,price,currency,barcode,weight_grams\n"
        "TEA-001,新名字,120.50,TWD,,25\n"
        "TEA-002,新品,80,TWD,222,\n",
    )
    result = import_products_file(db, path)
    assert (result.created, result.updated, result.skipped) == (1, 1, 0)
    updated = products.get_product(db, "TEA-001")
    assert updated["name"] == "新名字" and updated["price"] == "120.50"
    assert updated["weight_grams"] == 25 and updated["barcode"] == "111"
    assert products.get_product(db, "TEA-002")["barcode"] == "222"
    assert product_count(db) == 2


def test_a_bad_row_imports_nothing_and_names_its_row_number(db, tmp_path):
    path = write_csv(
        tmp_path / "p.csv",
        "sku,name,price,currency,weight_grams,active\n"
        "A-1,好,10,GBP,1,yes\n"
        "\n"
        "A-2,壞,1.234,GBP,heavy,maybe\n"
        "A-1,again,10,GBP,,\n",
    )
    result = import_products_file(db, path)
    assert result.imported == 0 and product_count(db) == 0
    assert result.errors == [
        RowError(4, "weight_grams: must be a whole number, zero or more"),
        RowError(4, "active: must be true/false, yes/no, 1/0 or 是/否"),
        RowError(4, "price: GBP allows at most 2 decimal places"),
        RowError(5, "sku: A-1 appears again (first on row 2)"),
    ]


def test_skip_bad_imports_the_good_rows_and_reports_the_bad_ones(db, tmp_path):
    path = write_csv(
        tmp_path / "p.csv",
        "sku,name,price,currency\n"
        "OK-1,一,10,TWD\nBAD 1,二,10,TWD\nOK-2,三,10,XYZ\n"
        "OK-3,四,10.5,TWD\n",
    )
    result = import_products_file(db, path, skip_bad=True)
    assert (result.created, result.updated, result.skipped) == (2, 0, 2)
    assert [e.row for e in result.errors] == [3, 4]
    assert result.errors[1].message.startswith("currency:")
    assert [p["sku"] for p in products.list_products(db).items] == ["OK-1", "OK-3"]


def test_a_product_import_writes_one_audit_entry_that_sums_it_up(db, tmp_path):
    product(db, "OLD")
    path = write_csv(tmp_path / "spring.csv", "sku,name,price,currency\nOLD,x,1,TWD\nNEW,y,2,TWD\n")
    import_products_file(db, path)
    entries = db.read(
        lambda c: c.execute(select(AuditEntry).where(AuditEntry.action == "import")).all()
    )
    assert len(entries) == 1
    e = entries[0]
    assert (e.entity_type, e.entity_id, e.actor) == ("product", "spring.csv", ADMIN.name)
    assert e.after["created"] == 1 and e.after["updated"] == 1


def test_thousands_of_rows_import_in_one_go_and_progress_counts_every_row(db, tmp_path):
    lines = ["sku,name,price,currency"] + [f"S-{i:05d},品項 {i},{i}.5,TWD" for i in range(3000)]
    path = write_csv(tmp_path / "big.csv", "\n".join(lines))
    ticks: list[int] = []
    result = import_products_file(db, path, progress=ticks.append)
    assert result.created == 3000 and sum(ticks) == 3000
    assert products.get_product(db, "S-02999")["price"] == "2999.50"
    again = import_products_file(db, path)
    assert (again.created, again.updated) == (0, 3000) and product_count(db) == 3000


def test_files_that_cannot_be_read_are_refused_on_the_file_field(tmp_path):
    cases = {
        write_csv(tmp_path / "big5.csv", "sku,name\nA,茶葉\n", "big5"): "not UTF-8",
        write_csv(tmp_path / "p.txt", "sku\n"): ".csv or .xlsx",
        tmp_path / "missing.csv": "does not exist",
        write_csv(tmp_path / "fake.xlsx", "not a zip"): "not a readable .xlsx",
        write_csv(tmp_path / "twice.csv", "sku,SKU\nA,B\n"): "appears twice",
    }
    for path, reason in cases.items():
        with pytest.raises(ValidationFailed) as exc:
            imports.read_rows(path)
        assert exc.value.errors[0].field == "file" and reason in exc.value.errors[0].message


def test_missing_and_unknown_columns_refuse_the_whole_file(db, tmp_path):
    path = write_csv(tmp_path / "p.csv", "sku,name,prcie,currency\nA,x,1,TWD\n")
    with pytest.raises(ValidationFailed) as exc:
        import_products_file(db, path)
    messages = [e.message for e in exc.value.errors]
    assert "missing the column(s) price" in messages[0] and "prcie" in messages[1]
    assert product_count(db) == 0


# --- stock ---------------------------------------------------------------------------------


stocked = Shop(
    products={"TEA-1": {}, "TEA-2": {}},
    locations={"TPE": 0, "KHH": 0},
    stock={"TPE": {"TEA-1": 10}},
).fixture()


def test_a_receipt_file_raises_levels_and_writes_receipt_ledger_rows(stocked, tmp_path):
    path = write_csv(
        tmp_path / "in.csv", "sku,location,quantity,reference\nTEA-1,TPE,5,PO-7\nTEA-2,KHH,12,\n"
    )
    result = import_stock_file(stocked, path)
    assert (result.created, result.updated, result.errors) == (1, 1, [])
    assert level(stocked, "TEA-1", "TPE") == (15, 0) and level(stocked, "TEA-2", "KHH") == (12, 0)
    newest = movements_of(stocked, "TEA-1")[0]
    assert (newest["kind"], newest["on_hand_delta"], newest["reference"]) == ("receipt", 5, "PO-7")
    assert movements_of(stocked, "TEA-2")[0]["reference"] == "import:in.csv"
    assert stock.verify(stocked) == []


def test_a_count_file_writes_each_difference_as_a_cycle_count_adjustment(stocked, tmp_path):
    path = write_xlsx(
        tmp_path / "count.xlsx",
        [
            ["SKU", "Location", "Quantity"],
            ["TEA-1", "TPE", 7],
            ["TEA-2", "TPE", 4],
            ["TEA-2", "KHH", 0],
        ],
    )
    result = import_stock_file(stocked, path, mode="set")
    assert (result.created, result.updated, result.unchanged) == (1, 1, 1)
    assert level(stocked, "TEA-1", "TPE") == (7, 0) and level(stocked, "TEA-2", "TPE") == (4, 0)
    newest = movements_of(stocked, "TEA-1")[0]
    assert (newest["kind"], newest["on_hand_delta"], newest["reason"]) == (
        "adjustment",
        -3,
        "cycle_count",
    )
    assert movements_of(stocked, "TEA-2")[0]["on_hand_delta"] == 4
    assert stock.verify(stocked) == []


def reserve(db: Database, sku: str, loc: str, qty: int) -> None:
    def work(conn: Any) -> None:
        pid = conn.execute(select(Product.id).where(Product.sku == sku)).scalar()
        from dingdan.services.inventory.locations import fetch

        move = stock_sql.Move(pid, fetch(conn, loc).id, MovementKind.RESERVATION, 0, qty)
        stock_sql.apply(conn, [move], actor="test", reason="order")

    db.write(work)


def test_a_big_receipt_spans_batches_and_progress_counts_every_row(db, tmp_path):
    location(db, "TPE")
    skus = [f"B-{i:04d}" for i in range(1200)]
    imports.import_products(
        db, ADMIN, [{"sku": s, "name": s, "price": "1", "currency": "TWD"} for s in skus]
    )
    rows = [{"sku": s, "location": "TPE", "quantity": str(i % 7 + 1)} for i, s in enumerate(skus)]
    rows.append({"sku": "B-0000", "location": "TPE", "quantity": "1"})
    ticks: list[int] = []
    result = imports.import_inventory(db, ADMIN, rows, skip_bad=True, progress=ticks.append)
    assert (result.created, result.skipped) == (1200, 1) and sum(ticks) == 1201
    assert result.errors == [RowError(1202, "sku: B-0000 at TPE appears again (first on row 2)")]
    assert level(db, "B-1199", "TPE") == (1199 % 7 + 1, 0)
    assert stock.total_levels(db)["on_hand"] == sum(i % 7 + 1 for i in range(1200))
    assert stock.verify(db) == []


def test_a_count_below_what_is_reserved_is_a_bad_row_and_nothing_changes(stocked, tmp_path):
    reserve(stocked, "TEA-1", "TPE", 6)
    path = write_csv(tmp_path / "count.csv", "sku,location,quantity\nTEA-2,TPE,3\nTEA-1,TPE,5\n")
    result = import_stock_file(stocked, path, mode="set")
    assert result.imported == 0
    assert result.errors == [
        RowError(3, "quantity: the count 5 is below the 6 reserved there for orders")
    ]
    assert level(stocked, "TEA-1", "TPE") == (10, 6) and level(stocked, "TEA-2", "TPE") == (0, 0)
    skipped = import_stock_file(stocked, path, mode="set", skip_bad=True)
    assert (skipped.created, skipped.skipped) == (1, 1)
    assert level(stocked, "TEA-2", "TPE") == (3, 0) and level(stocked, "TEA-1", "TPE") == (10, 6)
    assert stock.verify(stocked) == []


def test_unknown_skus_locations_and_bad_quantities_are_bad_rows(stocked, tmp_path):
    before = len(movements_of(stocked, "TEA-1"))
    path = write_csv(
        tmp_path / "in.csv",
        "sku,location,quantity\nTEA-1,TPE,2\nNOPE,TPE,1\n"
        "TEA-1,MARS,1\nTEA-2,TPE,0\nTEA-2,KHH,1.5\nTEA-1,TPE,1\n",
    )
    result = import_stock_file(stocked, path)
    assert result.imported == 0 and len(movements_of(stocked, "TEA-1")) == before
    assert [(e.row, e.message.split(":")[0]) for e in result.errors] == [
        (3, "sku"),
        (4, "location"),
        (5, "quantity"),
        (6, "quantity"),
        (7, "sku"),
    ]
    assert "no product with SKU 'NOPE'" in result.errors[0].message
    assert level(stocked, "TEA-1", "TPE") == (10, 0)


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


def test_products_import_prints_a_summary_and_exits_0(cli, db, tmp_path):
    product(db, "TEA-001")
    r = run_cli(cli, "products", "import", str(FIXTURES / "import_products_zh.csv"))
    assert r.exit_code == 0, r.output
    assert "imported 3 products: 2 created, 1 updated" in r.stdout
    assert products.get_product(db, "TEA-001")["name"] == "凍頂烏龍茶 150g"


def test_products_import_with_a_bad_row_lists_it_and_exits_1(cli, db, tmp_path):
    path = write_csv(tmp_path / "p.csv", "sku,name,price,currency\nA,x,1,GBP\nB,y,7.123,GBP\n")
    r = run_cli(cli, "products", "import", str(path))
    assert r.exit_code == 1
    assert "row 3: price: GBP allows at most 2 decimal places" in r.stderr
    assert "nothing imported" in r.stderr and product_count(db) == 0
    r = run_cli(cli, "products", "import", str(path), "--skip-bad")
    assert r.exit_code == 0
    assert "row 3: price: GBP allows at most 2 decimal places" in r.stderr
    assert "imported 1 products: 1 created, 0 updated; 1 bad row(s) skipped" in r.stdout
    assert product_count(db) == 1


def test_importing_a_missing_file_exits_1_with_a_reason(cli, tmp_path):
    r = run_cli(cli, "products", "import", str(tmp_path / "nope.xlsx"))
    assert r.exit_code == 1 and "does not exist" in r.stderr


def test_inventory_import_receives_and_counts_through_the_cli(cli, stocked, tmp_path):
    path = write_csv(tmp_path / "in.csv", "sku,location,quantity\nTEA-2,KHH,8\n")
    r = run_cli(cli, "inventory", "import", str(path))
    assert r.exit_code == 0, r.output
    assert "imported 1 stock rows (receive): 1 new levels, 0 changed" in r.stdout
    count = write_csv(tmp_path / "count.csv", "sku,location,quantity\nTEA-2,KHH,6\nNOPE,KHH,1\n")
    r = run_cli(cli, "inventory", "import", str(count), "--mode", "set")
    assert r.exit_code == 1 and "row 3: sku: no product with SKU 'NOPE'" in r.stderr
    assert level(stocked, "TEA-2", "KHH") == (8, 0)
    r = run_cli(cli, "inventory", "import", str(count), "--mode", "set", "--skip-bad")
    assert r.exit_code == 0 and level(stocked, "TEA-2", "KHH") == (6, 0)
    assert run_cli(cli, "inventory", "verify").exit_code == 0
