"""What a channel may sell of a SKU: what is available across its locations less the buffer
the seller keeps back from it, never below 0 (issue 21, "Stock for channels").

A buffer in units is subtracted; a buffer in percent keeps back that share of what is
available, and what may be sold is rounded down (10 available, 25 % kept back: 7 may be
sold, not 8), so a marketplace is never offered a unit that the buffer meant to keep.
"""

from __future__ import annotations

from dataclasses import dataclass

BUFFER_KINDS = ("units", "percent")
MAX_BUFFER_UNITS = 1_000_000


@dataclass(frozen=True)
class Buffer:
    kind: str = "units"
    value: int = 0


def may_sell(available: int, buffer: Buffer) -> int:
    """What the channel may sell when ``available`` units are free at its locations."""
    if available <= 0:
        return 0
    if buffer.kind == "percent":
        return max(0, available * (100 - buffer.value) // 100)
    return max(0, available - buffer.value)
