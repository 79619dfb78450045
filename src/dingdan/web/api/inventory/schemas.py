"""Request bodies of the stock endpoints (receipts, adjustments, transfers)."""

from __future__ import annotations

from pydantic import Field

from dingdan.web.api.shared.schemas import StockLine, Strict


class ReceiptIn(Strict):
    location: str = Field(min_length=1, max_length=32)
    lines: list[StockLine] = Field(min_length=1, max_length=1000)
    reference: str | None = Field(default=None, max_length=200)


class AdjustmentIn(Strict):
    location: str = Field(min_length=1, max_length=32)
    sku: str = Field(min_length=1, max_length=64)
    delta: int = Field(ge=-1_000_000_000, le=1_000_000_000)
    reason: str = Field(min_length=1, max_length=200)
    reference: str | None = Field(default=None, max_length=200)


class TransferIn(Strict):
    from_location: str = Field(min_length=1, max_length=32)
    to_location: str = Field(min_length=1, max_length=32)
    lines: list[StockLine] = Field(min_length=1, max_length=1000)
    reference: str | None = Field(default=None, max_length=200)
