"""Stock vocabulary and the checks of stock requests that need no database."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from dingdan.domain.shared.errors import FieldErrors


class MovementKind(StrEnum):
    RECEIPT = "receipt"  # goods arrive on hand
    ADJUSTMENT = "adjustment"  # a count, damage, loss or find changes on hand
    TRANSFER_OUT = "transfer_out"  # leaves one location for another
    TRANSFER_IN = "transfer_in"  # arrives from another location
    RESERVATION = "reservation"  # promised to an order, still on hand
    RELEASE = "release"  # a promise withdrawn (cancel, edit)
    SHIPMENT = "shipment"  # leaves on_hand and reserved together
    RETURN_RESTOCK = "return_restock"  # a resellable return back on hand
    WRITE_OFF = "write_off"  # damaged return recorded and kept out of stock


class AdjustmentReason(StrEnum):
    CYCLE_COUNT = "cycle_count"  # a count found a different quantity
    DAMAGED = "damaged"
    LOST = "lost"
    FOUND = "found"
    EXPIRED = "expired"
    THEFT = "theft"
    CORRECTION = "correction"  # an earlier entry was wrong
    OTHER = "other"


def reason_code(reason: str) -> AdjustmentReason:
    """The code of a free-text reason: itself when it is a code, else ``other``."""
    try:
        return AdjustmentReason(reason.strip().lower())
    except ValueError:
        return AdjustmentReason.OTHER


def check_quantity(value: Any, field: str, errors: FieldErrors) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        errors.add(field, "below_one")
    elif value > 1_000_000_000:
        errors.add(field, "too_large")


def check_lines(lines: Any, errors: FieldErrors, field: str = "lines") -> None:
    """``[{"sku", "quantity"}]``, non-empty, each SKU once."""
    if not isinstance(lines, list) or not lines:
        errors.add(field, "no_lines")
        return
    seen: set[str] = set()
    for i, line in enumerate(lines):
        sku = line.get("sku") if isinstance(line, dict) else None
        if not isinstance(sku, str) or not sku:
            errors.add(f"{field}[{i}].sku", "required")
        elif sku in seen:
            errors.add(f"{field}[{i}].sku", "duplicate_sku")
        else:
            seen.add(sku)
        check_quantity(
            line.get("quantity") if isinstance(line, dict) else None,
            f"{field}[{i}].quantity",
            errors,
        )
