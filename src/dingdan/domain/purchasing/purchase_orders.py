"""A purchase order's statuses, their transitions, and the cost of what arrives.

Landed cost: freight and duty are spread over the lines by value (quantity × unit cost), so
a unit's share is ``(freight + duty) × unit_cost / Σ quantity·unit_cost``. Product cost is a
moving average over what is on hand: ``(on_hand·old + q·landed) / (on_hand + q)``. Costs are
kept exactly, in millionths of the currency's unit (micros), rounded half-even once.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_HALF_EVEN, Decimal
from enum import StrEnum

from dingdan.domain.shared.errors import InvalidTransition

MICROS = 1_000_000


class POStatus(StrEnum):
    DRAFT = "draft"  # being prepared; nothing is on order yet
    SENT = "sent"  # the supplier has it: its units are on order
    PARTIALLY_RECEIVED = "partially_received"  # some units arrived, the rest on order
    RECEIVED = "received"  # every unit arrived
    CLOSED = "closed"  # received short: what is missing is no longer expected
    CANCELLED = "cancelled"  # withdrawn before anything arrived


# What may follow each status by a person's action (receipts move sent → partially
# received → received themselves, see ``after_receipt``).
TRANSITIONS: dict[POStatus, frozenset[POStatus]] = {
    POStatus.DRAFT: frozenset({POStatus.SENT, POStatus.CANCELLED}),
    POStatus.SENT: frozenset({POStatus.CANCELLED, POStatus.CLOSED}),
    POStatus.PARTIALLY_RECEIVED: frozenset({POStatus.CLOSED}),
    POStatus.RECEIVED: frozenset(),
    POStatus.CLOSED: frozenset(),
    POStatus.CANCELLED: frozenset(),
}
RECEIVABLE = frozenset({POStatus.SENT, POStatus.PARTIALLY_RECEIVED})
ON_ORDER = RECEIVABLE  # the statuses whose missing units count as on order


def check_transition(current: str, target: POStatus) -> None:
    if target not in TRANSITIONS[POStatus(current)]:
        raise InvalidTransition(
            detail=f"A purchase order that is {current} cannot become {target.value}."
        )


def check_receivable(current: str) -> None:
    if POStatus(current) not in RECEIVABLE:
        raise InvalidTransition(
            detail=f"A purchase order that is {current} cannot receive goods; "
            "only a sent or partially received one can."
        )


def after_receipt(lines: Sequence[tuple[int, int]]) -> POStatus:
    """The status once goods arrived: (quantity, received) per line."""
    if all(received >= quantity for quantity, received in lines):
        return POStatus.RECEIVED
    return POStatus.PARTIALLY_RECEIVED


def landed_unit_costs(
    lines: Sequence[tuple[int, int]], extras_minor: int, exponent: int
) -> list[int]:
    """Per line (quantity, unit cost in minor units), the landed unit cost in micros."""
    scale = Decimal(MICROS) / (Decimal(10) ** exponent)  # micros per minor unit
    total = sum(q * c for q, c in lines)
    out = []
    for _q, cost in lines:
        share = Decimal(extras_minor) * cost / total if total else Decimal(0)
        out.append(int(((cost + share) * scale).quantize(Decimal(1), ROUND_HALF_EVEN)))
    return out


def moving_average(
    on_hand_before: int, old_micros: int | None, quantity: int, landed_micros: int
) -> int:
    """The new average unit cost (micros) once ``quantity`` units at ``landed_micros`` join
    ``on_hand_before`` units at ``old_micros``. No old cost, or nothing on hand (a negative
    or zero count carries no value to average with), starts again from the landed cost."""
    if old_micros is None or on_hand_before <= 0:
        return landed_micros
    value = Decimal(on_hand_before) * old_micros + Decimal(quantity) * landed_micros
    return int((value / (on_hand_before + quantity)).quantize(Decimal(1), ROUND_HALF_EVEN))


def micros_text(micros: int, exponent: int) -> str:
    """Micros as a decimal string with the currency's decimals (half-even)."""
    value = (Decimal(micros) / MICROS).quantize(Decimal(1).scaleb(-exponent), ROUND_HALF_EVEN)
    return f"{value:f}"
