"""Each test process builds the application's routes once, not once per test's app.

FastAPI 0.165 builds an included router's routes for each application that includes it, the
first time a request is matched against them (``_IncludedRouter.effective_candidates``: a
``_populate_api_route_state`` per route, about 2,300 pydantic ``TypeAdapter``s for
Dingdan's 520 routes). A test makes an application of its own (its own database), so every
test paid it again: 0.4-0.9 s of one core for its first request, most of the suite's time.
Measured on ``tests/pages/test_roles.py`` with ``tests/integration/test_orders_api.py``
(57 tests, SQLite, one process): 54 s with a build per app, 18 s with this module.

What is built depends only on the router, its routes and how it was included (prefix, tags,
dependencies, response class, ...), which ``create_app`` makes the same for every test, and
on the application only as the holder of ``dependency_overrides``, which Dingdan never uses.
So the built routes are kept, keyed by everything of the inclusion except the application,
and built without one (``dependency_overrides_provider=None``): a kept route refers to no
test's application, which is freed after its test as before (tests/integration/
test_app_freed.py). An application that has ``dependency_overrides`` when a request comes
in is matched as FastAPI does it, against routes of its own.

The production server makes one application per process and never goes through this module:
it is installed by tests/conftest.py only. When FastAPI no longer has these internals, the
patch is not installed (``install`` answers False) and the suite is only slower;
tests/unit/test_shared_routes.py says so by failing.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable
from typing import Any

from fastapi import routing
from fastapi.datastructures import DefaultPlaceholder

_ORIGINAL: dict[str, Callable[..., Any]] = {}
_BUILT: dict[tuple[str, Any, Any], tuple[Any, Any]] = {}
_LOCK = threading.Lock()


def _same(value: Any) -> Any:
    """A hashable stand-in for one field of an inclusion: equal for equal settings."""
    if isinstance(value, DefaultPlaceholder):
        return ("default", _same(value.value))
    if isinstance(value, list | tuple):
        return tuple(_same(item) for item in value)
    if isinstance(value, dict):
        return tuple(sorted(((str(k), _same(v)) for k, v in value.items()), key=repr))
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return (type(value).__qualname__, _inclusion_key(value))
    return ("id", id(value))


def _inclusion_key(context: Any) -> Any:
    return tuple(
        (f.name, _same(getattr(context, f.name)))
        for f in dataclasses.fields(context)
        if f.name != "dependency_overrides_provider" and not f.name.startswith("_")
    )


def _shared(kind: str) -> Callable[[Any], Any]:
    original = _ORIGINAL[kind]

    def built_once(self: Any) -> Any:
        provider = self.include_context.dependency_overrides_provider
        if getattr(provider, "dependency_overrides", None):
            return original(self)
        version = self.original_router._get_routes_version()
        # Every request asks each included router: its answer is kept on it too, so that
        # the key (a walk over the inclusion's fields) is made once per router, not per
        # request.
        mine = self.__dict__.setdefault("_dingdan_shared", {})
        if (kind, version) in mine:
            return mine[(kind, version)]
        key = (kind, _inclusion_key(self.include_context), version)
        found = _BUILT.get(key)
        if found is None:
            with _LOCK:
                found = _BUILT.get(key)
                if found is None:
                    context = dataclasses.replace(
                        self.include_context, dependency_overrides_provider=None
                    )
                    shadow = routing._IncludedRouter(  # type: ignore[attr-defined]
                        original_router=self.original_router, include_context=context
                    )
                    # The shadow (and its context) stays referenced beside what it built,
                    # so no object whose id is in the key can be freed and its id reused.
                    found = (shadow, original(shadow))
                    _BUILT[key] = found
        mine[(kind, version)] = found[1]
        return found[1]

    return built_once


def install() -> bool:
    """Share built routes between the applications of this process; False when this
    FastAPI's internals are not the ones this module knows."""
    included = getattr(routing, "_IncludedRouter", None)
    if included is None or _ORIGINAL:
        return bool(_ORIGINAL)
    kinds = ("effective_candidates", "effective_low_priority_routes")
    fields = (
        {f.name for f in dataclasses.fields(included)}
        if dataclasses.is_dataclass(included)
        else set()
    )
    if not {"original_router", "include_context"} <= fields or not all(
        hasattr(included, kind) for kind in kinds
    ):
        return False
    for kind in kinds:
        _ORIGINAL[kind] = getattr(included, kind)
    for kind in kinds:
        setattr(included, kind, _shared(kind))
    return True


def built_count() -> int:
    """How many inclusions this process has built (for the test that checks the sharing)."""
    return len(_BUILT)
