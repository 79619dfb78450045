"""RFM: recency, frequency and monetary scores from 1 to 5, and the segment they put a
customer in.

Scores are relative to the shop's own customers (quintiles of the mid-rank percentile): a
customer's score on a measure is 1 + ⌊5 · (worse + equal/2) / n⌋ (at most 5), where
``worse`` counts the customers whose value is strictly worse, ``equal`` those with the same
value (the customer included) and ``n`` all customers scored. Customers with equal values
share a score, the middle of the places they hold together (most customers with one order
are not all put at the bottom, nor all the customers who bought today at the top), and the
scores of a hand-built set can be worked out on paper. Worse means: a longer time since the
last order (recency), fewer orders (frequency), less net value (monetary).

Segments, the first rule that holds (R, F are the recency and frequency scores):

- ``champions``: R >= 4 and F >= 4 (bought lately and often);
- ``loyal``: R >= 3 and F >= 3;
- ``new``: R >= 3 and F <= 2 (bought lately, not often yet);
- ``at_risk``: R <= 2 and F >= 3 (used to buy often, not lately);
- ``hibernating``: R = 2 (F <= 2);
- ``lost``: R = 1 (F <= 2).

Monetary does not choose the segment; it is shown beside it (and sorts the lists)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import NamedTuple

import numpy as np


class Segment(StrEnum):
    CHAMPIONS = "champions"  # bought lately and often
    LOYAL = "loyal"  # buy regularly
    NEW = "new"  # bought lately, not often yet
    AT_RISK = "at_risk"  # used to buy often, not lately
    HIBERNATING = "hibernating"  # few orders, a while ago
    LOST = "lost"  # few orders, long ago


SEGMENTS: tuple[Segment, ...] = tuple(Segment)


@dataclass(frozen=True)
class Facts:
    """What one customer's orders say (cancelled orders left out)."""

    days_since_last: int
    orders: int
    monetary: int  # net value in minor units of the shop's main currency


class Scores(NamedTuple):  # a tuple: a shop's hundreds of thousands are made quickly
    r: int
    f: int
    m: int
    segment: Segment


def quintile_scores(values: Sequence[float]) -> list[int]:
    """Per value, 1 + ⌊5 · (smaller + equal/2) / n⌋, at most 5 (larger is better)."""
    if not values:
        return []
    given = np.asarray(values)
    ordered = np.sort(given)
    below = np.searchsorted(ordered, given, side="left")
    upto = np.searchsorted(ordered, given, side="right")
    scores = 1 + (5 * (below + upto)) // (2 * len(given))  # 2·below + equal = below + upto
    return list(np.minimum(scores, 5).tolist())


def segment_of(r: int, f: int) -> Segment:
    if r >= 4 and f >= 4:
        return Segment.CHAMPIONS
    if r >= 3:
        return Segment.LOYAL if f >= 3 else Segment.NEW
    if f >= 3:
        return Segment.AT_RISK
    return Segment.HIBERNATING if r == 2 else Segment.LOST


def score(customers: Sequence[Facts]) -> list[Scores]:
    """The scores and segment of each customer, relative to all of them."""
    if not customers:
        return []
    rs = quintile_scores([-c.days_since_last for c in customers])
    fs = quintile_scores([c.orders for c in customers])
    ms = quintile_scores([c.monetary for c in customers])
    table = {(r, f): segment_of(r, f) for r in range(1, 6) for f in range(1, 6)}
    return [Scores(r, f, m, table[r, f]) for r, f, m in zip(rs, fs, ms, strict=True)]
