"""problem+json for every error; tokens and roles; health; body limits."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from dingdan.app import create_app
from dingdan.config import Settings


def _is_problem(r, status, code):
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert body["code"] == code and body["status"] == status
    assert {"type", "title", "detail", "errors"} <= body.keys()


def test_health_needs_no_token(client):
    assert client.get("/healthz").json() == {"status": "ok"}


def test_openapi_and_docs_are_served_without_a_token_or_a_cdn(client):
    spec = client.get("/openapi.json").json()
    assert "/api/v1/products" in spec["paths"]
    assert "422" in spec["paths"]["/api/v1/products"]["post"]["responses"]
    docs = client.get("/docs").text
    assert "cdn.jsdelivr" not in docs and "unpkg" not in docs


def test_no_token_or_a_bad_one_is_401(client):
    _is_problem(client.get("/api/v1/products"), 401, "unauthorized")
    _is_problem(
        client.get("/api/v1/products", headers={"Authorization": "Bearer ddk_nope"}),
        401,
        "unauthorized",
    )


@pytest.mark.parametrize(
    "role,allowed",
    [
        ("admin", True),
        ("manager", True),
        # a product has a price, and prices need `pricing` (admin, manager by default)
        ("warehouse", False),
        ("customer_service", False),
        ("finance", False),
        ("viewer", False),
    ],
)
def test_roles_decide_who_may_create_products(api, role, allowed):
    r = api.post(
        "/api/v1/products",
        role=role,
        json={"sku": f"S-{role}", "name": "x", "price": "1", "currency": "TWD"},
    )
    if allowed:
        assert r.status_code == 201
    else:
        _is_problem(r, 403, "forbidden")
    assert api.get("/api/v1/products", role=role).status_code == 200


def test_only_admin_manages_tokens(api):
    _is_problem(
        api.post("/api/v1/tokens", role="manager", json={"name": "x", "role": "viewer"}),
        403,
        "forbidden",
    )
    r = api.post("/api/v1/tokens", json={"name": "shop", "role": "viewer"})
    assert r.status_code == 201
    secret = r.json()["token"]
    assert (
        api.client.get(
            "/api/v1/products", headers={"Authorization": f"Bearer {secret}"}
        ).status_code
        == 200
    )
    api.post(f"/api/v1/tokens/{r.json()['id']}/revoke")
    _is_problem(
        api.client.get("/api/v1/products", headers={"Authorization": f"Bearer {secret}"}),
        401,
        "unauthorized",
    )


def test_tokens_are_stored_hashed(api, db):
    from sqlalchemy import text

    secret = api.post("/api/v1/tokens", json={"name": "x", "role": "viewer"}).json()["token"]
    stored = db.read(lambda c: [r[0] for r in c.execute(text("SELECT token_hash FROM api_tokens"))])
    assert secret not in stored and all(len(h) == 64 for h in stored)


def test_unknown_routes_methods_and_malformed_json_are_problems(api):
    _is_problem(api.get("/api/v1/nothing-here"), 404, "not_found")
    _is_problem(api.request("DELETE", "/api/v1/products"), 405, "method_not_allowed")
    r = api.post(
        "/api/v1/products", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    _is_problem(r, 422, "validation_error")
    r = api.post("/api/v1/products", json=[1, 2])
    _is_problem(r, 422, "validation_error")


def test_a_body_over_the_limit_is_413(db, db_url):
    app = create_app(Settings(database_url=db_url, run_worker=False, max_body_bytes=1000), db=db)
    with TestClient(app) as c:
        r = c.post(
            "/api/v1/products", content=b"x" * 2000, headers={"Content-Type": "application/json"}
        )
        _is_problem(r, 413, "payload_too_large")
        chunks = iter([b"{" + b" " * 600, b" " * 600 + b"}"])
        r = c.post("/api/v1/products", content=chunks, headers={"Content-Type": "application/json"})
        _is_problem(r, 413, "payload_too_large")


def test_a_too_large_upload_in_the_back_office_is_a_page_in_the_readers_language(db, db_url):
    settings = Settings(
        database_url=db_url, run_worker=False, max_body_bytes=1000, upload_max_bytes=2_000_000
    )
    app = create_app(settings, db=db)
    with TestClient(app) as c:
        r = c.post(
            "/products/import",
            content=b"x" * 3_000_000,
            headers={
                "Content-Type": "multipart/form-data; boundary=x",
                "Accept-Language": "zh-TW,zh;q=0.9",
                "Referer": "http://testserver/products/import",
            },
        )
    assert r.status_code == 413
    assert r.headers["content-type"].startswith("text/html")
    assert "2 MB" in r.text and 'href="/products/import"' in r.text
    assert "檔案太大" in r.text  # zh_Hant
    assert "payload_too_large" not in r.text


def test_unicode_round_trips_unchanged(api):
    name = "𠮷野家 牛丼 🍜 ñ"
    r = api.post(
        "/api/v1/products", json={"sku": "U1", "name": name, "price": "1", "currency": "HKD"}
    )
    assert r.json()["name"] == name
    assert api.get("/api/v1/products/U1").json()["name"] == name
