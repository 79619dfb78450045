"""schemathesis against our own /openapi.json, every operation, bounded: no request, however
malformed, gives a 5xx, and every response matches the status codes, content types and
bodies the document describes (errors included; every 2xx body against its response model).

The app runs in-process on the test's fresh database, with an admin token and a little data
(a location, products with stock) so that generated requests reach real objects too. The
stateful test follows the document's links (``web/api/openapi_links.py``): from a placed
order's number to its payments, shipments, returns..., so that the checks also run on the
answers of the order logic, not only on 404s to made-up numbers.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis.stateful import run_state_machine_as_test
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from dingdan.services import access
from tests.helpers import ADMIN, location, product, receive

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.fixture
def admin_token(db: Any) -> str:
    location(db, "TPE")
    for sku in ("TEA-001", "CAKE-002"):
        product(db, sku)
    receive(db, "TPE", {"TEA-001": 1000, "CAKE-002": 1000})
    secret, _ = access.create_token(db, ADMIN, "fuzz", "admin")
    return secret


@pytest.fixture
def api_schema(app: Any, admin_token: str) -> Any:
    return schemathesis.openapi.from_asgi("/openapi.json", app)


@pytest.fixture(autouse=True)
def _pytest9_node_id(request: pytest.FixtureRequest) -> None:
    # schemathesis' lazy (fixture) loader renames the node through ``Node._nodeid``, which
    # pytest 9.2 no longer has (it keeps ``_id``); give it the attribute it reads and writes.
    if not hasattr(request.node, "_nodeid"):
        request.node._nodeid = request.node.nodeid


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(
    max_examples=15,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_every_operation_conforms_and_never_5xx(case: Any, admin_token: str) -> None:
    response = case.call(headers={"Authorization": f"Bearer {admin_token}"})
    case.validate_response(response, checks=CHECKS)


def test_a_body_that_is_not_utf8_is_422(client: Any, admin_token: str) -> None:
    r = client.post(
        "/api/v1/products",
        content=b"\xff\xfe{",
        headers={"Authorization": f"Bearer {admin_token}", "Content-Type": "application/json"},
    )
    assert r.status_code == 422, (r.status_code, r.text)
    assert r.json()["code"] == "validation_error"


def test_a_nul_character_is_422_not_a_server_error(client: Any, admin_token: str) -> None:
    auth = {"Authorization": f"Bearer {admin_token}"}
    assert client.get("/api/v1/products/a%00b", headers=auth).status_code in (404, 422)
    r = client.post(
        "/api/v1/products",
        headers=auth,
        json={"sku": "NUL-1", "name": "tea\u0000", "price": "1", "currency": "TWD"},
    )
    assert r.status_code == 422, r.text


def _placeable(body: dict[str, Any], n: int) -> dict[str, Any]:
    """The generated body made into an order the fixture's stock can fill: random channels,
    currencies and SKUs would all be refused, and the links start from placed orders. Every
    other order is cash on delivery, so that it may ship unpaid."""
    return {
        **{k: v for k, v in body.items() if k in ("external_id", "note")},
        "channel": "web",
        "currency": "TWD",
        "payment_method": "cod" if n % 2 else "bank_transfer",
        "customer": {"email": f"fuzz{n}@example.com", "name": "王小明"},
        "shipping_address": {
            "name": "王小明",
            "line1": "信義路五段7號",
            "city": "台北市",
            "postal_code": "110",
            "country": "TW",
            "phone": "+886912345678",
        },
        "lines": [{"sku": "TEA-001", "quantity": 1 + n % 3}, {"sku": "CAKE-002", "quantity": 1}],
    }


# Answers that show the stateful run reached the order logic (each must be 2xx at least once).
REACHED = [
    ("POST", "/api/v1/orders"),
    ("GET", "/api/v1/orders/{number}"),
    ("POST", "/api/v1/orders/{number}/payments"),
    ("POST", "/api/v1/orders/{number}/shipments"),
    ("POST", "/api/v1/orders/{number}/cancel"),
]


def test_stateful_links_reach_the_order_logic(api_schema: Any, admin_token: str) -> None:
    answers: Counter[tuple[str, str, int]] = Counter()
    placed = Counter[str]()

    # The order logic and what hangs off an order; the catalog and settings get the budget of
    # the stateless test. (Revoking a made-up token id could also revoke the test's own.)
    schema = api_schema.include(path_regex=r"^/api/v1/(orders|shipments|returns|payments|disputes)")
    # Valid data only: a malformed request stops a chain at its first step, and the stateless
    # test above sends malformed requests to every operation already.
    modes = list(schema.config.generation.modes)
    schema.config.generation.update(modes=[GenerationMode.POSITIVE])

    class Workflow(schema.as_state_machine()):  # type: ignore[misc]
        def before_call(self, case: Any) -> None:
            headers = {
                k: v for k, v in (case.headers or {}).items() if k.lower() != "authorization"
            }
            if case.method == "POST" and case.path == "/api/v1/orders":
                headers.pop("Idempotency-Key", None)
                if isinstance(case.body, dict):
                    placed["n"] += 1
                    case.body = _placeable(case.body, placed["n"])
            case.headers = {**headers, "Authorization": f"Bearer {admin_token}"}

        def after_call(self, response: Any, case: Any) -> None:
            super().after_call(response, case)
            answers[(case.method, case.path, response.status_code)] += 1

        def validate_response(self, response: Any, case: Any, **kwargs: Any) -> None:
            case.validate_response(response, checks=CHECKS)

    try:
        run_state_machine_as_test(
            Workflow,
            settings=settings(
                max_examples=STATEFUL_EXAMPLES,
                stateful_step_count=12,
                deadline=None,
                derandomize=True,
                suppress_health_check=list(HealthCheck),
            ),
        )
    finally:
        schema.config.generation.update(modes=modes)
    ok = {(m, p) for (m, p, status), _ in answers.items() if 200 <= status < 300}

    assert [op for op in REACHED if op not in ok] == [], sorted(answers.items())


STATEFUL_EXAMPLES = 60
