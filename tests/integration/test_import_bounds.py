"""An uploaded workbook cannot make the server walk a million empty rows or inflate into
gigabytes: rows, columns, uncompressed size and reading time are bounded, each refused on
the file with its own message. Thousands separators and full-width digits in cells are read
as people and spreadsheets write them."""

from __future__ import annotations

import io
import re
import zipfile

import openpyxl
import pytest

from dingdan.domain.shared.errors import ValidationFailed
from dingdan.services.catalog import imports, products
from tests.builders import ADMIN


def _workbook(rows: list[list[object]]) -> bytes:
    wb = openpyxl.Workbook()
    for row in rows:
        wb.active.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _rewrite(data: bytes, change) -> bytes:  # type: ignore[no-untyped-def]
    """The workbook with each member passed through ``change(name, bytes)``."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(info.filename, change(info.filename, src.read(info.filename)))
    return out.getvalue()


HEADER = ["sku", "name", "price", "currency"]


def _code(caught: pytest.ExceptionInfo[ValidationFailed]) -> str:
    return caught.value.errors[0].code


def test_a_sheet_declaring_a_million_rows_with_a_cell_in_the_last_is_refused_at_once():
    def far(name: str, body: bytes) -> bytes:
        if name != "xl/worksheets/sheet1.xml":
            return body
        text = body.decode()
        text = re.sub(r'<dimension ref="[^"]*" ?/>', '<dimension ref="A1:XFD1048576"/>', text)
        assert "XFD1048576" in text
        last = '<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>x</t></is></c></row>'
        return text.replace("</sheetData>", last + "</sheetData>").encode()

    data = _rewrite(_workbook([HEADER, ["A-1", "茶", "10", "TWD"]]), far)
    assert len(data) < 10_000
    with pytest.raises(ValidationFailed) as caught:
        imports.read_upload("p.xlsx", data)
    assert _code(caught) in ("too_many_rows", "too_many_columns")


def test_a_sheet_of_one_cell_in_its_last_row_is_refused_without_walking_to_it():
    def far(name: str, body: bytes) -> bytes:
        if name != "xl/worksheets/sheet1.xml":
            return body
        text = re.sub(
            r'<dimension ref="[^"]*" ?/>', '<dimension ref="A1:D1048576"/>', body.decode()
        )
        last = '<row r="1048576"><c r="A1048576" t="inlineStr"><is><t>x</t></is></c></row>'
        return text.replace("</sheetData>", last + "</sheetData>").encode()

    data = _rewrite(_workbook([HEADER, ["A-1", "茶", "10", "TWD"]]), far)
    with pytest.raises(ValidationFailed) as caught:
        imports.read_upload("p.xlsx", data)
    assert _code(caught) == "too_many_rows"


def test_a_workbook_that_inflates_a_thousandfold_is_refused_before_it_is_opened():
    def bomb(name: str, body: bytes) -> bytes:
        if name != "xl/worksheets/sheet1.xml":
            return body
        pad = b" " * (20 * 1024 * 1024)
        return body.replace(b"</worksheet>", pad + b"</worksheet>")

    data = _rewrite(_workbook([HEADER, ["A-1", "茶", "10", "TWD"]]), bomb)
    assert len(data) < 100_000
    with pytest.raises(ValidationFailed) as caught:
        imports.read_upload("p.xlsx", data)
    assert _code(caught) == "xlsx_too_large"
    assert "CSV" in caught.value.errors[0].message


def test_a_value_beyond_the_columns_an_import_may_have_is_refused():
    row = ["A-1", "茶", "10", "TWD"] + [None] * 100 + ["hidden"]
    with pytest.raises(ValidationFailed) as caught:
        imports.read_upload("p.xlsx", _workbook([HEADER, row]))
    assert _code(caught) == "too_many_columns"
    csv = "sku,name,price,currency" + "," * 100 + "\nA-1,茶,10,TWD" + "," * 100 + "x\n"
    with pytest.raises(ValidationFailed) as caught:
        imports.read_upload("p.csv", csv.encode())
    assert _code(caught) == "too_many_columns"


def test_reading_that_takes_too_long_is_refused(monkeypatch):
    monkeypatch.setattr(imports, "MAX_READ_SECONDS", -1.0)
    text = "sku,name,price,currency\n" + "".join(f"S-{i},n,1,TWD\n" for i in range(600))
    with pytest.raises(ValidationFailed) as caught:
        imports.read_upload("p.csv", text.encode())
    assert _code(caught) == "file_too_slow"


def test_prices_with_thousands_separators_and_full_width_numbers_import(db):
    rows = [
        HEADER + ["weight_grams"],
        ["BOX-1", "禮盒", "1,320", "TWD", "１２００"],
        ["BOX-2", "大禮盒", "12,800.50", "TWD", None],
    ]
    result = imports.import_products(db, ADMIN, imports.read_upload("p.xlsx", _workbook(rows)))
    assert result.imported == 2
    box = products.get_product(db, "BOX-1")
    assert (box["price"], box["weight_grams"]) == ("1320.00", 1200)
    assert products.get_product(db, "BOX-2")["price"] == "12800.50"
