"""Forecasting (issue 23): the backtest's MASE as the contract defines it on hand-computed
cases; demand classes; on generated series of known structure (weekly season, trend,
intermittent demand of a known rate) the model the backtest chooses beats the naive forecast
where it should; known peaks and the uplift learned from past ones."""

from __future__ import annotations

import math
import random
from datetime import date, timedelta

import pytest

from dingdan.domain.purchasing import calendar
from dingdan.domain.purchasing import forecasting as fc
from dingdan.services.purchasing import forecast_models as fm

START = date(2025, 1, 6)  # a Monday


def test_mase_is_the_holdout_error_over_the_in_sample_naive_error():
    train = [1, 2, 4, 3]  # one-step naive errors 1, 2, 1: scale 4/3
    actual = [5, 5]
    assert fc.naive_scale(train) == pytest.approx(4 / 3)
    assert fc.mase(train, actual, [4, 6]) == pytest.approx(1 / (4 / 3))  # MAE 1 -> 0.75
    assert fc.mase(train, actual, [3, 3]) == pytest.approx(2 / (4 / 3))  # MAE 2 -> 1.5


def test_the_backtest_picks_the_smallest_error_and_measures_the_naive_forecast():
    train = [1, 2, 4, 3]
    actual = [5, 5]
    test = fc.choose(train, actual, {"a": [4, 6], "b": [5, 4], "c": [6, 4]})
    # MAE a = 1, b = 0.5, c = 1: b; MASE 0.5 / (4/3) = 0.375
    assert test.model == "b"
    assert test.mase == pytest.approx(0.375)
    # naive: the last training day (3) repeated, MAE 2 -> 1.5
    assert test.naive_mase == pytest.approx(1.5)
    # errors of b: 0 and 1 -> sample standard deviation sqrt(0.5)
    assert test.error_stdev == pytest.approx(math.sqrt(0.5))
    # ties go to the first candidate given
    assert fc.choose(train, actual, {"x": [4, 6], "y": [6, 4]}).model == "x"


def test_mase_is_none_where_undefined():
    assert fc.mase([2, 2, 2], [1], [1]) is None  # constant history: scale 0
    assert fc.mase([7], [1], [1]) is None  # one day: no one-step naive error
    assert fc.choose([2, 2], [1, 1], {"a": [1, 1]}).mase is None


def test_demand_classes():
    assert fc.demand_class([0, 0, 0]) == "none"
    assert fc.demand_class([5, 6, 5, 6, 5]) == "smooth"
    assert fc.demand_class([1, 30, 1, 30, 2]) == "erratic"
    assert fc.demand_class([0, 0, 2, 0, 0, 2, 0, 2]) == "intermittent"
    assert fc.demand_class([0, 0, 1, 0, 0, 40, 0, 9]) == "lumpy"


def _weekly(days: int, seed: int = 1) -> list[float]:
    rng = random.Random(seed)
    shape = [10, 12, 14, 16, 30, 45, 8]  # Monday .. Sunday
    return [max(0.0, shape[i % 7] + rng.gauss(0, 1.5)) for i in range(days)]


def test_weekly_season_beats_the_naive_forecast():
    found = fm.compute(_weekly(182), START)
    assert found.demand_class == "smooth"
    assert found.model in fm.SMOOTH
    assert found.mase is not None and found.naive_mase is not None
    assert found.mase < 0.5 * found.naive_mase
    # The forecast keeps the week's shape: Saturday (index 5) is the peak.
    week = found.daily[:7]
    weekday = [(found.first_day + timedelta(days=i)).weekday() for i in range(7)]
    assert weekday[week.index(max(week))] == 5


def test_trend_beats_the_naive_forecast():
    rng = random.Random(2)
    series = [20 + 0.5 * i + rng.gauss(0, 1) for i in range(150)]
    found = fm.compute(series, START)
    assert found.model in fm.SMOOTH
    assert found.mase is not None and found.naive_mase is not None
    assert found.mase < found.naive_mase
    assert found.daily[27] > series[-1]  # still rising


def test_intermittent_demand_forecasts_its_known_rate():
    rng = random.Random(3)
    rate, size = 0.2, 2.0  # a sale on one day in five, two units: 0.4 units a day
    series = [size if rng.random() < rate else 0.0 for _ in range(365)]
    found = fm.compute(series, START)
    assert found.demand_class == "intermittent"
    assert found.model in fm.INTERMITTENT
    per_day = sum(found.daily[:28]) / 28
    assert per_day == pytest.approx(rate * size, rel=0.3)


def test_no_demand_forecasts_zeros():
    found = fm.compute([0.0] * 30, START)
    assert (found.model, found.mase, found.naive_mase) == ("Zero", None, None)
    assert set(found.daily) == {0.0}
    empty = fm.compute([], START)
    assert empty.history_days == 0 and empty.first_day == START


def test_known_peak_days():
    assert calendar.mothers_day(2026) == date(2026, 5, 10)
    assert calendar.mothers_day(2027) == date(2027, 5, 9)
    days = calendar.peak_days(date(2026, 11, 1), date(2026, 12, 31))
    assert days[date(2026, 11, 11)] == "singles_day"
    assert days[date(2026, 12, 12)] == "double_12"
    cny = calendar.peak_days(date(2027, 1, 1), date(2027, 2, 28))
    assert cny[date(2027, 2, 5)] == "chinese_new_year"  # the eve of 2027-02-06
    assert date(2027, 2, 6) not in cny
    promo = calendar.Promotion("anniversary", date(2026, 11, 11), date(2026, 11, 12))
    with_promo = calendar.peak_days(date(2026, 11, 1), date(2026, 11, 30), [promo])
    assert with_promo[date(2026, 11, 11)] == with_promo[date(2026, 11, 12)] == "promotion"


def test_the_uplift_of_past_peaks_lifts_the_future_ones():
    first = date(2024, 9, 1)
    days = (date(2026, 9, 1) - first).days
    series = [10.0] * days
    for year in (2024, 2025):
        series[(date(year, 11, 11) - first).days] = 40.0
    uplifts = calendar.learn_uplifts(first, series)
    assert uplifts["singles_day"] == pytest.approx(4.0)
    assert "double_12" not in uplifts or uplifts["double_12"] == pytest.approx(1.0)
    ahead = calendar.apply_uplifts(date(2026, 11, 10), [10.0, 10.0, 10.0], uplifts)
    assert ahead == [10.0, 40.0, 10.0]


def test_a_promotion_uses_the_uplift_the_seller_expects_else_the_learned_one():
    start = date(2027, 3, 1)
    expected = calendar.Promotion("週年慶", date(2027, 3, 2), date(2027, 3, 3), 1.5)
    plain = calendar.Promotion("Spring", date(2027, 3, 4), date(2027, 3, 4))
    ahead = calendar.apply_uplifts(start, [10.0] * 5, {"promotion": 2.0}, [expected, plain])
    assert ahead == [10.0, 15.0, 15.0, 20.0, 10.0]
    assert calendar.apply_uplifts(start, [10.0] * 5, {}, [expected, plain]) == [
        10.0, 15.0, 15.0, 10.0, 10.0
    ]  # fmt: skip


def test_a_peak_the_history_holds_only_part_of_teaches_nothing():
    # Ends on 2025-05-05: two of the seven days before Mother's Day (2025-05-11).
    first = date(2025, 1, 6)
    series = [10.0] * 120
    series[-2:] = [2.0, 2.0]
    assert "mothers_day" not in calendar.learn_uplifts(first, series)


def test_a_refit_keeps_the_chosen_model_and_its_backtest():
    history = _weekly(120)
    kept = fm.Kept("SeasonalNaive", None, "smooth", 28, 0.4, 1.2, 1.5)
    found = fm.compute(history, START, kept=kept)
    assert (found.model, found.mase, found.naive_mase, found.error_stdev) == (
        "SeasonalNaive",
        0.4,
        1.2,
        1.5,
    )
    # Seasonal naive: next week repeats the last one.
    assert found.daily[:7] == pytest.approx(history[-7:])
    # A demand class that changed chooses again.
    other = fm.compute(
        history, START, kept=fm.Kept("CrostonSBA", None, "intermittent", 28, 1, 1, 1)
    )
    assert other.model in fm.SMOOTH and other.mase != 1


def test_autoets_refits_the_form_its_backtest_chose():
    found = fm.compute(_weekly(120, seed=4), START)
    if found.model == "AutoETS":
        assert found.spec is not None and len(found.spec) in (3, 4)
    values, spec = fm.fit_predict("AutoETS", _weekly(120, seed=4), 7)
    assert values is not None and spec is not None
    again, same = fm.fit_predict("AutoETS", _weekly(120, seed=4), 7, spec)
    assert same == spec and again == pytest.approx(values)


def _peaked(first: date, days: int, seed: int = 7) -> list[float]:
    """The weekly shape, four times as much on 11.11 and 12.12, twice in the fortnight
    before Chinese New Year."""
    peaks = calendar.peak_days(first, first + timedelta(days=days - 1))
    factor = {"singles_day": 4.0, "double_12": 4.0, "chinese_new_year": 2.0}
    base = _weekly(days, seed)
    return [
        v * factor.get(peaks.get(first + timedelta(days=i), ""), 1.0) for i, v in enumerate(base)
    ]


def test_autoarima_is_a_candidate_only_for_long_series_that_react_to_peaks():
    first = date(2024, 12, 21)
    long = _peaked(first, 730)
    uplifts = calendar.learn_uplifts(first, long)
    assert uplifts["singles_day"] == pytest.approx(4.0, rel=0.25)
    assert fm.arima_pays(long, first, uplifts)
    assert fm.ARIMA in fm.candidates_for("smooth", fm.arima_pays(long, first, uplifts))
    later = first + timedelta(days=430)
    assert not fm.arima_pays(long[-300:], later, uplifts)  # too short to see each peak
    assert not fm.arima_pays(long, first, {"singles_day": 1.1})  # peaks do not move it
    # Noise: one day 60% up on a series whose days vary by half their mean is chance.
    rng = random.Random(3)
    noisy = [max(0.0, 5 + rng.gauss(0, 2.5)) for _ in range(730)]
    assert not fm.arima_pays(noisy, first, {"singles_day": 1.6})
    assert fm.candidates_for("intermittent", True) == fm.INTERMITTENT


def test_autoarima_takes_the_peaks_as_regressors_and_refits_its_orders():
    # 730 days to 2026-12-20: the forecast covers Christmas, not 11.11; hold out the last
    # 60 days with 11.11 and 12.12 in them and forecast them from the days before.
    first = date(2024, 12, 21)
    history = _peaked(first, 730)
    train = history[:-60]
    values, spec, kinds = fm.arima_predict(train, first, 60)
    assert values is not None and spec is not None and len(spec) >= 6
    assert {"singles_day", "double_12", "chinese_new_year"} <= set(kinds)
    holdout_start = first + timedelta(days=len(train))
    at = {holdout_start + timedelta(days=i): v for i, v in enumerate(values)}
    singles = date(2026, 11, 11)
    week_around = [at[singles + timedelta(days=d)] for d in (-7, 7)]  # same weekday
    assert at[singles] > 2 * max(week_around)  # the regressor lifts the peak day
    # The orders it chose refit without a search, to the same forecast.
    again, same, _ = fm.arima_predict(train, first, 60, spec)
    assert same == spec and again == pytest.approx(values, rel=1e-6)
    # Among the candidates the backtest chooses from, on the whole history.
    found = fm.compute(history, first)
    assert found.mase is not None and found.naive_mase is not None
    assert found.mase < found.naive_mase
