"""Hong Kong and mainland China (issue 22, part 6): an order shipped to Hong Kong gets a
receipt (收據, its own series, no tax) in the same invoices list; a CN order's fapiao request
is checked (the USCC's check character) and exported for the seller's tax system."""

from __future__ import annotations

import csv
import io
from typing import Any

from openpyxl import load_workbook
from sqlalchemy import select

from dingdan.db.document_tables import Document
from dingdan.db.types import utcnow
from dingdan.domain.invoicing import rules
from dingdan.services.jobs import worker
from tests.builders import address, order_body, pay, post_order
from tests.helpers import product, receive
from tests.integration.test_invoices import _invoices, _settings, shop

__all__ = ["shop"]
USCC = "91152201078377449P"  # python-stdnum's test vector (shared tw_cn_ids)


def _abroad(api: Any, db: Any, country: str, currency: str, **addr: Any) -> dict[str, Any]:
    sku = f"TEA-{currency}"
    product(db, sku, price="100.00", currency=currency)
    receive(db, "TPE", {sku: 10})
    where = address(country=country, **addr)
    body = order_body(
        [{"sku": sku, "quantity": 2}],
        currency=currency,
        shipping_address=where,
        shipping_price="0",
    )
    return post_order(api, body)


def test_a_hong_kong_order_gets_a_receipt_without_tax(api, shop, db):
    _settings(api)
    o = _abroad(api, db, "HK", "HKD", postal_code=None, city="Central", phone="+85291234567")
    pay(api, o)
    worker.drain(db)
    [inv] = _invoices(api, o["number"])
    year = rules.local(utcnow()).year
    assert (inv["number"], inv["document"], inv["einvoice"]) == (
        f"RCT-{year}-000001",
        "receipt",
        False,
    )
    assert (inv["total"], inv["tax"]) == ("200.00", "0.00")
    html = db.read(
        lambda c: c.execute(
            select(Document.html).where(Document.subject == inv["number"])
        ).scalar_one()
    )
    assert "收據 Receipt" in html and "營業稅" not in html


def test_a_cn_orders_fapiao_request_is_checked_and_exported(api, shop, db):
    o = _abroad(api, db, "CN", "CNY", city="上海市", postal_code="200000", phone="+8613812345678")
    n = o["number"]
    bad = api.request(
        "PUT",
        f"/api/v1/orders/{n}/fapiao",
        json={"title": "甲公司", "tax_id": USCC[:-1] + "Q", "email": "ap@example.cn"},
    )
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "fapiao.tax_id"
    ok = api.request(
        "PUT",
        f"/api/v1/orders/{n}/fapiao",
        json={"title": "=甲公司", "tax_id": USCC, "email": "ap@example.cn"},
    )
    assert ok.status_code == 200, ok.text
    assert ok.json() == {
        "buyer_type": "company",
        "title": "=甲公司",
        "tax_id": USCC,
        "email": "ap@example.cn",
    }
    tw = post_order(api, order_body())
    refused = api.request(
        "PUT",
        f"/api/v1/orders/{tw['number']}/fapiao",
        json={"title": "王小明", "email": "a@example.com"},
    )
    assert refused.status_code == 422  # not shipped to mainland China
    r = api.get("/api/v1/fapiao/requests", role="finance")
    assert r.status_code == 200 and r.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert rows[0][:2] == ["订单号", "下单日期"] and len(rows) == 2
    assert rows[1][0] == n and rows[1][3:] == ["200.00", "企业", "'=甲公司", USCC, "ap@example.cn"]
    x = api.get("/api/v1/fapiao/requests", params={"format": "xlsx"}, role="finance")
    sheet = load_workbook(io.BytesIO(x.content)).active
    assert [c.value for c in sheet[2]][6] == USCC
    assert api.get("/api/v1/fapiao/requests", role="warehouse").status_code == 403
    assert api.get("/api/v1/fapiao/requests", params={"format": "pdf"}).status_code == 422
