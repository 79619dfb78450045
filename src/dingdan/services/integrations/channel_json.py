"""Reading what a channel sent (open JSON, ``object`` to mypy) as the mapping of orders
always has: ``.get`` on an object, iterating an array. A value of another kind fails as
plain Python would (AttributeError, TypeError), which leaves the delivery needing attention
as an invalid order, as it did before the values were typed."""

from __future__ import annotations

from collections.abc import Iterable


def get(value: object, key: str) -> object:
    """``value.get(key)`` of a JSON object."""
    if not isinstance(value, dict):
        raise AttributeError(f"{type(value).__name__!r} object has no attribute 'get'")
    return value.get(key)


def each(value: object) -> list[object]:
    """The items of ``value or []``: a JSON array's; none for a false value; anything else
    iterated as Python iterates it (an object's keys, a text's characters)."""
    if not value:
        return []
    if isinstance(value, list):
        return value
    if not isinstance(value, Iterable):
        raise TypeError(f"{type(value).__name__!r} object is not iterable")
    return list(value)
