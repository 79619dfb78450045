"""/openapi.json describes every 2xx body, and the answers that FastAPI does not validate
(the order capture and order reads answer with prebuilt JSON) match their models."""

from __future__ import annotations

from typing import Any

from dingdan.services.shared.view_types import (
    LocationLevelView,
    OrderLineView,
    OrderView,
    ProductView,
    StockView,
)
from dingdan.web.api.catalog.schemas import LocationLevel, Product, Stock
from dingdan.web.api.orders.view_schemas import Order, OrderEvents, OrderLine, OrderPage
from dingdan.web.api.shared.openapi_links import LINKS
from tests.helpers import location, product, receive

BODILESS = {"204"}
OPEN = {"type": "object", "additionalProperties": True}


def _operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, op)
        for path, item in document["paths"].items()
        for method, op in item.items()
        if method in ("get", "post", "put", "patch", "delete")
    ]


def _described(schema: dict[str, Any]) -> bool:
    """A schema that says something: a model, a typed value; not {} nor 'any object'."""
    bare = {k: v for k, v in schema.items() if k not in ("title", "description")}
    return bool(bare) and bare != OPEN


def test_every_operation_describes_its_2xx_body(client: Any) -> None:
    document = client.get("/openapi.json").json()
    missing = []
    for method, path, op in _operations(document):
        ok = {s: r for s, r in op["responses"].items() if s.startswith("2")}
        if not ok:
            missing.append((method, path, "no 2xx response"))
        for status, response in ok.items():
            if status in BODILESS:
                assert not response.get("content"), (method, path, status)
                continue
            content = response.get("content") or {}
            if not content:
                missing.append((method, path, status, "no content"))
            for media, body in content.items():
                if not _described(body.get("schema", {})):
                    missing.append((method, path, status, media))
    assert missing == []


def test_every_response_model_is_closed(client: Any) -> None:
    """A field a service adds without its model is a test failure, not a silent drop: every
    object of a 2xx body is closed, but the customer and address stored as JSON."""
    document = client.get("/openapi.json").json()
    components = document["components"]["schemas"]
    seen: set[str] = set()

    def walk(schema: Any) -> None:
        if isinstance(schema, dict):
            ref = schema.get("$ref")
            if ref is not None:
                name = ref.rsplit("/", 1)[1]
                if name not in seen:
                    seen.add(name)
                    target = components[name]
                    if name not in ("Customer", "Address") and target.get("properties"):
                        assert target.get("additionalProperties") is False, name
                    walk(target)
            for value in schema.values():
                walk(value)
        elif isinstance(schema, list):
            for value in schema:
                walk(value)

    for _, _, op in _operations(document):
        for status, response in op["responses"].items():
            if status.startswith("2"):
                walk(response.get("content", {}))
    assert {"Order", "Return", "Product", "Stock", "Shipment"} <= seen


def test_links_point_at_operations_that_exist(client: Any) -> None:
    document = client.get("/openapi.json").json()
    ids = {op["operationId"] for _, _, op in _operations(document)}
    links = [
        (method, path, status, name, link)
        for method, path, op in _operations(document)
        for status, response in op["responses"].items()
        for name, link in response.get("links", {}).items()
    ]
    assert len(links) >= sum(len(v) for v in LINKS.values())
    assert [entry for entry in links if entry[4]["operationId"] not in ids] == []
    number = document["paths"]["/api/v1/orders"]["post"]["responses"]["201"]["links"]
    assert number["GetOrder"]["parameters"] == {"number": "$response.body#/number"}


def test_the_prebuilt_order_answers_match_their_models(api: Any, db: Any) -> None:
    location(db, "TPE")
    product(db, "TEA-001")
    receive(db, "TPE", {"TEA-001": 10})
    body = {
        "channel": "web",
        "currency": "TWD",
        "customer": {"email": "a@example.com", "name": "王小明"},
        "shipping_address": {
            "name": "王小明",
            "line1": "信義路五段7號",
            "city": "台北市",
            "postal_code": "110",
            "country": "TW",
            "phone": "+886912345678",
        },
        "lines": [{"sku": "TEA-001", "quantity": 2}],
        "payment_method": "cod",
    }
    r = api.post("/api/v1/orders", json=body, headers={"Idempotency-Key": "k1"})
    assert r.status_code == 201, r.text
    number = Order.model_validate(r.json()).number
    replay = api.post("/api/v1/orders", json=body, headers={"Idempotency-Key": "k1"})
    assert replay.status_code == 200
    Order.model_validate(replay.json())
    Order.model_validate(api.get(f"/api/v1/orders/{number}").json())
    OrderPage.model_validate(api.get("/api/v1/orders").json())
    OrderEvents.model_validate(api.get(f"/api/v1/orders/{number}/events").json())


def test_the_typed_service_views_and_the_response_models_name_the_same_fields() -> None:
    pairs = [
        (OrderView, Order),
        (OrderLineView, OrderLine),
        (ProductView, Product),
        (StockView, Stock),
        (LocationLevelView, LocationLevel),
    ]
    for view, model in pairs:
        assert set(view.__annotations__) == set(model.model_fields), view.__name__


# ?limit= that the server clamps instead of refusing: none now.
CLAMPED_LIMITS: set[tuple[str, str]] = set()
# What else a list needs for its limit to apply (sales: only grouped by customer it pages).
LIMIT_WITH = {"/api/v1/reports/sales": {"group_by": "customer"}}


def test_every_limit_states_its_bounds_and_the_server_keeps_to_them(api: Any) -> None:
    """A list's ``limit`` says its minimum and maximum in the document (the fuzz and clients
    read them), and a list asked for one more than the maximum, or for 0, answers 422 on
    ``limit``, whatever checks it (the service or FastAPI); the maximum itself is taken."""
    document = api.get("/openapi.json").json()
    checked = 0
    for method, path, op in _operations(document):
        for param in op.get("parameters", []):
            if param["name"] != "limit" or param["in"] != "query":
                continue
            if (method, path) in CLAMPED_LIMITS:
                continue
            schema = param["schema"]
            assert schema.get("minimum") == 1 and schema.get("maximum"), (method, path, schema)
            required = [p for p in op["parameters"] if p.get("required")]
            if method != "get" or "{" in path or required:
                continue  # asked only where nothing else is needed
            most = schema["maximum"]
            for bad in (0, most + 1):
                answer = api.get(path, params={"limit": bad, **LIMIT_WITH.get(path, {})})
                assert answer.status_code == 422, (path, bad, answer.text)
                assert "limit" in {e["field"] for e in answer.json()["errors"]}, (path, answer.text)
            taken = api.get(path, params={"limit": most, **LIMIT_WITH.get(path, {})})
            assert taken.status_code == 200, (path, taken.text)
            checked += 1
    assert checked >= 15
