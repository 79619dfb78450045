"""A report's range as signed whole years, months and days (services/reports/rollup_reads.py
``pieces``): whatever the weights choose, every day of the range is counted exactly once and
no day outside it at all; and the forms chosen are the ones hand-worked below."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from dingdan.services.reports.rollup_reads import pieces

d = date


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def _month_days(first: date, last: date) -> list[date]:
    out, m = [], first
    while m <= last:
        nxt = (m.replace(day=28) + timedelta(days=4)).replace(day=1)
        out += _days(m, nxt - timedelta(days=1))
        m = nxt
    return out


def coverage(parts) -> Counter:
    """How many times each day is counted (signed)."""
    seen: Counter = Counter()
    for level, first, last, sign in parts:
        if level == "day":
            days = _days(first, last)
        elif level == "month":
            days = _month_days(first, last)
        else:
            days = _month_days(first, last.replace(month=12))
        for day in days:
            seen[day] += sign
    return Counter({k: v for k, v in seen.items() if v})


dates = st.dates(min_value=d(2019, 1, 1), max_value=d(2028, 12, 31))


@settings(max_examples=400, deadline=None)
@given(a=dates, b=dates, busy=st.sets(st.integers(0, 40), max_size=6), seed=st.integers(0, 9))
def test_every_day_of_the_range_counts_once_whatever_the_weights(a, b, busy, seed):
    start, end = min(a, b), max(a, b)

    def day_weight(x, y):  # some days hold many orders, others none
        return sum(1000 if (day.toordinal() % 41) in busy else (day.toordinal() + seed) % 3
                   for day in _days(x, y))  # fmt: skip

    def month_weight(x, y):
        return sum(day_weight(day, day) for day in _month_days(x, y))

    for weights in ((None, None), (day_weight, month_weight)):
        assert coverage(pieces(start, end, *weights)) == Counter(
            {day: 1 for day in _days(start, end)}
        ), (start, end)


def test_the_forms_chosen():
    # Whole periods are read whole.
    assert pieces(d(2026, 3, 1), d(2026, 3, 31)) == [("month", d(2026, 3, 1), d(2026, 3, 1), 1)]
    assert pieces(d(2025, 1, 1), d(2026, 12, 31)) == [("year", d(2025, 1, 1), d(2026, 1, 1), 1)]
    # Few days of a month: the days.
    assert pieces(d(2026, 3, 2), d(2026, 3, 6)) == [("day", d(2026, 3, 2), d(2026, 3, 6), 1)]
    # Most of a month: the month less the other days.
    assert pieces(d(2026, 3, 2), d(2026, 3, 30)) == [
        ("day", d(2026, 3, 1), d(2026, 3, 1), -1),
        ("day", d(2026, 3, 31), d(2026, 3, 31), -1),
        ("month", d(2026, 3, 1), d(2026, 3, 1), 1),
    ]
    # 15 February to 10 April: February's 14 first days are fewer than its 14 last? Equal:
    # the days themselves; April's 10 days rather than the month less 20.
    assert pieces(d(2026, 2, 15), d(2026, 4, 10)) == [
        ("day", d(2026, 2, 15), d(2026, 2, 28), 1),
        ("day", d(2026, 4, 1), d(2026, 4, 10), 1),
        ("month", d(2026, 3, 1), d(2026, 3, 1), 1),
    ]
    # 365 days to 7 December 2026 when nothing is sold after it: December 2025 less its
    # first week, and the whole of 2026 (its days and months after the 7th weigh nothing).
    sold_until = d(2026, 12, 7)

    def day_weight(x, y):
        return sum(10 for day in _days(x, y) if day <= sold_until)

    def month_weight(x, y):
        return sum(day_weight(day, day) for day in _month_days(x, y))

    assert pieces(d(2025, 12, 8), sold_until, day_weight, month_weight) == [
        ("day", d(2025, 12, 1), d(2025, 12, 7), -1),
        ("day", d(2026, 12, 8), d(2026, 12, 31), -1),
        ("month", d(2025, 12, 1), d(2025, 12, 1), 1),
        ("year", d(2026, 1, 1), d(2026, 1, 1), 1),
    ]
