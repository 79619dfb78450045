"""tests/shared_routes.py: the applications of one test process share their built routes,
refer to none of them, and an application with dependency overrides still gets them."""

from __future__ import annotations

from typing import Any

from fastapi import routing
from fastapi.testclient import TestClient

from dingdan.app import create_app
from dingdan.web.api.shared import deps
from tests import conftest, shared_routes


def _included(app: Any) -> list[Any]:
    return [r for r in app.router.routes if isinstance(r, routing._IncludedRouter)]


def test_the_suite_shares_built_routes() -> None:
    # False when FastAPI's internals changed: the suite then builds every app's routes
    # again and takes several times as long.
    assert conftest.SHARED_ROUTES is True


def test_two_apps_use_the_same_built_routes(settings: Any, db: Any, api: Any) -> None:
    token = api.token("admin")
    first, second = create_app(settings, db=db), create_app(settings, db=db)
    with TestClient(first) as c1, TestClient(second) as c2:
        auth = {"Authorization": f"Bearer {token}"}
        assert c1.get("/api/v1/orders", headers=auth).status_code == 200
        count = shared_routes.built_count()
        assert c2.get("/api/v1/orders", headers=auth).status_code == 200
        assert shared_routes.built_count() == count
    for a, b in zip(_included(first), _included(second), strict=True):
        assert a is not b  # each app includes its routers
        assert a.effective_candidates() is b.effective_candidates()  # built once
    for candidate in _included(first)[0].effective_candidates():
        assert getattr(candidate, "dependency_overrides_provider", None) is None


def test_an_app_with_dependency_overrides_gets_them(settings: Any, db: Any, api: Any) -> None:
    token = api.token("admin")
    app = create_app(settings, db=db)
    app.dependency_overrides[deps._bearer] = lambda: None  # as if no token had been sent
    with TestClient(app) as client:
        answer = client.get("/api/v1/orders", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 401
    plain = create_app(settings, db=db)
    with TestClient(plain) as client:
        answer = client.get("/api/v1/orders", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 200
