"""Seeing it coming: when stock runs out, and which orders will miss their stage's limit.

Stock-out: from what is available today, the deliveries expected (each on its day, before
that day's demand), and the forecast per day from tomorrow, the first day whose demand the
stock left cannot meet in full; None if that is not within the forecast. Stock already at
zero or below runs out today.

Orders at risk: each stage is a queue served oldest first. From how the stage runs now (the
median hours an order spent in it recently, and how many orders left it per hour), an
order with ``i`` orders ahead of it is expected out at the later of ``since + median`` and
``now + i / rate`` (the queue ahead cleared at the recent pace). A stage the customer, not
the staff, moves on (payment) has no rate: only its median counts. It is at risk when that
is after its limit (``since + limit``) and it is not late yet (late ones are already on the
dashboard).
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

# A forecast's float sums may miss a whole unit by a hair: within this, demand is met.
TOLERANCE = 1e-9


def stockout_date(
    today: date,
    available: float,
    forecast: Sequence[float],
    on_order: Iterable[tuple[date, float]] = (),
) -> date | None:
    """The first day (from today) whose demand the stock cannot meet; ``forecast[0]`` is
    tomorrow's demand."""
    arrivals: dict[date, float] = {}
    for day, quantity in on_order:
        arrivals[max(day, today)] = arrivals.get(max(day, today), 0.0) + float(quantity)
    left = float(available) + arrivals.pop(today, 0.0)
    if left <= 0:
        return today
    for i, demand in enumerate(forecast, start=1):
        day = today + timedelta(days=i)
        left += arrivals.get(day, 0.0) - float(demand)
        if left < -TOLERANCE:
            return day
    return None


@dataclass(frozen=True)
class StagePace:
    """How a stage runs now: median hours spent in it, orders leaving it per hour."""

    median_hours: float | None
    per_hour: float | None


def pace(durations_hours: Sequence[float], window_hours: float) -> StagePace:
    """From the hours each order that left the stage within the last ``window_hours``
    spent in it."""
    if not durations_hours:
        return StagePace(None, None)
    return StagePace(
        statistics.median(durations_hours),
        len(durations_hours) / window_hours if window_hours > 0 else None,
    )


@dataclass(frozen=True)
class Waiting:
    number: str
    stage: str
    since: datetime


@dataclass(frozen=True)
class AtRisk:
    number: str
    stage: str
    since: datetime
    due: datetime
    expected: datetime
    ahead: int


def at_risk(
    now: datetime,
    waiting: Iterable[Waiting],
    limits_hours: dict[str, float],
    paces: dict[str, StagePace],
) -> list[AtRisk]:
    """The orders not late yet that are expected to leave their stage after its limit,
    soonest due first (ties by number)."""
    queues: dict[str, list[Waiting]] = {}
    for w in waiting:
        queues.setdefault(w.stage, []).append(w)
    found = []
    for stage, queue in queues.items():
        speed = paces.get(stage, StagePace(None, None))
        if stage not in limits_hours or (speed.median_hours is None and not speed.per_hour):
            continue
        allowed = timedelta(hours=limits_hours[stage])
        for ahead, w in enumerate(sorted(queue, key=lambda x: (x.since, x.number))):
            due = w.since + allowed
            if now > due:
                continue  # late already
            expected = _expected(now, w.since, ahead, speed)
            if expected > due:
                found.append(AtRisk(w.number, stage, w.since, due, expected, ahead))
    return sorted(found, key=lambda r: (r.due, r.number))


def _expected(now: datetime, since: datetime, ahead: int, speed: StagePace) -> datetime:
    candidates = [now]
    if speed.median_hours is not None:
        candidates.append(since + timedelta(hours=speed.median_hours))
    if speed.per_hour:
        candidates.append(now + timedelta(hours=ahead / speed.per_hour))
    return max(candidates)
