"""Disputes through HTTP: the queue, messages, evidence files, and resolutions that refund or
reship."""

from __future__ import annotations

import hashlib

import pytest

from dingdan.services.inventory import stock
from tests.builders import RETURNS_SHOP, shipped_order

stocked = RETURNS_SHOP.fixture()

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n" + b"0" * 32


@pytest.fixture(autouse=True)
def uploads(tmp_path, monkeypatch):
    monkeypatch.setenv("DINGDAN_UPLOAD_DIR", str(tmp_path / "uploads"))
    return tmp_path / "uploads"


def open_dispute(api, n, **body):
    r = api.post(
        f"/api/v1/orders/{n}/disputes", json={"type": "damaged", **body}, role="customer_service"
    )
    assert r.status_code == 201, r.text
    return r.json()


def test_a_dispute_is_opened_with_an_owner_and_a_due_date_and_listed(api, stocked):  # noqa: F811
    n = shipped_order(api)
    d = open_dispute(api, n, owner="mei@example.com", due_date="2030-01-31", summary="壺破了")
    assert d["status"] == "open" and d["order"] == n and d["type"] == "damaged"
    assert d["owner"] == "mei@example.com" and d["due_date"] == "2030-01-31"
    assert d["summary"] == "壺破了" and d["messages"] == [] and d["evidence"] == []
    late = open_dispute(api, n, due_date="2020-01-01")
    assert late["overdue"] is True and late["owner"] is not None
    items = api.get("/api/v1/disputes").json()["items"]
    assert [x["id"] for x in items] == [late["id"], d["id"]]
    mine = api.get("/api/v1/disputes?owner=mei@example.com").json()["items"]
    assert [x["id"] for x in mine] == [d["id"]]
    assert api.get("/api/v1/disputes?status=nope").status_code == 422
    bad = api.post(f"/api/v1/orders/{n}/disputes", json={"type": "bored"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "type"
    bad = api.post(f"/api/v1/orders/{n}/disputes", json={"type": "lost", "due_date": "soon"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "due_date"
    assert api.post("/api/v1/orders/DD999999/disputes", json={"type": "lost"}).status_code == 404
    assert (
        api.post(
            f"/api/v1/orders/{n}/disputes", json={"type": "lost"}, role="warehouse"
        ).status_code
        == 403
    )


def test_messages_are_logged_with_their_direction(api, stocked):  # noqa: F811
    n = shipped_order(api)
    d = open_dispute(api, n)
    for direction, body in (
        ("inbound", "收到時已破損"),
        ("outbound", "請提供照片"),
        ("note", "check the packer"),
    ):
        r = api.post(
            f"/api/v1/disputes/{d['id']}/messages",
            json={"direction": direction, "body": body},
            role="customer_service",
        )
        assert r.status_code == 201, r.text
    got = api.get(f"/api/v1/disputes/{d['id']}").json()["messages"]
    assert [(m["direction"], m["body"]) for m in got][0] == ("inbound", "收到時已破損")
    assert len(got) == 3
    bad = api.post(f"/api/v1/disputes/{d['id']}/messages", json={"direction": "x", "body": "y"})
    assert bad.status_code == 422


def test_evidence_is_checked_stored_with_a_checksum_and_served_to_staff(
    api, stocked, uploads, monkeypatch
):  # noqa: F811
    n = shipped_order(api)
    did = open_dispute(api, n)["id"]
    url = f"/api/v1/disputes/{did}/evidence"
    r = api.post(
        url,
        files={"file": ("photo.png", PNG, "image/png")},
        data={"note": "box"},
        role="customer_service",
    )
    assert r.status_code == 201, r.text
    ev = r.json()
    assert ev["content_type"] == "image/png" and ev["sha256"] == hashlib.sha256(PNG).hexdigest()
    assert ev["size"] == len(PNG) and ev["note"] == "box"
    assert len(list(uploads.rglob("*.png"))) == 1
    got = api.get(f"{url}/{ev['id']}", role="viewer")
    assert got.status_code == 200 and got.content == PNG
    assert got.headers["content-type"] == "image/png"
    assert got.headers.get_list("x-content-type-options") == ["nosniff"]  # once, not twice
    assert api.client.get(f"{url}/{ev['id']}").status_code == 401
    # The declared type does not matter; the bytes do.
    fake = api.post(url, files={"file": ("x.png", b"MZ\x90\x00 not an image", "image/png")})
    assert fake.status_code == 422 and fake.json()["errors"][0]["field"] == "file"
    pdf = api.post(url, files={"file": ("invoice.pdf", PDF, "application/octet-stream")})
    assert pdf.status_code == 201 and pdf.json()["content_type"] == "application/pdf"
    monkeypatch.setenv("DINGDAN_UPLOAD_MAX_BYTES", "32")
    big = api.post(url, files={"file": ("big.png", PNG, "image/png")})
    assert big.status_code == 422 and "larger" in big.json()["errors"][0]["message"]
    assert len(api.get(f"/api/v1/disputes/{did}").json()["evidence"]) == 2
    for f in uploads.rglob("*.png"):
        f.write_bytes(PNG + b"tampered")
    assert api.get(f"{url}/{ev['id']}").status_code == 409
    assert api.get(f"{url}/999").status_code == 404


def test_statuses_move_in_order_and_a_refund_resolution_refunds(api, stocked):  # noqa: F811
    n = shipped_order(api)
    did = open_dispute(api, n, type="late")["id"]
    url = f"/api/v1/disputes/{did}/transition"
    r = api.post(url, json={"status": "closed"})
    assert r.status_code == 409 and r.json()["code"] == "invalid_transition"
    assert api.post(url, json={"status": "investigating"}).json()["status"] == "investigating"
    r = api.post(url, json={"status": "resolved"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "resolution"
    r = api.post(url, json={"status": "resolved", "resolution": "refund"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "amount"
    refund = {"status": "resolved", "resolution": "refund", "amount": "60.00"}
    assert api.post(url, json=refund, role="customer_service").status_code == 403
    r = api.post(url, json=refund, role="manager")
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "resolved" and r.json()["amount"] == "60.00"
    o = api.get(f"/api/v1/orders/{n}").json()
    assert o["refunded"] == "60.00" and o["financial_status"] == "partially_refunded"
    assert api.post(url, json=refund, role="manager").status_code == 409
    r = api.post(url, json={"status": "closed"})
    assert r.status_code == 200 and r.json()["closed_at"]
    assert (
        api.post(
            f"/api/v1/disputes/{did}/messages", json={"direction": "note", "body": "late"}
        ).status_code
        == 409
    )
    kinds = [e["kind"] for e in api.get(f"/api/v1/orders/{n}/events").json()["items"]]
    assert {"dispute_opened", "dispute_investigating", "dispute_resolved", "dispute_closed"} <= set(
        kinds
    )


def test_a_reshipment_resolution_creates_a_replacement_order_paid_by_the_seller(api, stocked):  # noqa: F811
    n = shipped_order(api)
    did = open_dispute(api, n, type="lost")["id"]
    r = api.post(
        f"/api/v1/disputes/{did}/transition",
        json={"status": "resolved", "resolution": "reshipment"},
    )
    assert r.status_code == 200, r.text
    new = api.get(f"/api/v1/orders/{r.json()['replacement_order']}").json()
    assert new["lines"][0]["sku"] == "TEA-001" and new["lines"][0]["quantity"] == 2
    assert new["financial_status"] == "paid" and new["paid"] == new["total"]
    pays = api.get(f"/api/v1/orders/{new['number']}/payments").json()["items"]
    assert pays[0]["reference"] == f"reship:{did}"
    assert api.get(f"/api/v1/orders/{n}").json()["refunded"] == "0.00"
    assert stock.verify(stocked) == []


def test_a_reject_resolution_moves_no_money(api, stocked):  # noqa: F811
    n = shipped_order(api)
    did = open_dispute(api, n, type="chargeback")["id"]
    r = api.post(
        f"/api/v1/disputes/{did}/transition",
        json={"status": "resolved", "resolution": "reject", "note": "delivered, signed"},
    )
    assert r.status_code == 200 and r.json()["resolution"] == "reject"
    assert api.get(f"/api/v1/orders/{n}").json()["refunded"] == "0.00"


def test_a_dispute_is_reassigned_and_the_timeline_says_so(api, stocked):  # noqa: F811
    n = shipped_order(api)
    d = open_dispute(api, n, owner="mei@example.com", due_date="2030-01-10")
    url = f"/api/v1/disputes/{d['id']}"
    r = api.patch(
        url, json={"owner": "wang@example.com", "due_date": "2030-02-01"}, role="customer_service"
    )
    assert r.status_code == 200, r.text
    assert r.json()["owner"] == "wang@example.com" and r.json()["due_date"] == "2030-02-01"
    events = api.get(f"/api/v1/orders/{n}/events").json()["items"]
    moved = [e for e in events if e["kind"] == "dispute_reassigned"]
    assert len(moved) == 1
    assert moved[0]["data"]["owner_before"] == "mei@example.com"
    assert moved[0]["data"]["due_date_before"] == "2030-01-10"
    # Bad input and the wrong role change nothing.
    bad = api.patch(url, json={"due_date": "next week"}, role="customer_service")
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "due_date"
    assert api.patch(url, json={}, role="customer_service").status_code == 422
    assert api.patch(url, json={"owner": "x@example.com"}, role="warehouse").status_code == 403
    assert api.get(url).json()["owner"] == "wang@example.com"
    # A closed dispute keeps its owner.
    for body in (
        {"status": "investigating"},
        {"status": "resolved", "resolution": "reject", "note": "no damage"},
        {"status": "closed"},
    ):
        assert api.post(f"{url}/transition", json=body).status_code == 200
    closed = api.patch(url, json={"owner": "x@example.com"})
    assert closed.status_code == 409 and closed.json()["code"] == "invalid_transition"
