"""Query parameters many routes share, declared once."""

from __future__ import annotations

from typing import Any

from fastapi import Query


def limit_query(default: int = 50, *, most: int = 200, description: str | None = None) -> Any:
    """A list's ``?limit=``: how many items, 1 to ``most``. The service checks it (``422``,
    code ``out_of_range`` on ``limit``, the contract's wording); the OpenAPI document states
    the bounds (``minimum``, ``maximum``) so that a client, and the schemathesis run, know
    them before asking."""
    return Query(
        default,
        description=description or f"1 to {most}",
        json_schema_extra={"minimum": 1, "maximum": most},
    )
