"""What every answer's model is made of: closed objects, money, timestamps, pages.

A response model lists every field the service returns and no other (``extra="forbid"``):
a field added to a service view without its model fails the tests (the route's validation,
and schemathesis' response conformance check for the routes that answer with prebuilt JSON),
instead of vanishing from the answer or going undocumented.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field


class View(BaseModel):
    model_config = ConfigDict(extra="forbid")


class OpenView(BaseModel):
    """An object stored as JSON (an address, a customer): the fields listed are always there,
    and the object may carry more."""

    model_config = ConfigDict(extra="allow")


Amount = Annotated[
    str, Field(description="decimal string with the currency's decimals", examples=["1299.00"])
]
Timestamp = Annotated[str, Field(description="RFC 3339, UTC", examples=["2026-12-06T09:30:00Z"])]
Cursor = Annotated[
    str | None, Field(description="pass as ?cursor= for the next page; null on the last")
]


class Health(View):
    status: str = Field(examples=["ok"])


class StockLineOut(View):
    sku: str
    quantity: int
