"""A request body, validated by its Pydantic model, as the service's command TypedDict.

The routes pass the body on as the plain dict the service has always taken; ``command``
checks it against the TypedDict at run time (strict: no coercion) and fails loudly if the
two disagree in any field, so the type mypy sees is the one the value has."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, TypeAdapter

T = TypeVar("T")

_adapters: dict[object, TypeAdapter[Any]] = {}


def command(
    kind: type[T], body: BaseModel, *, exclude_unset: bool = False, exclude_none: bool = False
) -> T:
    """``body.model_dump()`` (only the fields the client sent with ``exclude_unset``, none
    that are None with ``exclude_none``) as the TypedDict ``kind``; a field ``kind`` lacks
    or types otherwise is a TypeError."""
    raw = body.model_dump(exclude_unset=exclude_unset, exclude_none=exclude_none)
    adapter = _adapters.get(kind)
    if adapter is None:
        adapter = _adapters[kind] = TypeAdapter(kind)
    value: T = adapter.validate_python(raw, strict=True)
    if value != raw:  # a key the TypedDict does not name is dropped by the adapter
        raise TypeError(f"{type(body).__name__} does not match {kind.__name__}")
    return value
