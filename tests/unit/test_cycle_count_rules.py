"""Which SKUs a cycle count is due for, in the sheet's order, and what posting changes."""

from __future__ import annotations

from datetime import date, timedelta

from dingdan.domain.purchasing import cycle_counts as rules
from dingdan.domain.purchasing.cycle_counts import Candidate

TODAY = date(2026, 12, 7)
EVERY = rules.DEFAULT_INTERVALS


def _ago(days: int) -> date:
    return TODAY - timedelta(days=days)


def test_a_is_due_monthly_b_quarterly_c_yearly_and_the_never_counted_always():
    candidates = [
        Candidate("A-FRESH", "A", _ago(29)),
        Candidate("A-OLD", "A", _ago(30)),
        Candidate("B-FRESH", "B", _ago(90)),
        Candidate("B-OLD", "B", _ago(91)),
        Candidate("C-FRESH", "C", _ago(364)),
        Candidate("C-OLD", "C", _ago(400)),
        Candidate("C-NEVER", "C", None),
        Candidate("A-NEVER", "A", None),
    ]
    got = [c.sku for c in rules.due(candidates, TODAY, EVERY)]
    assert got == ["A-NEVER", "A-OLD", "B-OLD", "C-NEVER", "C-OLD"]


def test_the_longest_uncounted_come_first_within_a_class():
    candidates = [
        Candidate("X", "B", _ago(100)),
        Candidate("Y", "B", _ago(300)),
        Candidate("Z", "B", _ago(200)),
    ]
    assert [c.sku for c in rules.due(candidates, TODAY, EVERY)] == ["Y", "Z", "X"]


def test_intervals_from_the_settings_keep_the_defaults_for_what_is_not_valid():
    assert rules.intervals(None) == {"A": 30, "B": 91, "C": 365}
    assert rules.intervals({"A": 7, "b": 60}) == {"A": 7, "B": 60, "C": 365}
    bad = {"A": 0, "B": True, "C": "30"}
    assert rules.intervals(bad) == rules.DEFAULT_INTERVALS
    assert rules.intervals({"C": 99999})["C"] == 365


def test_posting_adds_the_count_minus_the_on_hand_when_counted():
    assert rules.difference(47, 50) == -3
    assert rules.difference(5, 5) == 0
    assert rules.difference(12, 0) == 12
