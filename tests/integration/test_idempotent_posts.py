"""Every POST of the API that creates something honours ``Idempotency-Key`` as order
capture does: the same key and request again answer 200 with the same resource and
``Idempotent-Replayed: true`` (nothing is created again); the same key with another request
is 409 idempotency_conflict; a refused request does not use up its key; two requests with
one key at once make one resource. The list of operations is read from /openapi.json, so a
new creating POST without a recipe here fails."""

from __future__ import annotations

import io
import threading
from collections.abc import Callable
from typing import Any

import pytest
from PIL import Image
from sqlalchemy import func, select

from dingdan.db.invoice_tables import Invoice
from dingdan.db.order_tables import Order, Payment
from dingdan.db.tables import RequestReplay
from dingdan.db.types import utcnow
from dingdan.domain.invoicing import rules
from dingdan.services.jobs import worker
from tests.builders import ADMIN, order_body, pay, post_order, shipped_order
from tests.helpers import location, product, receive

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
ORDER_CAPTURE = "/api/v1/orders"  # its own keys, tests/integration/test_orders_api.py


@pytest.fixture(autouse=True)
def uploads(tmp_path, monkeypatch):
    monkeypatch.setenv("DINGDAN_UPLOAD_DIR", str(tmp_path / "uploads"))


@pytest.fixture
def shop(db):
    product(db, "TEA-001", price="350.00")
    location(db, "TPE")
    location(db, "KHH", priority=1)
    receive(db, "TPE", {"TEA-001": 100})
    return db


def _order(api: Any, **over: Any) -> str:
    return str(post_order(api, order_body(**over))["number"])


def _paid(api: Any) -> str:
    o = post_order(api, order_body())
    pay(api, o)
    return str(o["number"])


def _dispute(api: Any) -> str:
    r = api.post(f"/api/v1/orders/{_order(api)}/disputes", json={"type": "lost"})
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def _authorization(api: Any) -> str:
    n = _order(api, payment_method="card")
    r = api.post(f"/api/v1/orders/{n}/authorizations", json={"amount": "760.00"}, role="finance")
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def _invoice(api: Any) -> str:
    """An issued e-invoice of a paid order (760.00)."""
    body = {"seller_name": "茶行", "seller_ubn": "04595257", "einvoice": True}
    assert api.request("PUT", "/api/v1/settings/invoicing", json=body).status_code == 200
    track = {
        "period": rules.period_of(utcnow()),
        "prefix": "AB",
        "start": "10000000",
        "end": "10000049",
    }
    assert api.post("/api/v1/einvoice/tracks", json=track, role="finance").status_code == 201
    pay(api, post_order(api, order_body()))
    worker.drain(api.db)
    return str(api.db.read(lambda c: c.execute(select(Invoice.number)).scalar_one()))


def _supplier(api: Any) -> str:
    r = api.post(
        "/api/v1/suppliers",
        json={"code": "S-1", "name": "茶園", "lead_time_days": 5, "currency": "TWD"},
    )
    assert r.status_code == 201, r.text
    return "S-1"


def _sent_po(api: Any) -> str:
    r = api.post(
        "/api/v1/purchase-orders",
        json={
            "supplier": _supplier(api),
            "location": "TPE",
            "lines": [{"sku": "TEA-001", "quantity": 10, "unit_cost": "90.00"}],
        },
    )
    assert r.status_code == 201, r.text
    assert api.post(f"/api/v1/purchase-orders/{r.json()['id']}/send").status_code == 200
    return str(r.json()["id"])


COD_REPORT = "廠商交易編號,代收金額\nX1,100\n".encode()


def _cvs_order(api: Any) -> str:
    """An order to a convenience store, with ECPay logistics played by the local stand-in
    (left running: a daemon thread)."""
    from tests.ecpay_logistics_fake import FakeEcpayLogistics

    fake = FakeEcpayLogistics().start()
    state = api.client.app.state
    state.settings = state.settings.model_copy(
        update={
            "ecpay_logistics_url": fake.url,
            "ecpay_logistics_sender_name": "茶行",
            "ecpay_logistics_sender_phone": "0987654321",
        }
    )
    store = {"type": "cvs_pickup", "brand": "OK", "store_id": "1328", "store_name": "南港"}
    return _order(api, payment_method="cod", delivery=store)


def _to_reorder(api: Any) -> dict[str, Any]:
    r = api.patch(
        "/api/v1/products/TEA-001", json={"supplier": _supplier(api), "reorder_point": 500}
    )
    assert r.status_code == 200, r.text
    return {"location": "TPE"}


def _driver(api: Any) -> str:
    from dingdan.services.access import accounts

    accounts.create_user(
        api.db, ADMIN, email="driver@example.com", role="driver", password="long passphrase 1"
    )
    return "driver@example.com"


Recipe = Callable[[Any], tuple[str, dict[str, Any], dict[str, Any]]]
# path template -> (url, the request's keyword arguments, another request to the same url)
RECIPES: dict[str, Recipe] = {
    "/api/v1/tokens": lambda api: (
        "/api/v1/tokens",
        {"json": {"name": "shop-a", "role": "viewer"}},
        {"json": {"name": "shop-b", "role": "viewer"}},
    ),
    "/api/v1/users": lambda api: (
        "/api/v1/users",
        {"json": {"email": "a@example.com", "role": "viewer", "password": "long passphrase 1"}},
        {"json": {"email": "b@example.com", "role": "viewer", "password": "long passphrase 1"}},
    ),
    "/api/v1/orders/{number}/disputes": lambda api: (
        f"/api/v1/orders/{_order(api)}/disputes",
        {"json": {"type": "lost"}},
        {"json": {"type": "late"}},
    ),
    "/api/v1/disputes/{dispute_id}/messages": lambda api: (
        f"/api/v1/disputes/{_dispute(api)}/messages",
        {"json": {"direction": "note", "body": "called the carrier"}},
        {"json": {"direction": "note", "body": "called again"}},
    ),
    "/api/v1/disputes/{dispute_id}/evidence": lambda api: (
        f"/api/v1/disputes/{_dispute(api)}/evidence",
        {"files": {"file": ("photo.png", PNG, "image/png")}, "data": {"note": "box"}},
        {"files": {"file": ("photo.png", PNG + b"1", "image/png")}, "data": {"note": "box"}},
    ),
    "/api/v1/orders/{number}/returns": lambda api: (
        f"/api/v1/orders/{shipped_order(api)}/returns",
        {"json": {"lines": [{"sku": "TEA-001", "quantity": 1, "reason": "defective"}]}},
        {"json": {"lines": [{"sku": "TEA-001", "quantity": 2, "reason": "defective"}]}},
    ),
    "/api/v1/products": lambda api: (
        "/api/v1/products",
        {"json": {"sku": "NEW-1", "name": "烏龍", "price": "120.00", "currency": "TWD"}},
        {"json": {"sku": "NEW-2", "name": "烏龍", "price": "120.00", "currency": "TWD"}},
    ),
    "/api/v1/locations": lambda api: (
        "/api/v1/locations",
        {"json": {"code": "TNN", "name": "台南", "country": "TW"}},
        {"json": {"code": "TXG", "name": "台中", "country": "TW"}},
    ),
    "/api/v1/channels": lambda api: (
        "/api/v1/channels",
        {"json": {"code": "shopee", "name": "蝦皮購物"}},
        {"json": {"code": "momo", "name": "momo"}},
    ),
    "/api/v1/carriers": lambda api: (
        "/api/v1/carriers",
        {"json": {"code": "pigeon", "name": "Pigeon Post"}},
        {"json": {"code": "crow", "name": "Crow Post"}},
    ),
    "/api/v1/orders/{number}/pack": lambda api: (
        f"/api/v1/orders/{_paid(api)}/pack",
        {"json": {"location": "TPE", "scans": ["TEA-001", "TEA-001"]}},
        {"json": {"location": "TPE", "scans": ["TEA-001"]}},
    ),
    "/api/v1/inventory/receipts": lambda api: (
        "/api/v1/inventory/receipts",
        {"json": {"location": "TPE", "lines": [{"sku": "TEA-001", "quantity": 5}]}},
        {"json": {"location": "TPE", "lines": [{"sku": "TEA-001", "quantity": 6}]}},
    ),
    "/api/v1/inventory/adjustments": lambda api: (
        "/api/v1/inventory/adjustments",
        {"json": {"location": "TPE", "sku": "TEA-001", "delta": 3, "reason": "count"}},
        {"json": {"location": "TPE", "sku": "TEA-001", "delta": 4, "reason": "count"}},
    ),
    "/api/v1/inventory/transfers": lambda api: (
        "/api/v1/inventory/transfers",
        {
            "json": {
                "from_location": "TPE",
                "to_location": "KHH",
                "lines": [{"sku": "TEA-001", "quantity": 2}],
            }
        },
        {
            "json": {
                "from_location": "TPE",
                "to_location": "KHH",
                "lines": [{"sku": "TEA-001", "quantity": 3}],
            }
        },
    ),
    "/api/v1/orders/{number}/notes": lambda api: (
        f"/api/v1/orders/{_order(api)}/notes",
        {"json": {"note": "gift wrap"}},
        {"json": {"note": "no gift wrap"}},
    ),
    "/api/v1/orders/{number}/payments": lambda api: (
        f"/api/v1/orders/{_order(api)}/payments",
        {"json": {"amount": "100.00"}},
        {"json": {"amount": "200.00"}},
    ),
    "/api/v1/orders/{number}/refunds": lambda api: (
        f"/api/v1/orders/{_paid(api)}/refunds",
        {"json": {"amount": "60.00", "reason": "late"}},
        {"json": {"amount": "50.00", "reason": "late"}},
    ),
    "/api/v1/orders/{number}/shipments": lambda api: (
        f"/api/v1/orders/{_paid(api)}/shipments",
        {"json": {"carrier": "tcat", "lines": [{"sku": "TEA-001", "quantity": 1}]}},
        {"json": {"carrier": "tcat", "lines": [{"sku": "TEA-001", "quantity": 2}]}},
    ),
    "/api/v1/orders/{number}/authorizations": lambda api: (
        f"/api/v1/orders/{_order(api, payment_method='card')}/authorizations",
        {"json": {"amount": "100.00"}},
        {"json": {"amount": "200.00"}},
    ),
    "/api/v1/payments/{payment_id}/capture": lambda api: (
        f"/api/v1/payments/{_authorization(api)}/capture",
        {"json": {"amount": "700.00"}},
        {"json": {}},
    ),
    "/api/v1/webhooks": lambda api: (
        "/api/v1/webhooks",
        {"json": {"url": "https://example.com/a", "events": ["*"]}},
        {"json": {"url": "https://example.com/b", "events": ["*"]}},
    ),
    "/api/v1/invoices/{number}/allowances": lambda api: (
        f"/api/v1/invoices/{_invoice(api)}/allowances",
        {"json": {"amount": "100", "reason": "折讓"}},
        {"json": {"amount": "200", "reason": "折讓"}},
    ),
    "/api/v1/einvoice/tracks": lambda api: (
        "/api/v1/einvoice/tracks",
        {"json": {"period": "2026-11", "prefix": "AB", "start": "10000000", "end": "10000049"}},
        {"json": {"period": "2026-11", "prefix": "AC", "start": "10000000", "end": "10000049"}},
    ),
    "/api/v1/einvoice/tracks/import": lambda api: (
        "/api/v1/einvoice/tracks/import",
        {"json": {"csv": "期別,字軌,起號,迄號\n11511,AB,10000000,10000049\n"}},
        {"json": {"csv": "期別,字軌,起號,迄號\n11511,AC,10000000,10000049\n"}},
    ),
    "/api/v1/label-ranges": lambda api: (
        "/api/v1/label-ranges",
        {"json": {"carrier": "tcat", "start": "000000001002", "end": "000000001993"}},
        {"json": {"carrier": "hct", "start": "8800000001", "end": "8800000099"}},
    ),
    "/api/v1/suppliers": lambda api: (
        "/api/v1/suppliers",
        {"json": {"code": "ALISHAN", "name": "阿里山", "lead_time_days": 7, "currency": "TWD"}},
        {"json": {"code": "YUSHAN", "name": "玉山", "lead_time_days": 7, "currency": "TWD"}},
    ),
    "/api/v1/purchase-orders": lambda api: (
        "/api/v1/purchase-orders",
        {
            "json": {
                "supplier": _supplier(api),
                "location": "TPE",
                "lines": [{"sku": "TEA-001", "quantity": 10, "unit_cost": "90.00"}],
            }
        },
        {
            "json": {
                "supplier": "S-1",
                "location": "TPE",
                "lines": [{"sku": "TEA-001", "quantity": 11, "unit_cost": "90.00"}],
            }
        },
    ),
    "/api/v1/purchase-orders/{po_id}/receipts": lambda api: (
        f"/api/v1/purchase-orders/{_sent_po(api)}/receipts",
        {"json": {"lines": [{"sku": "TEA-001", "quantity": 4}]}},
        {"json": {"lines": [{"sku": "TEA-001", "quantity": 5}]}},
    ),
    "/api/v1/replenishment/purchase-orders": lambda api: (
        "/api/v1/replenishment/purchase-orders",
        {"json": _to_reorder(api)},
        {"json": {"location": "KHH"}},
    ),
    "/api/v1/orders/{number}/cvs-shipments": lambda api: (
        f"/api/v1/orders/{_cvs_order(api)}/cvs-shipments",
        {"json": {}},
        {"json": {"collect": False}},
    ),
    "/api/v1/cod-payouts": lambda api: (
        "/api/v1/cod-payouts",
        {"files": {"file": ("payout.csv", COD_REPORT, "text/csv")}},
        {"files": {"file": ("payout.csv", COD_REPORT + b"X2,9\n", "text/csv")}},
    ),
    "/api/v1/delivery-runs": lambda api: (
        "/api/v1/delivery-runs",
        {"json": {"driver": _driver(api), "date": "2026-12-08"}},
        {"json": {"driver": "driver@example.com", "date": "2026-12-09"}},
    ),
    "/api/v1/cycle-counts": lambda api: (
        "/api/v1/cycle-counts",
        {"json": {"location": "TPE"}},
        {"json": {"location": "TPE", "skus": ["TEA-001"]}},
    ),
    "/api/v1/cod-remittances": lambda api: (
        "/api/v1/cod-remittances",
        {
            "json": {
                "carrier": "tcat",
                "reference": "R-1",
                "orders": [{"number": _order(api, payment_method="cod"), "amount": "760.00"}],
            }
        },
        {"json": {"carrier": "tcat", "reference": "R-2", "orders": []}},
    ),
    "/api/v1/styles": lambda api: (
        "/api/v1/styles",
        {"json": _style_body("TEE")},
        {"json": _style_body("POLO")},
    ),
    "/api/v1/styles/{code}/photos": lambda api: (
        f"/api/v1/styles/{_style(api)}/photos",
        {"files": {"file": ("a.png", _image((0, 0, 255)), "image/png")}},
        {"files": {"file": ("a.png", _image((255, 0, 0)), "image/png")}},
    ),
    "/api/v1/products/{sku}/photos": lambda api: (
        "/api/v1/products/TEA-001/photos",
        {"files": {"file": ("a.png", _image((0, 0, 255)), "image/png")}},
        {"files": {"file": ("a.png", _image((255, 0, 0)), "image/png")}},
    ),
    "/api/v1/promotions": lambda api: (
        "/api/v1/promotions",
        {"json": {"name": "週年慶", "starts_on": "2027-03-01", "ends_on": "2027-03-03"}},
        {"json": {"name": "週年慶", "starts_on": "2027-03-01", "ends_on": "2027-03-04"}},
    ),
    "/api/v1/risk/blocklist": lambda api: (
        "/api/v1/risk/blocklist",
        {"json": {"kind": "email", "value": "fraud@example.com"}},
        {"json": {"kind": "phone", "value": "+886912000111"}},
    ),
}


def creating_posts(app: Any) -> list[str]:
    return sorted(
        path
        for path, ops in app.openapi()["paths"].items()
        if "post" in ops and "201" in ops["post"]["responses"] and path != ORDER_CAPTURE
    )


def _image(colour: tuple[int, int, int]) -> bytes:
    """A small real PNG: photos are decoded and resized, not kept as sent."""
    out = io.BytesIO()
    Image.new("RGB", (40, 40), colour).save(out, format="PNG")
    return out.getvalue()


def _style_body(code: str) -> dict[str, Any]:
    return {
        "code": code,
        "name": "棉質T恤",
        "options": ["尺寸"],
        "price": "390.00",
        "currency": "TWD",
        "variants": [{"sku": f"{code}-M", "options": {"尺寸": "M"}}],
    }


def _style(api: Any) -> str:
    r = api.post("/api/v1/styles", json=_style_body("CAP"))
    assert r.status_code == 201, r.text
    return "CAP"


def test_every_creating_post_in_openapi_has_a_replay_recipe(app):
    assert creating_posts(app) == sorted(RECIPES)


# Run as a finance token where payments need it; admin otherwise.
FINANCE = ("payments", "refunds", "authorizations", "capture", "cod-remittances", "einvoice")


def _role(path: str) -> str:
    return "finance" if any(p in path for p in FINANCE) else "admin"


@pytest.mark.parametrize("path", sorted(RECIPES))
def test_a_replayed_post_answers_the_same_resource_and_creates_nothing(api, shop, path):
    url, request, other = RECIPES[path](api)
    role = _role(path)
    key = {"Idempotency-Key": f"k-{path}"}
    first = api.post(url, role=role, headers=key, **request)
    assert first.status_code == 201, first.text
    assert "idempotent-replayed" not in first.headers
    again = api.post(url, role=role, headers=key, **request)
    assert again.status_code == 200, again.text
    assert again.headers["idempotent-replayed"] == "true"
    if path == "/api/v1/tokens":  # its secret is shown once and kept nowhere
        assert again.json() == first.json() | {"token": ""}
    elif path == "/api/v1/webhooks":  # so is a webhook's signing secret
        assert first.json()["secret"].startswith("whsec_")
        assert again.json() == first.json() | {"secret": ""}
        kept = api.db.read(lambda c: c.execute(select(RequestReplay.body)).scalars().all())
        assert kept and not any(b"whsec_" in (b or b"") for b in kept)
        rotated = f"/api/v1/webhooks/{first.json()['id']}/rotate-secret"
        answer = api.post(rotated, headers={"Idempotency-Key": "rotate-1"})
        assert answer.status_code == 200 and answer.json()["secret"].startswith("whsec_")
        assert api.post(rotated, headers={"Idempotency-Key": "rotate-1"}).json()["secret"] == ""
    else:
        assert again.json() == first.json()
    # The same key with another request: 409, nothing done.
    conflict = api.post(url, role=role, headers=key, **other)
    assert conflict.status_code == 409, conflict.text
    assert conflict.json()["code"] == "idempotency_conflict"
    # Another principal's key is its own.
    if role == "admin":
        mine = api.post(url, role="manager", headers=key, **other)
        assert "idempotent-replayed" not in mine.headers
        assert mine.status_code < 500 and mine.json().get("code") != "idempotency_conflict"


def _money(db, number):
    return tuple(
        db.read(
            lambda c: c.execute(
                select(Order.paid_minor, Order.refunded_minor).where(Order.number == number)
            ).one()
        )
    )


def _count(db, kind):
    return db.read(
        lambda c: c.execute(
            select(func.count()).select_from(Payment).where(Payment.kind == kind)
        ).scalar_one()
    )


def test_a_refund_sent_twice_with_one_key_refunds_once(api, shop, db):
    n = _paid(api)
    key = {"Idempotency-Key": "refund-1"}
    body = {"amount": "100.00", "reason": "late"}
    a = api.post(f"/api/v1/orders/{n}/refunds", json=body, headers=key, role="finance")
    b = api.post(f"/api/v1/orders/{n}/refunds", json=body, headers=key, role="finance")
    assert (a.status_code, b.status_code) == (201, 200)
    assert a.json()["id"] == b.json()["id"]
    assert _money(db, n) == (76000, 10000) and _count(db, "refund") == 1


def test_a_refused_request_does_not_use_up_its_key(api, shop, db):
    n = _order(api)
    key = {"Idempotency-Key": "pay-1"}
    too_much = api.post(
        f"/api/v1/orders/{n}/payments", json={"amount": "9999.00"}, headers=key, role="finance"
    )
    assert too_much.status_code == 422
    ok = api.post(
        f"/api/v1/orders/{n}/payments", json={"amount": "9999.00"}, headers=key, role="finance"
    )
    assert ok.status_code == 422  # the same refusal, not a replay of it
    ok = api.post(
        f"/api/v1/orders/{n}/payments", json={"amount": "100.00"}, headers=key, role="finance"
    )
    assert ok.status_code == 201, ok.text


def test_a_request_that_ended_without_an_answer_is_not_run_again(api, shop, db, monkeypatch):
    from dingdan.services.payments import transactions

    n = _order(api)
    key = {"Idempotency-Key": "pay-crash"}

    def crash(*args, **kwargs):
        raise RuntimeError("the process died after the provider answered")

    monkeypatch.setattr(transactions, "_record", crash)
    r = api.post(
        f"/api/v1/orders/{n}/payments", json={"amount": "100.00"}, headers=key, role="finance"
    )
    assert r.status_code == 500
    monkeypatch.undo()
    again = api.post(
        f"/api/v1/orders/{n}/payments", json={"amount": "100.00"}, headers=key, role="finance"
    )
    assert again.status_code == 409 and again.json()["code"] == "idempotency_conflict"
    assert _count(db, "payment") == 0  # the worker records the pending intent, once


def test_an_over_long_key_is_422_on_the_header(api, shop):
    r = api.post(
        "/api/v1/inventory/receipts",
        headers={"Idempotency-Key": "k" * 201},
        json={"location": "TPE", "lines": [{"sku": "TEA-001", "quantity": 1}]},
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "Idempotency-Key"


def test_two_requests_with_one_key_at_once_make_one_payment(api, shop, db):
    n = _order(api)
    api.token("finance")
    answers: list[Any] = []
    barrier = threading.Barrier(6)

    def send() -> None:
        barrier.wait()
        answers.append(
            api.post(
                f"/api/v1/orders/{n}/payments",
                json={"amount": "100.00"},
                headers={"Idempotency-Key": "same"},
                role="finance",
            )
        )

    threads = [threading.Thread(target=send) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    codes = sorted(a.status_code for a in answers)
    assert len(codes) == 6 and codes.count(201) == 1, codes
    assert set(codes) <= {200, 201, 409}, codes
    assert _count(db, "payment") == 1 and _money(db, n) == (10000, 0)
    ids = {a.json()["id"] for a in answers if a.status_code in (200, 201)}
    assert len(ids) == 1
