"""Order statuses, derived in this one place from the records that imply them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum


class Status(StrEnum):
    OPEN = "open"  # being worked on: payment, allocation, fulfilment or delivery pending
    COMPLETED = "completed"  # paid, every unit shipped and every shipment delivered
    CANCELLED = "cancelled"  # withdrawn before shipping; holds no stock


class FinancialStatus(StrEnum):
    PENDING = "pending"  # nothing paid
    PARTIALLY_PAID = "partially_paid"  # 0 < paid < total
    PAID = "paid"  # paid >= total and nothing refunded
    PARTIALLY_REFUNDED = "partially_refunded"  # 0 < refunded < paid
    REFUNDED = "refunded"  # refunded = paid > 0


class FulfillmentStatus(StrEnum):
    UNFULFILLED = "unfulfilled"  # nothing shipped
    PARTIALLY_FULFILLED = "partially_fulfilled"  # some units shipped
    FULFILLED = "fulfilled"  # every unit not cancelled has shipped


def financial(total: int, paid: int, refunded: int) -> FinancialStatus:
    if refunded > 0:
        return FinancialStatus.REFUNDED if refunded >= paid else FinancialStatus.PARTIALLY_REFUNDED
    if paid <= 0:
        # A free order owes nothing; it counts as paid so that it can complete.
        return FinancialStatus.PAID if total == 0 else FinancialStatus.PENDING
    return FinancialStatus.PAID if paid >= total else FinancialStatus.PARTIALLY_PAID


@dataclass(frozen=True)
class LineQty:
    quantity: int
    shipped: int
    cancelled: int


def fulfillment(lines: Iterable[LineQty]) -> FulfillmentStatus:
    lines = list(lines)
    shipped = sum(ln.shipped for ln in lines)
    wanted = sum(ln.quantity - ln.cancelled for ln in lines)
    if shipped == 0:
        return FulfillmentStatus.UNFULFILLED
    return (
        FulfillmentStatus.FULFILLED
        if shipped >= wanted
        else (FulfillmentStatus.PARTIALLY_FULFILLED)
    )


def status(
    *,
    cancelled: bool,
    total: int,
    paid: int,
    fulfilled: FulfillmentStatus,
    all_delivered: bool,
) -> Status:
    if cancelled:
        return Status.CANCELLED
    if paid >= total and fulfilled is FulfillmentStatus.FULFILLED and all_delivered:
        return Status.COMPLETED
    return Status.OPEN
