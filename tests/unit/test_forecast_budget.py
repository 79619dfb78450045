"""The full forecast run's bound by design: AutoARIMA's search only for as many
peak-sensitive series as the CPU budget leaves room for, given in the order the run meets
them (highest revenue first); the rest, and series that do not react to peaks, get none."""

from __future__ import annotations

import random
from datetime import date, timedelta

from dingdan.domain.purchasing import calendar
from dingdan.services.purchasing import forecast_models as fm
from dingdan.services.purchasing.forecasts import ArimaBudget

FIRST = date(2024, 12, 7)
DAYS = 730


def _peaked(seed: int) -> list[float]:
    rng = random.Random(seed)
    peaks = calendar.peak_days(FIRST, FIRST + timedelta(days=DAYS - 1))
    factor = {"singles_day": 3.0, "double_12": 3.0, "chinese_new_year": 2.0}
    return [
        max(0.0, round(20 * factor.get(peaks.get(FIRST + timedelta(days=d), ""), 1.0)
                       + rng.gauss(0, 1)))
        for d in range(DAYS)
    ]  # fmt: skip


def test_the_budget_is_what_the_cpu_left_after_every_series_allows():
    # 10,000 series: 6,000 s - 10,000 x 0.25 s = 3,500 s, 1.25 s a search: 2,800 searches.
    assert fm.arima_budget(10_000) == 2_800
    assert fm.arima_budget(40_000) == 0
    # The worst case (every series a candidate) stays within the budget.
    spent = 10_000 * fm.BASE_CPU_S + fm.arima_budget(10_000) * fm.ARIMA_CPU_S
    assert spent <= fm.RUN_BUDGET_CPU_S < 2 * 60 * 60


def test_searches_go_to_the_first_peak_sensitive_series_until_the_budget_is_spent():
    budget = ArimaBudget(series=1, budget_s=fm.BASE_CPU_S + 2 * fm.ARIMA_CPU_S)
    assert budget.left == 2
    flat = [20.0 + (d % 3) for d in range(DAYS)]
    intermittent = [1.0 if d % 9 == 0 else 0.0 for d in range(DAYS)]
    jobs = [
        (1, [""], flat, FIRST, None),  # no reaction to peaks: no search, nothing spent
        (2, [""], intermittent, FIRST, None),
        (3, [""], _peaked(3), FIRST, None),
        (4, [""], _peaked(4)[:300], FIRST + timedelta(days=430), None),  # too short
        (5, [""], _peaked(5), FIRST, None),
        (6, [""], _peaked(6), FIRST, None),  # the budget is spent: the learned uplift
    ]
    assert [budget.decide(j, []) for j in jobs] == [False, False, True, False, True, False]
    assert budget.given == 2 and budget.left == 0


def test_a_series_without_a_search_still_gets_the_peaks_uplift():
    history = _peaked(7)
    found = fm.compute(history, FIRST, arima=False, days=30)
    assert found.model != fm.ARIMA and found.uplifts.get("singles_day", 1.0) > 2
