"""Where a channel's orders come in the pick queue (issue 25, part 5): a customer waiting at
the counter (a store or point-of-sale order) before a parcel. Lower comes first; orders of
one priority stay oldest first. Allocation is not affected (stock still goes oldest first).
"""

from __future__ import annotations

FIRST_CHANNELS = ("store", "pos")  # the channels of a customer standing in the shop
FIRST, OTHERS = 0, 10
LOWEST, HIGHEST = 0, 99


def default_pick_priority(channel: str) -> int:
    return FIRST if channel in FIRST_CHANNELS else OTHERS
