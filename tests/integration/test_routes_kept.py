"""Router discovery finds every router of every context: no operation or page that Dingdan
served before its modules were grouped by context has disappeared since."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

KEPT = Path(__file__).parents[1] / "fixtures" / "routes_before_contexts.txt"


def _walk(routes: list[Any]) -> Iterator[tuple[str, str]]:
    for route in routes:
        included = getattr(route, "original_router", None)
        if included is not None:
            yield from _walk(included.routes)
            continue
        for method in getattr(route, "methods", None) or ():
            if method != "HEAD":
                yield method, route.path


def _kept() -> set[tuple[str, str]]:
    lines = KEPT.read_text(encoding="utf-8").splitlines()
    return {tuple(line.split(" ", 1)) for line in lines if line and not line.startswith("#")}


def test_every_route_served_before_the_contexts_is_still_served(app: Any) -> None:
    served = set(_walk(app.routes))
    assert len(_kept()) > 150
    assert sorted(_kept() - served) == []


def test_every_operation_before_the_contexts_is_still_in_openapi(app: Any) -> None:
    described = {(m.upper(), p) for p, ops in app.openapi()["paths"].items() for m in ops}
    api = {(m, p) for m, p in _kept() if p.startswith("/api/") or p == "/healthz"}
    assert len(api) > 70
    assert sorted(api - described) == []


def test_a_router_in_a_context_package_is_found(app: Any) -> None:
    """The discovery walks the context packages, not only the top of web.api and web.pages:
    the carriers' routes live in web/api/fulfilment/carriers.py, the pack screen in
    web/pages/fulfilment/warehouse.py."""
    from dingdan.app import _routers
    from dingdan.web import api, pages
    from dingdan.web.api.fulfilment import carriers
    from dingdan.web.pages.fulfilment import warehouse

    assert carriers.router in _routers(api)
    assert warehouse.router in _routers(pages)
