"""Importing products in the back office: upload a CSV or XLSX file, see what every row would
do (and every bad row with its number), then confirm; the file is imported whole or not at
all, and only by a role that may manage the catalog."""

from __future__ import annotations

import io
import re
from typing import Any

import openpyxl
import pytest
from sqlalchemy import func, select

from dingdan.db.tables import AuditEntry, Product
from dingdan.services.catalog import products

CSV = "text/csv"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
TOKEN = re.compile(r'name="token" value="([^"]+)"')


@pytest.fixture(autouse=True)
def upload_dir(tmp_path, monkeypatch):
    folder = tmp_path / "uploads"
    monkeypatch.setenv("DINGDAN_UPLOAD_DIR", str(folder))
    return folder


def csv_bytes(text: str) -> bytes:
    return text.encode("utf-8")


def xlsx_bytes(rows: list[list[Any]]) -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    for row in rows:
        ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def upload(b: Any, name: str, data: bytes, kind: str = CSV) -> Any:
    return b.post("/products/import", files={"file": (name, data, kind)})


def token_of(html: str) -> str:
    match = TOKEN.search(html)
    assert match, "the preview has no confirm form"
    return match.group(1)


def product_count(db: Any) -> int:
    return int(db.read(lambda c: c.execute(select(func.count()).select_from(Product)).scalar()))


def imports_audited(db: Any) -> int:
    stmt = select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "import")
    return int(db.read(lambda c: c.execute(stmt).scalar()))


ZH_CSV = (
    "sku,name,price,currency,category,allow_backorder\n"
    "OOLONG-150,凍頂烏龍茶 150g,450,TWD,茶葉,是\n"
    "PUER-357,云南普洱茶饼 357克,268.50,CNY,茶叶,no\n"
)


def test_the_products_list_links_to_the_import_only_for_roles_that_manage_the_catalog(
    shop, browser
):
    assert 'href="/products/import"' in browser("warehouse").get("/products").text
    assert 'href="/products/import"' not in browser("customer_service").get("/products").text
    assert browser("viewer").get("/products/import").status_code == 403
    page = browser("manager").get("/products/import")
    assert page.status_code == 200 and 'enctype="multipart/form-data"' in page.text
    assert 'name="csrf_token"' in page.text and "5 MB" in page.text


def test_a_csv_with_chinese_names_is_previewed_then_imported_on_confirm(shop, browser, db):
    wh = browser("warehouse")
    before = product_count(db)
    r = upload(wh, "新品.csv", csv_bytes(ZH_CSV))
    assert r.status_code == 200, r.text
    assert "凍頂烏龍茶 150g" in r.text and "云南普洱茶饼 357克" in r.text
    assert r.text.count("New product</span>") == 2 and 'id="confirm-form"' in r.text
    assert product_count(db) == before  # a preview writes nothing
    done = wh.post("/products/import/confirm", {"token": token_of(r.text)})
    assert done.status_code == 303 and done.headers["location"] == "/products"
    listed = wh.get("/products").text
    assert "Imported 2 products from 新品.csv: 2 created, 0 updated." in listed
    oolong = products.get_product(db, "OOLONG-150")
    assert (oolong["name"], oolong["price"], oolong["category"]) == (
        "凍頂烏龍茶 150g",
        "450.00",
        "茶葉",
    )
    assert oolong["allow_backorder"] is True
    puer = products.get_product(db, "PUER-357")
    assert (puer["name"], puer["price"], puer["currency"]) == (
        "云南普洱茶饼 357克",
        "268.50",
        "CNY",
    )
    assert imports_audited(db) == 1
    again = wh.post("/products/import/confirm", {"token": token_of(r.text)})
    assert again.status_code == 422 and "choose the file again" in again.text
    assert imports_audited(db) == 1


def test_an_xlsx_workbook_creates_new_products_and_updates_existing_ones(
    shop, browser, db, upload_dir
):
    data = xlsx_bytes(
        [
            ["SKU", "Name", "Price", "Currency", "Weight grams", "Active"],
            ["TEA-001", "凍頂烏龍茶 (新包裝)", 399.5, "twd", 160, "yes"],
            ["CUP-9", "品茗杯", 120, "TWD", None, None],
        ]
    )
    wh = browser("warehouse")
    r = upload(wh, "products.xlsx", data, XLSX)
    assert r.status_code == 200, r.text
    assert "Update</span>" in r.text and "New product</span>" in r.text
    assert products.get_product(db, "TEA-001")["price"] == "350.00"
    assert len(list((upload_dir / "imports").glob("*.xlsx"))) == 1
    done = wh.post("/products/import/confirm", {"token": token_of(r.text)})
    assert done.status_code == 303
    tea = products.get_product(db, "TEA-001")
    assert (tea["name"], tea["price"], tea["weight_grams"]) == (
        "凍頂烏龍茶 (新包裝)",
        "399.50",
        160,
    )
    assert tea["barcode"] == "4710000000017"  # not in the file: kept
    assert products.get_product(db, "CUP-9")["name"] == "品茗杯"
    assert list((upload_dir / "imports").glob("*.xlsx")) == []  # the staged file is gone


def test_one_bad_row_refuses_the_whole_file_and_names_the_row(shop, browser, db):
    text = (
        "sku,name,price,currency,weight_grams\n"
        "GOOD-1,好茶,100,TWD,50\n"
        "BAD-2,壞茶,12.345,TWD,heavy\n"
        "GOOD-3,也好,200,TWD,\n"
    )
    before = product_count(db)
    wh = browser("warehouse")
    r = upload(wh, "mixed.csv", csv_bytes(text))
    assert r.status_code == 422
    assert 'id="confirm-form"' not in r.text and "Nothing was imported" in r.text
    assert "Row 3" in r.text and "Weight (g)" in r.text and "<code>weight_grams</code>" in r.text
    assert "must be a whole number, zero or more" in r.text
    assert "TWD allows at most 2 decimal places" in r.text
    assert "Row 2 ·" not in r.text and "Row 4 ·" not in r.text
    assert product_count(db) == before
    forged = wh.post("/products/import/confirm", {"token": "0" * 64 + ".csv"})
    assert forged.status_code == 422 and product_count(db) == before


def test_a_repeated_sku_is_an_error_on_its_second_row(shop, browser, db):
    text = "sku,name,price,currency\nDUP-1,一,1,TWD\nDUP-1,二,2,TWD\n"
    r = upload(browser("warehouse"), "dup.csv", csv_bytes(text))
    assert r.status_code == 422 and "Row 3" in r.text
    assert "DUP-1 appears again (first on row 2)" in r.text
    assert product_count(db) == 2


@pytest.mark.parametrize(
    ("name", "data", "shown"),
    [
        ("photo.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "must be a .csv or .xlsx file"),
        ("report.csv", b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj", "is not UTF-8 text"),
        ("big5.csv", "sku,name\nA,茶葉\n".encode("big5"), "is not UTF-8 text"),
        ("fake.xlsx", b"sku,name,price,currency\n", "is not a readable .xlsx workbook"),
        ("empty.csv", b"", "is empty"),
        ("header.csv", b"sku,name,price,currency\n", "has no data rows"),
        ("cols.csv", b"sku,name,prcie,currency\nA,x,1,TWD\n", "is missing the column(s) price"),
    ],
)
def test_a_file_that_is_not_a_product_sheet_is_refused_readably(
    shop, browser, db, name, data, shown
):
    r = upload(browser("warehouse"), name, data, "application/octet-stream")
    assert r.status_code == 422 and shown in r.text
    assert "File" in r.text and 'id="confirm-form"' not in r.text
    assert product_count(db) == 2


def test_a_file_larger_than_the_upload_limit_is_refused_with_a_message(
    shop, browser, db, monkeypatch
):
    monkeypatch.setenv("DINGDAN_UPLOAD_MAX_BYTES", "2048")
    rows = "".join(f"S-{i:04d},茶 {i},1,TWD\n" for i in range(200))
    r = upload(browser("warehouse"), "big.csv", csv_bytes("sku,name,price,currency\n" + rows))
    assert r.status_code == 422 and "is larger than 2048 bytes" in r.text
    assert product_count(db) == 2


def test_roles_that_may_not_manage_the_catalog_get_403_on_a_forged_upload_or_confirm(
    shop, browser, db
):
    wh = browser("warehouse")
    token = token_of(upload(wh, "ok.csv", csv_bytes(ZH_CSV)).text)
    for role in ("customer_service", "viewer", "finance"):
        b = browser(role)
        assert upload(b, "ok.csv", csv_bytes(ZH_CSV)).status_code == 403
        assert b.post("/products/import/confirm", {"token": token}).status_code == 403
    assert product_count(db) == 2
    no_csrf = wh.client.post("/products/import/confirm", data={"token": token})
    assert no_csrf.status_code == 403 and product_count(db) == 2


def test_a_confirm_from_another_session_or_an_older_preview_imports_nothing(shop, browser, db):
    wh = browser("warehouse")
    first = token_of(upload(wh, "a.csv", csv_bytes(ZH_CSV)).text)
    upload(wh, "b.csv", csv_bytes("sku,name,price,currency\nB-1,乙,1,TWD\n"))
    r = wh.post("/products/import/confirm", {"token": first})
    assert r.status_code == 422 and "choose the file again" in r.text
    other = browser("manager")
    assert other.post("/products/import/confirm", {"token": first}).status_code == 422
    assert product_count(db) == 2


def test_the_template_lists_the_columns_and_imports_once_filled_in(shop, browser, db):
    wh = browser("warehouse")
    t = wh.get("/products/import/template.csv")
    assert t.status_code == 200 and t.headers["content-type"].startswith("text/csv")
    assert "attachment" in t.headers["content-disposition"]
    header = t.content.decode("utf-8-sig").splitlines()[0]
    assert header.startswith("sku,name,price,currency") and "allow_backorder" in header
    assert "has no data rows" in upload(wh, "template.csv", t.content).text
    cells = {c: "" for c in header.split(",")}
    cells.update(sku="TPL-1", name="範本商品", price="99", currency="TWD", active="true")
    filled = t.content + (",".join(cells.values()) + "\r\n").encode()
    r = upload(wh, "template.csv", filled)
    assert r.status_code == 200
    assert wh.post("/products/import/confirm", {"token": token_of(r.text)}).status_code == 303
    assert products.get_product(db, "TPL-1")["name"] == "範本商品"
