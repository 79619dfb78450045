"""One SKU's forecast from its daily demand: the models (Nixtla statsforecast), the backtest
that picks one, the known peaks' uplift. Plain lists in and out, no database: the worker's
processes run it (``compute`` is picklable and imports statsforecast on first use, so that
pandas stays out of the request path until a forecast is computed there).

Smooth and erratic demand: AutoETS (weekly season), SeasonalNaive(7), Theta (weekly season).
Intermittent and lumpy demand: CrostonSBA, TSB, ADIDA, IMAPA. Each candidate forecasts the
last ``BACKTEST_DAYS`` days from the days before; the smallest error wins and is refitted on
the whole history (domain/purchasing/forecasting.py).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from dingdan.domain.purchasing import calendar
from dingdan.domain.purchasing import forecasting as fc

SMOOTH = ("AutoETS", "SeasonalNaive", "Theta")
INTERMITTENT = ("CrostonSBA", "TSB", "ADIDA", "IMAPA")
FALLBACK = "HistoricAverage"
BACKTEST_DAYS = 28
FORECAST_DAYS = 366  # from the day after the history: a year's horizon from tomorrow
MAX_HISTORY_DAYS = 730
SEASON = 7


def _model(name: str) -> Any:
    from statsforecast import models as m

    made: dict[str, Any] = {
        "AutoETS": lambda: m.AutoETS(season_length=SEASON),
        "SeasonalNaive": lambda: m.SeasonalNaive(season_length=SEASON),
        "Theta": lambda: m.Theta(season_length=SEASON),
        "CrostonSBA": m.CrostonSBA,
        "TSB": lambda: m.TSB(alpha_d=0.1, alpha_p=0.1),
        "ADIDA": m.ADIDA,
        "IMAPA": m.IMAPA,
        FALLBACK: m.HistoricAverage,
    }
    return made[name]()


def predict(name: str, history: Sequence[float], horizon: int) -> list[float] | None:
    """The model's forecast, or None when it cannot forecast this history (too short)."""
    import numpy as np

    if name == "SeasonalNaive" and len(history) < SEASON:
        return None
    if name in ("AutoETS", "Theta") and len(history) < 2 * SEASON:
        return None
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            answer = _model(name).forecast(y=np.asarray(history, dtype=float), h=horizon)
    except Exception:  # noqa: BLE001 - a model that cannot fit this series is no candidate
        return None
    values = [float(v) for v in answer["mean"]]
    if len(values) != horizon or not all(math.isfinite(v) for v in values):
        return None
    return fc.clean(values)


@dataclass
class Computed:
    model: str
    demand_class: str
    history_days: int
    horizon: int
    mase: float | None
    naive_mase: float | None
    error_stdev: float
    first_day: date
    daily: list[float]
    uplifts: dict[str, float] = field(default_factory=dict)


def candidates_for(demand_class: str) -> tuple[str, ...]:
    return INTERMITTENT if demand_class in fc.INTERMITTENT_CLASSES else SMOOTH


def compute(
    history: Sequence[float],
    first_day: date,
    promotions: Sequence[calendar.Promotion] = (),
    horizon: int = BACKTEST_DAYS,
    days: int = FORECAST_DAYS,
) -> Computed:
    """``history`` is the demand per day from ``first_day`` to the day before the forecast
    starts (``first_day + len(history)``)."""
    start = first_day + timedelta(days=len(history))
    history = [float(v) for v in history[-MAX_HISTORY_DAYS:]]
    first_day = start - timedelta(days=len(history))
    klass = fc.demand_class(history)
    if klass == "none":
        return Computed("Zero", klass, len(history), horizon, None, None, 0.0, start, [0.0] * days)
    uplifts = calendar.learn_uplifts(first_day, history, promotions)
    # A short history holds out fewer days (at least a week) so that a model is still chosen.
    horizon = min(horizon, max(SEASON, len(history) - fc.MIN_TRAIN_DAYS))
    test = backtest(history, first_day, candidates_for(klass), horizon, uplifts, promotions)
    model = test.model if test else FALLBACK
    values = predict(model, history, days) or predict(FALLBACK, history, days) or [0.0] * days
    values = fc.clean(calendar.apply_uplifts(start, values, uplifts, promotions))
    return Computed(
        model,
        klass,
        len(history),
        horizon,
        test.mase if test else None,
        test.naive_mase if test else None,
        test.error_stdev if test else fc.stdev(history),
        start,
        values,
        uplifts,
    )


def backtest(
    history: Sequence[float],
    first_day: date,
    models: Sequence[str],
    horizon: int,
    uplifts: dict[str, float] | None = None,
    promotions: Sequence[calendar.Promotion] = (),
) -> fc.Backtest | None:
    """The candidates' forecasts of the last ``horizon`` days from the days before; None
    when the history is too short to hold those days out."""
    train, actual = fc.split(history, horizon)
    if len(train) < fc.MIN_TRAIN_DAYS or len(actual) < horizon:
        return None
    holdout_start = first_day + timedelta(days=len(train))
    forecasts = {}
    for name in models:
        found = predict(name, train, horizon)
        if found is not None:
            forecasts[name] = calendar.apply_uplifts(
                holdout_start, found, uplifts or {}, promotions
            )
    if not forecasts:
        return None
    return fc.choose(train, actual, forecasts)
