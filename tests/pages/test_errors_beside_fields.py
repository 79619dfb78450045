"""Issue 19, point 24: on every form of the back office (and the customer's return form of the
tracking page) a refused value comes back with the page (422), the message in the reader's
language beside the field it is about (aria-invalid, the field's error element), what was
typed still in the form, and nothing changed in the database."""

from __future__ import annotations

import html as html_lib
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import select

from dingdan.db import all_tables  # noqa: F401 - every table in the metadata
from dingdan.db.tables import Base
from dingdan.services.access import accounts
from dingdan.services.after_sales import disputes, returns
from dingdan.services.fulfilment import shipments
from dingdan.services.payments import transactions
from tests.builders import ADMIN
from tests.pages.conftest import PASSWORD, csrf_of

ZH = {"Accept-Language": "zh-TW"}
# What a page may write while it answers a refusal: who looked, the session, counters.
NOT_STATE = {"audit_log", "sessions", "sign_in_throttle", "request_replays", "idempotency_keys"}
CJK = re.compile(r"[\u4e00-\u9fff]")


def _state(db: Any) -> dict[str, list[tuple[str, ...]]]:
    """Every row of every table that holds the shop's state, as text."""

    def read(conn: Any) -> dict[str, list[tuple[str, ...]]]:
        return {
            name: sorted(tuple(map(str, row)) for row in conn.execute(select(table)))
            for name, table in Base.metadata.tables.items()
            if name not in NOT_STATE
        }

    return db.read(read)


def _shipped(db: Any, number: str) -> str:
    transactions.record_payment(db, ADMIN, number, {"amount": "760.00"})
    body = {"carrier": "hct", "tracking_number": "HCT00001"}
    s = shipments.create_shipment(db, ADMIN, number, body)
    return str(s["id"])


def _return(db: Any, number: str, step: str = "requested") -> str:
    _shipped(db, number)
    body = {"lines": [{"sku": "TEA-001", "quantity": 1, "reason": "defective"}]}
    rid = str(returns.request_return(db, ADMIN, number, body)["id"])
    if step in ("approved", "received"):
        returns.approve_return(db, ADMIN, rid)
    if step == "received":
        lines = [{"sku": "TEA-001", "quantity": 1, "condition": "resellable"}]
        returns.receive_return(db, ADMIN, rid, {"location": "TPE", "lines": lines})
    return rid


def _dispute(db: Any, number: str) -> str:
    return str(disputes.open_dispute(db, ADMIN, number, {"type": "lost"})["id"])


def _user_id(db: Any, email: str) -> str:
    return str(next(u["id"] for u in accounts.list_users(db) if u["email"] == email))


@dataclass
class Case:
    """One form: who posts it, where (built from the shop's order), what, and which field's
    error element (``element``) must say the message; ``typed`` must be in the answer."""

    role: str | None
    url: Callable[[Any, str], str]
    data: dict[str, str]
    element: str | Callable[[Any, str], str]
    typed: str | None = None


CASES = {
    "order cancel": Case(
        "customer_service",
        lambda db, n: f"/orders/{n}/cancel",
        {"reason": "   "},
        "cancel-reason",
    ),
    "cancel a line": Case(
        "customer_service",
        lambda db, n: f"/orders/{n}/lines/cancel",
        {"sku": "TEA-001", "quantity": "兩個", "reason": "客人只要一盒"},
        "cl-qty",
        "客人只要一盒",
    ),
    "delivery exception": Case(
        "warehouse",
        lambda db, n: f"/shipments/{_shipped(db, n)}/exception",
        {"order": "", "kind": "lost", "note": "司機說\x1b找不到"},
        lambda db, n: f"ex-note-{shipments_of(db, n)}",
        "找不到",
    ),
    "staff return request": Case(
        "customer_service",
        lambda db, n: (_shipped(db, n), f"/orders/{n}/returns")[1],
        {"sku": "TEA-001", "quantity-0": "9", "reason-0": "defective", "note": "盒子壓壞了"},
        "rq-qty-0",
        "盒子壓壞了",
    ),
    "return reject": Case(
        "customer_service",
        lambda db, n: f"/returns/{_return(db, n)}/reject",
        {"reason": "超過期限不受理" * 80},  # more than the 500 characters a reason may have
        "reject-reason",
        "超過期限不受理" * 80,
    ),
    "return receive": Case(
        "warehouse",
        lambda db, n: f"/returns/{_return(db, n, 'approved')}/receive",
        {"location": "TPE", "sku": "TEA-001", "resellable-0": "3", "damaged-0": "0"},
        "resellable-0",
        'value="3"',
    ),
    "return refund": Case(
        "finance",
        lambda db, n: f"/returns/{_return(db, n, 'received')}/refund",
        {"amount": "三百", "to": "store_credit", "reason": "退到購物金"},
        "rr-amount",
        "退到購物金",
    ),
    "return exchange": Case(
        "customer_service",
        lambda db, n: f"/returns/{_return(db, n, 'received')}/exchange",
        {"sku": "MUG-001", "quantity": "一個"},
        "ex-qty",
        'value="一個"',
    ),
    "open dispute": Case(
        "customer_service",
        lambda db, n: f"/orders/{n}/disputes/new",
        {"type": "lost", "summary": "客人說\x1b沒收到", "owner": "", "due_date": ""},
        "d-summary",
        "沒收到",
    ),
    "dispute message": Case(
        "customer_service",
        lambda db, n: f"/disputes/{_dispute(db, n)}/messages",
        {"direction": "inbound", "body": "客人來電\x1b詢問進度"},
        "msg-body",
        "詢問進度",
    ),
    "dispute reject": Case(
        "customer_service",
        lambda db, n: f"/disputes/{_dispute(db, n)}/resolve",
        {"resolution": "reject", "note": "查無\x1b此事"},
        "rj-note",
        "此事",
    ),
    "stock transfer": Case(
        "warehouse",
        lambda db, n: "/inventory/transfer",
        {
            "from_location": "TPE",
            "to_location": "TXG",
            "sku": "TEA-001",
            "quantity": "0",
            "reference": "調撥-台中",
        },
        "t-qty",
        'required value="0"',
    ),
    "new location": Case(
        "admin",
        lambda db, n: "/settings/locations",
        {"code": "KHH", "name": "高雄倉", "country": "TW", "priority": "第一"},
        "loc-priority",
        "高雄倉",
    ),
    "stage limits": Case(
        "admin",
        lambda db, n: "/settings/stage-limits",
        {
            "payment_hours": "三天",
            "payment_owner": "finance",
            "picking_hours": "24",
            "picking_owner": "warehouse",
        },
        "payment_hours",
        'value="三天"',
    ),
    "new user": Case(
        "admin",
        lambda db, n: "/settings/users",
        {"email": "不是信箱", "name": "新同事", "role": "finance", "password": "a-long-password"},
        "u-email",
        "新同事",
    ),
    "user password": Case(
        "admin",
        lambda db, n: f"/settings/users/{_user_id(db, 'viewer@example.com')}",
        {"do": "password", "new_password": "短"},
        lambda db, n: f"new-password-{_user_id(db, 'viewer@example.com')}",
    ),
    "own password": Case(
        "viewer",
        lambda db, n: "/account/password",
        {"current_password": PASSWORD, "new_password": "短"},
        "new_password",
    ),
    "product form": Case(
        "admin",
        lambda db, n: "/products",
        {
            "sku": "TEA-009",
            "name": "東方美人茶",
            "price": "900",
            "currency": "TWD",
            "weight_grams": "半斤",
            "tax_class": "standard",
            "active": "1",
        },
        "weight_grams",
        "東方美人茶",
    ),
    "sales channel": Case(
        "admin",
        lambda db, n: "/settings/channels",
        {"code": "shopee", "name": "\u200b\u200b"},
        "ch-name",
        'value="shopee"',
    ),
    "tax rate": Case(
        "admin",
        lambda db, n: "/settings/taxes",
        {"country": "TW", "tax_class": "standard", "rate": "十", "prices_include_tax": "1"},
        "tx-rate",
        'value="十"',
    ),
    "carrier": Case(
        "admin",
        lambda db, n: "/settings/carriers",
        {"code": "kerry_tw", "name": "嘉里大榮", "tracking_format": "nope"},
        "cr-new-format",
        "嘉里大榮",
    ),
    "tracking page return": Case(
        None,
        lambda db, n: (_shipped(db, n), "/track/{token}/returns")[1],
        {"sku": "TEA-001", "quantity-0": "9", "reason-0": "damaged", "note": "外盒破損"},
        "tr-qty-0",
        "外盒破損",
    ),
}


def shipments_of(db: Any, number: str) -> str:
    from dingdan.services.orders import queries

    return str(queries.shipments_of(db, number)["items"][0]["id"])


@pytest.mark.parametrize("name", list(CASES))
def test_a_refused_value_is_said_beside_its_field_in_chinese_and_kept(name, shop, browser, db):
    case = CASES[name]
    order = shop["order"]
    number = order["number"]
    url = case.url(db, number).replace("{token}", str(order.get("tracking_token")))
    data = {**case.data, **({"order": number} if "order" in case.data else {})}
    b = browser(case.role)
    if case.role is None:  # the customer: the tracking page's own session and token
        b.csrf = csrf_of(b.get(url.removesuffix("/returns"), headers=ZH).text)
    before = _state(db)
    r = b.post(url, data, headers=ZH)
    assert r.status_code == 422, (r.status_code, r.text[:300])
    element = case.element if isinstance(case.element, str) else case.element(db, number)
    said = re.search(rf'<p class="field-error" id="{element}-error"[^>]*>([^<]*)</p>', r.text)
    assert said, f"no error beside {element}"
    assert f'aria-invalid="true" aria-describedby="{element}-error"' in r.text
    assert CJK.search(html_lib.unescape(said.group(1))), said.group(1)
    if case.typed:
        assert case.typed in html_lib.unescape(r.text)
    assert _state(db) == before


def test_a_refusal_of_the_order_not_of_a_field_is_said_at_the_top_in_chinese(shop, browser, db):
    """Approving a return twice breaks a rule of the return, not a field: the message is at
    the top of the page it goes back to, in the reader's language."""
    rid = _return(db, shop["order"]["number"], "approved")
    cs = browser("customer_service")
    r = cs.post(f"/returns/{rid}/approve", {}, headers=ZH)
    assert r.status_code == 303
    page = cs.get(r.headers["location"], headers=ZH).text
    box = re.search(r"<p class=\"flash error\"[^>]*>(.*?)</p>", page, re.S)
    assert box and CJK.search(box.group(1)) and "Invalid" not in box.group(1)


def test_a_date_filter_that_is_no_date_is_said_beside_it_in_chinese(shop, browser):
    r = browser("admin").get("/audit?date_from=2026-02-31&actor=lin", headers=ZH)
    assert r.status_code == 422
    said = re.search(r'<p class="field-error" id="audit-from-error"[^>]*>([^<]*)</p>', r.text)
    assert said and CJK.search(said.group(1))
    assert 'value="2026-02-31" aria-invalid="true" aria-describedby="audit-from-error"' in r.text
