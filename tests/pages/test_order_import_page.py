"""Importing orders in the back office (manager, admin): upload, a preview of every row with
its errors, then confirm; all or nothing unless bad rows are to be left out."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import func, select

from dingdan.db.order_tables import Order

TOKEN = re.compile(r'name="token" value="([^"]+)"')
HEADER = (
    "channel,external_id,created_at,currency,customer_email,customer_phone,customer_name,"
    "country,sku,quantity,unit_price,city,postal_code,line1\n"
)


def row(ext: str, sku: str = "TEA-001", qty: str = "1") -> str:
    return (
        f"web,{ext},2024-05-01 12:00,TWD,{ext.lower()}@example.com,0912345678,王小明,TW,"
        f"{sku},{qty},350,台北市,100,中正路1號\n"
    )


@pytest.fixture(autouse=True)
def upload_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("DINGDAN_UPLOAD_DIR", str(tmp_path / "uploads"))


def upload(b: Any, text: str, **options: str) -> Any:
    return b.post(
        "/orders/import",
        options,
        files={"file": ("orders.csv", text.encode("utf-8"), "text/csv")},
    )


def orders(db: Any) -> int:
    return int(db.read(lambda c: c.execute(select(func.count()).select_from(Order)).scalar()))


def test_only_managers_and_admins_import_orders(shop, browser):
    assert browser("customer_service").get("/orders/import").status_code == 403
    assert browser("warehouse").get("/orders/import").status_code == 403
    page = browser("manager").get("/orders/import")
    assert page.status_code == 200 and 'enctype="multipart/form-data"' in page.text


def test_preview_then_confirm_imports_past_orders(shop, browser, db):
    b = browser("manager")
    before = orders(db)
    r = upload(b, HEADER + row("P-1") + row("P-1", "MUG-001") + row("P-2"), historical="1")
    assert r.status_code == 200, r.text
    assert r.text.count('class="low"') == 0 and "P-2" in r.text
    assert orders(db) == before  # a preview writes nothing
    token = TOKEN.search(r.text)
    assert token
    done = b.post("/orders/import/confirm", {"token": token.group(1)})
    assert done.status_code == 303 and done.headers["location"] == "/orders"
    assert orders(db) == before + 2
    assert "Imported 2 orders from orders.csv" in b.get("/orders").text
    stmt = select(Order.number).where(Order.external_id == "P-1")
    number = db.read(lambda c: c.execute(stmt).scalar_one())
    detail = b.get(f"/orders/{number}")
    assert detail.status_code == 200 and "MUG-001" in detail.text


def test_a_bad_row_is_shown_and_nothing_can_be_confirmed(shop, browser, db):
    b = browser("admin")
    before = orders(db)
    r = upload(b, HEADER + row("Q-1") + row("Q-2", "NOPE") + row("Q-3", qty="x"))
    assert r.status_code == 422
    assert "no product with SKU &#39;NOPE&#39;" in r.text or "no product with SKU 'NOPE'" in r.text
    assert r.text.count('class="low"') == 2
    assert 'id="confirm-form"' not in r.text
    skip = upload(b, HEADER + row("Q-1") + row("Q-2", "NOPE"), skip_bad="1")
    assert skip.status_code == 200 and 'id="confirm-form"' in skip.text
    token = TOKEN.search(skip.text)
    assert token
    assert b.post("/orders/import/confirm", {"token": token.group(1)}).status_code == 303
    assert orders(db) == before + 1
