"""What request bodies share: ``Strict`` (no coercion, no unknown fields; the services check
the business rules), money as a decimal string, a line of SKU and quantity."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


_MONEY_PATTERN = r"^\d{1,15}(\.\d{1,4})?$"
_MONEY_DESCRIPTION = 'decimal string, e.g. "1299.00"'
Money = Field(pattern=_MONEY_PATTERN, description=_MONEY_DESCRIPTION)
# The same as a type, for an optional amount (``MoneyText | None = None``): ``Money`` as a
# field default would make the field required.
MoneyText = Annotated[str, Field(pattern=_MONEY_PATTERN, description=_MONEY_DESCRIPTION)]


class StockLine(Strict):
    sku: str = Field(min_length=1, max_length=64)
    quantity: int = Field(ge=1, le=1_000_000_000)
