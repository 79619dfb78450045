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
FIT_DAYS = 364


def _model(name: str, spec: str | None = None) -> Any:
    from statsforecast import models as m

    if name == "AutoETS" and spec:  # the form the backtest chose: one fit, no search
        return m.AutoETS(season_length=SEASON, model=spec[:3], damped=spec.endswith("d"))
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


def _ets_spec(fitted: Any) -> str | None:
    """ "ETS(A,Ad,M)" -> "AAMd": the error, trend and season AutoETS chose."""
    method = str(getattr(fitted, "model_", {}).get("method", ""))
    parts = method.removeprefix("ETS(").removesuffix(")").split(",")
    if len(parts) != 3:
        return None
    damped = parts[1].endswith("d")
    return parts[0] + parts[1][:1] + parts[2] + ("d" if damped else "")


def fit_predict(
    name: str, history: Sequence[float], horizon: int, spec: str | None = None
) -> tuple[list[float] | None, str | None]:
    """The model's forecast (None when it cannot forecast this history, too short) and,
    for AutoETS, the form it chose (to refit without searching again)."""
    import numpy as np

    if name == "SeasonalNaive" and len(history) < SEASON:
        return None, None
    if name in ("AutoETS", "Theta") and len(history) < 2 * SEASON:
        return None, None
    # Smooth models see the last FIT_DAYS: a weekly season needs no more, and the year's
    # peaks come from the uplift (learned on the whole history).
    y = np.asarray(history[-FIT_DAYS:] if name in SMOOTH else history, dtype=float)
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            model = _model(name, spec)
            model.fit(y=y)
            answer = model.predict(h=horizon)
    except Exception:  # noqa: BLE001 - a model that cannot fit this series is no candidate
        return None, None
    values = [float(v) for v in answer["mean"]]
    if len(values) != horizon or not all(math.isfinite(v) for v in values):
        return None, None
    return fc.clean(values), _ets_spec(model) if name == "AutoETS" else None


def predict(
    name: str, history: Sequence[float], horizon: int, spec: str | None = None
) -> list[float] | None:
    return fit_predict(name, history, horizon, spec)[0]


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
    spec: str | None = None  # AutoETS's form (e.g. "AAA", "AAAd")


@dataclass(frozen=True)
class Kept:
    """A SKU's last choice, for a refit without the backtest (the nightly run of the SKUs
    with new sales): the model, its form, and its backtest's measures."""

    model: str
    spec: str | None
    demand_class: str
    horizon: int
    mase: float | None
    naive_mase: float | None
    error_stdev: float


def candidates_for(demand_class: str) -> tuple[str, ...]:
    return INTERMITTENT if demand_class in fc.INTERMITTENT_CLASSES else SMOOTH


def compute(
    history: Sequence[float],
    first_day: date,
    promotions: Sequence[calendar.Promotion] = (),
    horizon: int = BACKTEST_DAYS,
    days: int = FORECAST_DAYS,
    kept: Kept | None = None,
) -> Computed:
    """``history`` is the demand per day from ``first_day`` to the day before the forecast
    starts (``first_day + len(history)``). With ``kept`` (the last choice, of the same
    demand class), the kept model is refitted on the new history without a backtest."""
    start = first_day + timedelta(days=len(history))
    history = [float(v) for v in history[-MAX_HISTORY_DAYS:]]
    first_day = start - timedelta(days=len(history))
    klass = fc.demand_class(history)
    if klass == "none":
        return Computed("Zero", klass, len(history), horizon, None, None, 0.0, start, [0.0] * days)
    uplifts = calendar.learn_uplifts(first_day, history, promotions)
    if kept is not None and kept.demand_class == klass and kept.model in candidates_for(klass):
        found = predict(kept.model, history, days, kept.spec)
        if found is not None:
            values = fc.clean(calendar.apply_uplifts(start, found, uplifts, promotions))
            return Computed(
                kept.model,
                klass,
                len(history),
                kept.horizon,
                kept.mase,
                kept.naive_mase,
                kept.error_stdev,
                start,
                values,
                uplifts,
                kept.spec,
            )
    # A short history holds out fewer days (at least a week) so that a model is still chosen.
    horizon = min(horizon, max(SEASON, len(history) - fc.MIN_TRAIN_DAYS))
    specs: dict[str, str] = {}
    test = backtest(history, first_day, candidates_for(klass), horizon, uplifts, promotions, specs)
    model = test.model if test else FALLBACK
    values = (
        predict(model, history, days, specs.get(model))
        or predict(FALLBACK, history, days)
        or [0.0] * days
    )
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
        specs.get(model),
    )


def backtest(
    history: Sequence[float],
    first_day: date,
    models: Sequence[str],
    horizon: int,
    uplifts: dict[str, float] | None = None,
    promotions: Sequence[calendar.Promotion] = (),
    specs: dict[str, str] | None = None,
) -> fc.Backtest | None:
    """The candidates' forecasts of the last ``horizon`` days from the days before; None
    when the history is too short to hold those days out. ``specs`` (AutoETS's chosen form,
    by model) is read, and filled with what the fits chose."""
    train, actual = fc.split(history, horizon)
    if len(train) < fc.MIN_TRAIN_DAYS or len(actual) < horizon:
        return None
    holdout_start = first_day + timedelta(days=len(train))
    forecasts = {}
    for name in models:
        found, spec = fit_predict(name, train, horizon, (specs or {}).get(name))
        if found is not None:
            forecasts[name] = calendar.apply_uplifts(
                holdout_start, found, uplifts or {}, promotions
            )
            if spec is not None and specs is not None:
                specs[name] = spec
    if not forecasts:
        return None
    return fc.choose(train, actual, forecasts)
