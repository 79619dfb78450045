"""The Export buttons of the list pages: CSV and XLSX links that keep the page's filters, and
the session-authenticated ``/exports/{kind}.{csv,xlsx}`` that streams the same file as the
API."""

from __future__ import annotations

import csv
import html
import io
import re
from typing import Any

import openpyxl

LINK = re.compile(r'href="(/exports/[^"]+)"')


def links(page: str) -> list[str]:
    return [html.unescape(u) for u in LINK.findall(page)]


def rows(r: Any) -> list[list[str]]:
    assert r.status_code == 200, r.text
    assert r.content.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"), newline="")))


def test_every_list_page_links_its_exports_with_its_filters(shop: Any, browser: Any) -> None:
    admin = browser("admin")
    page = admin.get("/orders?status=open&q=lin&cursor=abc&refund_due=1").text
    found = links(page)
    assert "/exports/orders.csv?status=open&q=lin&refund_due=1" in found
    assert "/exports/order-lines.xlsx?status=open&q=lin&refund_due=1" in found
    assert links(admin.get("/customers?q=lin").text) == [
        "/exports/customers.csv?q=lin",
        "/exports/customers.xlsx?q=lin",
    ]
    assert "/exports/products.csv?q=TEA" in links(admin.get("/products?q=TEA").text)
    inventory = links(admin.get("/inventory?location=TPE&low_stock=1").text)
    assert "/exports/inventory.xlsx?location=TPE&low_stock=1" in inventory
    returns = links(admin.get("/returns?status=requested").text)
    assert "/exports/returns.csv?status=requested" in returns
    ledger = links(admin.get("/inventory/TEA-001?location=TPE").text)
    assert "/exports/movements.csv?sku=TEA-001&location=TPE" in ledger


def test_the_page_export_streams_the_filtered_list(shop: Any, browser: Any) -> None:
    admin = browser("admin")
    number = shop["order"]["number"]
    header, *got = rows(admin.get("/exports/orders.csv?status=open&placed=today&cursor=x"))
    assert header[0] == "number"
    assert [r[0] for r in got] == [number]
    _, *got = rows(admin.get("/exports/orders.csv?status=cancelled"))
    assert got == []
    _, *got = rows(admin.get("/exports/products.csv"))
    assert {r[0]: r[1] for r in got}["TEA-001"] == "凍頂烏龍茶"
    r = admin.get("/exports/movements.xlsx?sku=TEA-001")
    assert r.status_code == 200
    assert 'filename="movements-' in r.headers["content-disposition"]
    sheet = openpyxl.load_workbook(io.BytesIO(r.content)).worksheets[0]
    kinds = [row[4].value for row in sheet.iter_rows(min_row=2)]
    assert kinds == ["reservation", "receipt"], "newest first"


def test_refusals_are_pages_and_signing_in_is_required(shop: Any, browser: Any) -> None:
    anonymous = browser()
    r = anonymous.get("/exports/orders.csv", follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"].startswith("/login")
    warehouse = browser("warehouse")
    assert warehouse.get("/exports/customers.csv").status_code == 403
    assert "/exports/customers.csv" not in warehouse.get("/customers").text
    assert "/exports/orders.csv" in warehouse.get("/orders").text
    admin = browser("admin")
    assert admin.get("/exports/nothing.csv").status_code == 404
    assert admin.get("/exports/orders.pdf").status_code == 422
    assert admin.get("/exports/orders.csv?from=yesterday").status_code == 422
