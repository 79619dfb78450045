"""Input the database cannot hold is refused before it (422 ``too_large``), ids that are not
numbers are 404, text is clean (no NUL, no invisible names) and each error names its own
field; a product is patched without its price; e-mails are told apart after NFKC."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import IntegrityError

from dingdan.domain.shared.errors import Conflict, ValidationFailed
from dingdan.services.access import accounts, sign_in
from dingdan.services.after_sales import dispute_evidence, disputes
from dingdan.services.fulfilment import picking
from tests.builders import (
    ADMIN,
    RETURNS_SHOP,
    TEA_SHOP,
    address,
    order_body,
    post_order,
    product,
    shipped_order,
)

stocked = TEA_SHOP.fixture()
PASSWORD = "correct-horse-battery"


def _codes(r):
    return {(e["field"], e["code"]) for e in r.json()["errors"]}


# ---- 8: bounds before the database -------------------------------------------------------


def test_a_line_worth_more_than_an_order_can_hold_is_too_large_not_a_500(api, stocked):
    body = order_body([{"sku": "TEA-002", "quantity": 1_000_000, "unit_price": "99999999999.00"}])
    r = api.post("/api/v1/orders", json=body)
    assert r.status_code == 422, r.text
    assert _codes(r) == {("lines[0].quantity", "too_large")}
    assert api.get("/api/v1/orders").json()["items"] == []


@pytest.mark.parametrize(
    ("url", "body", "field"),
    [
        (
            "/api/v1/locations",
            {"code": "BIG", "name": "x", "country": "TW", "priority": 10**20},
            "priority",
        ),
        (
            "/api/v1/locations",
            {"code": "BIG", "name": "x", "country": "TW", "priority": 2**31},
            "priority",
        ),
        (
            "/api/v1/products",
            {"sku": "W-1", "name": "x", "price": "1.00", "currency": "TWD", "weight_grams": 10**20},
            "weight_grams",
        ),
        (
            "/api/v1/products",
            {
                "sku": "W-1",
                "name": "x",
                "price": "1.00",
                "currency": "TWD",
                "low_stock_threshold": 2**63,
            },
            "low_stock_threshold",
        ),
    ],
)
def test_numbers_beyond_the_database_are_too_large(api, url, body, field):
    r = api.post(url, json=body)
    assert r.status_code == 422, r.text
    assert (field, "too_large") in _codes(r)


def test_a_patch_beyond_the_database_is_too_large(api, stocked):
    r = api.patch("/api/v1/products/TEA-001", json={"low_stock_threshold": 10**12})
    assert r.status_code == 422 and _codes(r) == {("low_stock_threshold", "too_large")}
    r = api.patch("/api/v1/locations/TPE", json={"priority": -(10**15)})
    assert r.status_code == 422 and ("priority", "too_small") in _codes(r)


# ---- 9: ids of other digits --------------------------------------------------------------


@pytest.mark.parametrize("segment", ["%C2%B3", "%C2%B2", "%E2%85%A0", "1e3", "%EF%BC%91" * 30])
def test_an_id_that_is_not_a_number_is_404(api, stocked, segment):
    assert api.post(f"/api/v1/payments/{segment}/void").status_code == 404
    assert api.post(f"/api/v1/payments/{segment}/capture", json={}).status_code in (404, 422)


# ---- 12: each error names its own field and cause ----------------------------------------


def test_a_bad_postal_code_does_not_fail_a_valid_national_phone(api, stocked):
    body = order_body(
        customer={"email": None, "name": "李娜", "phone": "13812345678"},
        shipping_address=address(
            country="CN", city="北京", postal_code="12", phone="+8613812345678"
        ),
    )
    r = api.post("/api/v1/orders", json=body)
    assert r.status_code == 422
    assert _codes(r) == {("shipping_address.postal_code", "postal_code_six_digits")}


def test_an_unknown_return_reason_is_not_called_asking_for_too_much(api, db):
    RETURNS_SHOP.build(db)
    number = shipped_order(api)
    r = api.post(
        f"/api/v1/orders/{number}/returns",
        json={"lines": [{"sku": "TEA-001", "quantity": 1, "reason": "no_such_reason"}]},
    )
    assert r.status_code == 422
    assert _codes(r) == {("lines[0].reason", "not_one_of")}
    assert "more than can be returned" not in r.json()["detail"]


def test_a_conflict_does_not_carry_the_databases_own_message(db):
    exc = IntegrityError(
        "INSERT INTO products ...",
        {},
        Exception('duplicate key value violates unique constraint "products_sku_key"'),
    )
    error = db.translate(exc)
    assert isinstance(error, Conflict)
    assert "products_sku_key" not in error.detail and "INSERT" not in error.detail


# ---- 19: text hygiene, numbers after NFKC, emails, passwords -----------------------------


@pytest.mark.parametrize("bad", ["a\x00b", "\x00"])
def test_nul_is_refused_in_order_notes_token_names_and_order_notes_added_later(api, stocked, bad):
    r = api.post("/api/v1/orders", json=order_body(note=bad))
    assert r.status_code == 422 and ("note", "control_characters") in _codes(r)
    r = api.post("/api/v1/tokens", json={"name": bad, "role": "viewer"})
    assert r.status_code == 422
    number = post_order(api)["number"]
    r = api.post(f"/api/v1/orders/{number}/notes", json={"note": bad})
    assert r.status_code == 422


def test_nul_is_refused_in_dispute_messages(api, db, stocked):
    number = post_order(api)["number"]
    d = disputes.open_dispute(
        db, ADMIN, number, {"type": "chargeback", "summary": "x", "owner": "amy"}
    )
    r = api.post(
        f"/api/v1/disputes/{d['id']}/messages",
        json={"direction": "inbound", "body": "hello\x00world"},
    )
    assert r.status_code == 422 and ("body", "control_characters") in _codes(r)
    r = api.post(
        f"/api/v1/disputes/{d['id']}/messages",
        json={"direction": "inbound", "body": "第一行\n第二行"},
    )
    assert r.status_code == 201, r.text


@pytest.mark.parametrize("invisible", ["\u200b\u200b", "\u202e", "\u200f\u200e", "\ufeff "])
def test_names_of_only_invisible_characters_are_refused(api, invisible):
    r = api.post("/api/v1/tokens", json={"name": invisible, "role": "viewer"})
    assert r.status_code == 422 and _codes(r) == {("name", "invisible_text")}
    r = api.post(
        "/api/v1/products",
        json={"sku": "Z-1", "name": invisible, "price": "1.00", "currency": "TWD"},
    )
    assert r.status_code == 422 and ("name", "invisible_text") in _codes(r)
    assert api.get("/api/v1/products").json()["items"] == []


def test_text_round_trips_as_sent(api):
    name = "凍頂烏龍茶 ＡＢＣ １２３ \u200d👩‍👩‍👧"
    r = api.post(
        "/api/v1/products", json={"sku": "RT-1", "name": name, "price": "1.00", "currency": "TWD"}
    )
    assert r.status_code == 201 and r.json()["name"] == name
    assert [p["sku"] for p in api.get("/api/v1/products?q=abc").json()["items"]] == ["RT-1"]
    assert [p["sku"] for p in api.get("/api/v1/products?q=ＲＴ").json()["items"]] == ["RT-1"]


def test_full_width_digits_are_read_in_amounts(api, stocked):
    order = post_order(api)
    r = api.post(
        f"/api/v1/orders/{order['number']}/payments", json={"amount": "７６０.００"}, role="finance"
    )
    assert r.status_code == 201, r.text
    assert api.get(f"/api/v1/orders/{order['number']}").json()["paid"] == "760.00"


def test_a_full_width_look_alike_of_a_users_email_is_the_same_user(db):
    accounts.create_user(db, ADMIN, email="boss@example.com", role="admin", password=PASSWORD)
    with pytest.raises(Conflict):
        accounts.create_user(
            db, ADMIN, email="ＢＯＳＳ@ｅｘａｍｐｌｅ.ｃｏｍ", role="viewer", password=PASSWORD
        )
    assert [u["email"] for u in accounts.list_users(db)] == ["boss@example.com"]
    assert sign_in.sign_in(db, "ＢＯＳＳ@example.com", PASSWORD).user is not None


def test_a_password_of_spaces_is_refused(db):
    with pytest.raises(ValidationFailed) as caught:
        accounts.create_user(db, ADMIN, email="s@example.com", role="viewer", password=" " * 12)
    assert [(e.field, e.code) for e in caught.value.errors] == [("password", "password_blank")]
    assert accounts.list_users(db) == []


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("a\x00b", "control_characters"),
        ("\u200b\u202e", "invisible_text"),
        ("名" * 201, "at_most_characters"),
        (42, "not_text"),
    ],
)
def test_a_users_name_is_checked_like_every_text(db, name, code):
    with pytest.raises(ValidationFailed) as caught:
        accounts.create_user(
            db, ADMIN, email="n@example.com", role="viewer", password=PASSWORD, name=name
        )
    assert [(e.field, e.code) for e in caught.value.errors] == [("name", code)]
    assert accounts.list_users(db) == []
    made = accounts.create_user(
        db, ADMIN, email="n@example.com", role="viewer", password=PASSWORD, name="  林小明 "
    )
    assert made["name"] == "林小明"


def test_evidence_is_downloaded_under_the_extension_of_its_detected_type(
    api, db, stocked, tmp_path, monkeypatch
):
    monkeypatch.setenv("DINGDAN_UPLOAD_DIR", str(tmp_path))
    number = post_order(api)["number"]
    d = disputes.open_dispute(
        db, ADMIN, number, {"type": "chargeback", "summary": "x", "owner": "amy"}
    )
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
    e = dispute_evidence.add_evidence(db, ADMIN, d["id"], "receipt.html", png)
    r = api.get(f"/api/v1/disputes/{d['id']}/evidence/{e['id']}")
    assert r.status_code == 200
    assert r.headers["content-disposition"] == 'attachment; filename="receipt.png"'
    _, kind, name = dispute_evidence.evidence_file(db, d["id"], e["id"])
    assert (kind, name) == ("image/png", "receipt.png")


@pytest.mark.parametrize("name", [" =1+2", "  +SUM(A1)", "\t=1", " -2+3", " @x", "＝1+2"])
def test_formulas_after_leading_spaces_are_neutralised_in_the_pick_list(name):
    data = {
        "lines": [
            {
                "sku": "S-1",
                "name": name,
                "barcode": None,
                "quantity": 1,
                "orders": [{"order": "DD001001", "quantity": 1}],
            }
        ]
    }
    row = picking.pick_list_csv(data).splitlines()[1]
    assert row.split(",")[1].strip('"').startswith("'"), row


# ---- 20: a partial update ---------------------------------------------------------------


def test_a_product_is_patched_without_its_price(api, db):
    product(db, "P-1", price="120.00")
    r = api.patch("/api/v1/products/P-1", json={"name": "新名字"})
    assert r.status_code == 200, r.text
    assert (r.json()["name"], r.json()["price"]) == ("新名字", "120.00")
