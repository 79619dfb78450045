"""Seeing it coming (issue 23): stock-out days from available stock, deliveries and the
forecast; orders expected to miss their stage's limit from its pace and the queue ahead."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from dingdan.domain.purchasing import planning as p

TODAY = date(2026, 12, 7)
NOW = datetime(2026, 12, 7, 12, tzinfo=UTC)


def test_stock_runs_out_on_the_first_day_it_cannot_meet():
    # 10 units, 2 a day: 8, 6, 4, 2, 0 left after the 12th; the 13th cannot be met.
    assert p.stockout_date(TODAY, 10, [2.0] * 30) == date(2026, 12, 13)
    # 5 more arrive on the 10th (before its demand): 9 left that evening, then 7, 5, 3, 1,
    # and the 15th cannot be met.
    assert p.stockout_date(TODAY, 10, [2.0] * 30, [(date(2026, 12, 10), 5)]) == date(2026, 12, 15)
    # A delivery expected in the past counts as arriving today.
    assert p.stockout_date(TODAY, 0, [2.0] * 30, [(date(2026, 12, 1), 3)]) == date(2026, 12, 9)


def test_no_stock_runs_out_today_and_no_demand_never():
    assert p.stockout_date(TODAY, 0, [1.0] * 5) == TODAY
    assert p.stockout_date(TODAY, -3, [0.0] * 5) == TODAY
    assert p.stockout_date(TODAY, 4, [0.0] * 365) is None
    assert p.stockout_date(TODAY, 4, [1.0, 1.0, 1.0]) is None  # not within the forecast
    assert p.stockout_date(TODAY, 1.0, [0.1] * 10) is None  # float sums: 1.0 exactly met


def test_the_pace_of_a_stage():
    pace = p.pace([4.0, 10.0, 12.0], 24.0)
    assert pace.median_hours == 10.0 and pace.per_hour == 0.125
    assert p.pace([], 24.0) == p.StagePace(None, None)


def test_orders_expected_after_their_limit_are_at_risk_before_they_are_late():
    def ago(hours: float) -> datetime:
        return NOW - timedelta(hours=hours)

    waiting = [
        p.Waiting("O3", "picking", ago(5)),
        p.Waiting("O1", "picking", ago(22)),
        p.Waiting("O4", "picking", ago(30)),  # late already: ahead of the others
        p.Waiting("O2", "picking", ago(20)),
        p.Waiting("P1", "payment", ago(1)),  # no pace measured for payment
    ]
    # Picking: 24 h allowed; a median of 10 h; one order every 4 hours.
    paces = {"picking": p.StagePace(10.0, 0.25), "payment": p.StagePace(None, None)}
    found = p.at_risk(NOW, waiting, {"picking": 24, "payment": 72}, paces)
    # O1: 1 ahead -> out at now + 4 h, due now + 2 h.  O2: 2 ahead -> now + 8 h, due now + 4 h.
    # O3: 3 ahead -> now + 12 h, due now + 19 h: in time.
    assert [(r.number, r.ahead, r.expected, r.due) for r in found] == [
        ("O1", 1, NOW + timedelta(hours=4), NOW + timedelta(hours=2)),
        ("O2", 2, NOW + timedelta(hours=8), NOW + timedelta(hours=4)),
    ]


def test_the_median_alone_can_put_an_order_at_risk():
    waiting = [p.Waiting("A", "payment", NOW - timedelta(hours=20))]
    slow = {"payment": p.StagePace(80.0, None)}
    assert [r.number for r in p.at_risk(NOW, waiting, {"payment": 72}, slow)] == ["A"]
    quick = {"payment": p.StagePace(60.0, None)}
    assert p.at_risk(NOW, waiting, {"payment": 72}, quick) == []
