"""The shapes of the inventory context's commands in and views out, as TypedDicts: plain
dicts at run time, checked by mypy where they are built and read. A command's field may be
``None`` where a page passes on a blank form field: the service checks every field and
refuses a missing one with its code. The API's response models
(``web/api/catalog/schemas.py``) describe the same views for clients."""

from __future__ import annotations

from typing_extensions import TypedDict


class StockLineIn(TypedDict):
    sku: str | None
    quantity: int | None


class ReceiptCommand(TypedDict, total=False):
    location: str | None
    lines: list[StockLineIn]
    reference: str | None


class AdjustmentCommand(TypedDict, total=False):
    location: str | None
    sku: str | None
    delta: int | None
    reason: str | None
    reference: str | None


class TransferCommand(TypedDict, total=False):
    from_location: str | None
    to_location: str | None
    lines: list[StockLineIn]
    reference: str | None


class LocationCommand(TypedDict, total=False):
    """A location to create (``code``, ``name`` and ``country`` required) or the fields of
    one to change (only those present change)."""

    code: str | None
    name: str | None
    kind: str | None
    line1: str | None
    line2: str | None
    city: str | None
    region: str | None
    postal_code: str | None
    country: str | None
    phone: str | None
    priority: int | None
    active: bool | None
    regions: list[str] | None


class LocationView(TypedDict):
    id: str
    code: str
    name: str
    kind: str
    line1: str | None
    line2: str | None
    city: str | None
    region: str | None
    postal_code: str | None
    country: str
    phone: str | None
    priority: int
    active: bool
    regions: list[str]
    created_at: str | None
    updated_at: str | None


class StockLineOut(TypedDict):
    sku: str
    quantity: int


class SkuLevelView(TypedDict):
    sku: str
    location: str
    on_hand: int
    reserved: int
    available: int


class ReceiptView(TypedDict):
    location: str
    reference: str | None
    lines: list[StockLineOut]
    levels: list[SkuLevelView]


class AdjustmentView(SkuLevelView):
    delta: int
    reason: str
    reason_code: str


class TransferView(TypedDict):
    from_location: str
    to_location: str
    reference: str | None
    lines: list[StockLineOut]


class LevelPair(TypedDict):
    on_hand: int
    reserved: int


class LedgerDifference(TypedDict):
    """A level that differs from the sum of its ledger (``stock.verify``)."""

    sku: str
    location: str
    level: LevelPair
    ledger: LevelPair
