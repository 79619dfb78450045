"""What request bodies share: ``Strict`` (no coercion, no unknown fields; the services check
the business rules), money as a decimal string, a line of SKU and quantity."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


Money = Field(pattern=r"^\d{1,15}(\.\d{1,4})?$", description='decimal string, e.g. "1299.00"')


class StockLine(Strict):
    sku: str = Field(min_length=1, max_length=64)
    quantity: int = Field(ge=1, le=1_000_000_000)
