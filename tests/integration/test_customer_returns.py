"""Customers ask for a return on their tracking page; photos are kept for staff only."""

from __future__ import annotations

import pytest

from dingdan.domain.shared.errors import NotFound, ValidationFailed
from dingdan.services.after_sales import customer_returns
from dingdan.services.orders import queries
from tests.builders import RETURNS_SHOP, shipped_order

stocked = RETURNS_SHOP.fixture()

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64


@pytest.fixture
def uploads(tmp_path, monkeypatch):
    monkeypatch.setenv("DINGDAN_UPLOAD_DIR", str(tmp_path / "uploads"))
    return tmp_path / "uploads"


def _token(db, number):
    return queries.get_order(db, number)["tracking_token"]


def test_a_customer_requests_a_return_with_photos_that_staff_can_open(api, stocked, uploads):  # noqa: F811
    n = shipped_order(api)
    ret = customer_returns.request_from_customer(
        stocked,
        _token(stocked, n),
        {"lines": [{"sku": "TEA-001", "quantity": 1, "reason": "damaged"}], "note": "盒子破了"},
        [("破損.png", PNG), ("box.jpg", JPEG)],
    )
    assert ret["status"] == "requested" and ret["requested_by"] == f"customer:{n}"
    assert [p["content_type"] for p in ret["photos"]] == ["image/png", "image/jpeg"]
    assert len(list(uploads.rglob("*.png"))) == 1
    listed = api.get(f"/api/v1/returns/{ret['id']}/photos", role="customer_service").json()
    photo = listed["items"][0]
    assert photo["filename"] == "破損.png"
    for missing in ("999999", "x"):  # a return that does not exist has no photo list
        r = api.get(f"/api/v1/returns/{missing}/photos", role="customer_service")
        assert r.status_code == 404 and r.json()["code"] == "not_found", r.text
    got = api.get(f"/api/v1/returns/{ret['id']}/photos/{photo['id']}", role="warehouse")
    assert got.status_code == 200 and got.content == PNG
    assert got.headers["content-type"] == "image/png"
    assert api.client.get(f"/api/v1/returns/{ret['id']}/photos/{photo['id']}").status_code == 401
    kinds = [e["kind"] for e in api.get(f"/api/v1/orders/{n}/events").json()["items"]]
    assert "return_photos" in kinds


def test_the_policy_applies_to_customers_without_any_override(api, stocked, uploads):  # noqa: F811
    n = shipped_order(api)
    token = _token(stocked, n)
    with pytest.raises(ValidationFailed):
        customer_returns.request_from_customer(
            stocked, token, {"lines": [{"sku": "TEA-001", "quantity": 9, "reason": "damaged"}]}
        )
    with pytest.raises(ValidationFailed) as exc:
        customer_returns.request_from_customer(
            stocked,
            token,
            {"lines": [{"sku": "TEA-001", "quantity": 1, "reason": "damaged"}]},
            [("virus.exe", b"MZ\x90\x00" + b"\x00" * 20)],
        )
    assert exc.value.errors[0].field == "photos[0]"
    assert exc.value.errors[0].message == "must be a JPEG, PNG or WebP file"
    assert api.get("/api/v1/returns").json()["items"] == []
    assert list(uploads.rglob("*.*")) == []


def test_a_wrong_token_finds_nothing(stocked, uploads):  # noqa: F811
    with pytest.raises(NotFound):
        customer_returns.request_from_customer(stocked, "nope", {"lines": []})
