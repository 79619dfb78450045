"""One SKU's forecast from its daily demand: the models (Nixtla statsforecast), the backtest
that picks one, the known peaks' uplift. Plain lists in and out, no database: the worker's
processes run it (``compute`` is picklable and imports statsforecast on first use, so that
pandas stays out of the request path until a forecast is computed there).

Smooth and erratic demand: AutoETS (weekly season), SeasonalNaive(7), Theta (weekly season),
and AutoARIMA with the known peaks as exogenous regressors (one 0/1 column per kind of peak
seen in the days it fits) where that can pay: a history of at least ``ARIMA_MIN_DAYS`` days
(every yearly peak seen once) whose demand reacts to the peaks (a learned uplift at least
``ARIMA_MIN_EFFECT`` away from 1). Its search costs about five times AutoETS's, so it is
held to small orders on the last ``ARIMA_FIT_DAYS`` days, and a refit reuses the orders it
chose. Intermittent and lumpy demand: CrostonSBA, TSB, ADIDA, IMAPA. Each candidate
forecasts the last ``BACKTEST_DAYS`` days from the days before; the smallest error wins and
is refitted on the whole history (domain/purchasing/forecasting.py). The other models take
no regressors: the peaks' learned uplift multiplies their forecast; AutoARIMA's forecast
gets the uplift only of the kinds it has no column for.
"""

from __future__ import annotations

import math
import warnings
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from dingdan.domain.purchasing import calendar
from dingdan.domain.purchasing import forecasting as fc

SMOOTH = ("AutoETS", "SeasonalNaive", "Theta")
ARIMA = "AutoARIMA"
ARIMA_MIN_DAYS = 400
ARIMA_FIT_DAYS = 400
ARIMA_MIN_EFFECT = 0.2
INTERMITTENT = ("CrostonSBA", "TSB", "ADIDA", "IMAPA")
FALLBACK = "HistoricAverage"
BACKTEST_DAYS = 28
FORECAST_DAYS = 366  # from the day after the history: a year's horizon from tomorrow
MAX_HISTORY_DAYS = 730
SEASON = 7
FIT_DAYS = 364


def _arima(spec: str | None) -> Any:
    """AutoARIMA held to small orders (a search of at most 10 models), or, with ``spec``
    (the orders it chose: "pdqPDQ", "+m" with a mean, "+t" with a drift), that ARIMA."""
    from statsforecast import models as m

    if not spec:
        return m.AutoARIMA(
            season_length=SEASON,
            approximation=True,
            max_p=2,
            max_q=2,
            max_P=1,
            max_Q=1,
            max_order=4,
            nmodels=10,
        )
    p, d, q, big_p, big_d, big_q = (int(c) for c in spec[:6])
    return m.ARIMA(
        order=(p, d, q),
        seasonal_order=(big_p, big_d, big_q),
        season_length=SEASON,
        include_mean="m" in spec[6:],
        include_drift="t" in spec[6:],
    )


def _arima_spec(fitted: Any) -> str | None:
    model = getattr(fitted, "model_", None) or {}
    arma = tuple(model.get("arma") or ())
    if len(arma) != 7 or any(not 0 <= int(v) <= 9 for v in arma[:4] + arma[5:]):
        return None
    p, q, big_p, big_q, _, d, big_d = (int(v) for v in arma)
    coef = model.get("coef") or {}
    flags = ("m" if "intercept" in coef else "") + ("t" if "drift" in coef else "")
    return f"{p}{d}{q}{big_p}{big_d}{big_q}{flags}"


def _model(name: str, spec: str | None = None) -> Any:
    from statsforecast import models as m

    if name == ARIMA:
        return _arima(spec)

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


@dataclass(frozen=True)
class Regressors:
    """Peak indicators: one 0/1 column per kind of peak seen in the fitted days, a row per
    fitted day (``fit``) and per day forecast (``future``)."""

    kinds: tuple[str, ...]
    fit: Any
    future: Any


def regressors(
    first_day: date, fitted: int, horizon: int, promotions: Sequence[calendar.Promotion] = ()
) -> Regressors:
    """The indicators of ``fitted`` days from ``first_day`` and the ``horizon`` days after.
    A future promotion day given an expected uplift is 0 here: that factor is applied to the
    forecast instead (calendar.apply_uplifts)."""
    import numpy as np

    end_fit = first_day + timedelta(days=fitted - 1)
    last = end_fit + timedelta(days=horizon)
    peaks = calendar.peak_days(first_day, last, promotions)
    expected = calendar.expected_uplifts(end_fit + timedelta(days=1), last, promotions)
    kinds = tuple(sorted({k for d, k in peaks.items() if d <= end_fit}))
    fit, future = np.zeros((fitted, len(kinds))), np.zeros((horizon, len(kinds)))
    for day, kind in peaks.items():
        if kind not in kinds:
            continue
        i = (day - first_day).days
        if i < fitted:
            fit[i, kinds.index(kind)] = 1.0
        elif not (kind == "promotion" and day in expected):
            future[i - fitted, kinds.index(kind)] = 1.0
    return Regressors(kinds, fit, future)


def arima_predict(
    history: Sequence[float],
    first_day: date,
    horizon: int,
    spec: str | None = None,
    promotions: Sequence[calendar.Promotion] = (),
) -> tuple[list[float] | None, str | None, tuple[str, ...]]:
    """AutoARIMA (or the ARIMA of ``spec``) on the last ``ARIMA_FIT_DAYS`` days with the
    peaks as regressors: (forecast or None, the orders chosen, the kinds it has columns
    for)."""
    import numpy as np

    y = np.asarray(history[-ARIMA_FIT_DAYS:], dtype=float)
    start = first_day + timedelta(days=len(history) - len(y))
    x = regressors(start, len(y), horizon, promotions)
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            model = _arima(spec)
            if x.kinds:
                model.fit(y=y, X=x.fit)
                answer = model.predict(h=horizon, X=x.future)
            else:
                model.fit(y=y)
                answer = model.predict(h=horizon)
    except Exception:  # noqa: BLE001 - a model that cannot fit this series is no candidate
        return None, None, ()
    values = [float(v) for v in answer["mean"]]
    if len(values) != horizon or not all(math.isfinite(v) for v in values):
        return None, None, ()
    return fc.clean(values), spec or _arima_spec(model), x.kinds


def with_peaks(
    name: str,
    history: Sequence[float],
    first_day: date,
    horizon: int,
    spec: str | None,
    uplifts: dict[str, float],
    promotions: Sequence[calendar.Promotion] = (),
) -> tuple[list[float] | None, str | None]:
    """The model's forecast of the ``horizon`` days after ``history`` (which starts on
    ``first_day``) with the known peaks in it: as regressors where the model takes them,
    as the learned uplift otherwise; and the form it chose (AutoETS, AutoARIMA)."""
    start = first_day + timedelta(days=len(history))
    if name == ARIMA:
        found, spec, kinds = arima_predict(history, first_day, horizon, spec, promotions)
        uplifts = {k: v for k, v in uplifts.items() if k not in kinds}
    else:
        found, spec = fit_predict(name, history, horizon, spec)
    if found is None:
        return None, None
    return fc.clean(calendar.apply_uplifts(start, found, uplifts, promotions)), spec


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


# The full run's bound by design (docs/benchmarks.md, "A cost budget for AutoARIMA"): CPU
# seconds per series measured on these machines, and the run's budget. AutoARIMA's search
# goes to as many peak-sensitive series as the budget leaves room for, by revenue; the rest
# get the learned uplift on the other models.
BASE_CPU_S = 0.25  # the dearest series without AutoARIMA (smooth: 0.2 s) and its database work
ARIMA_CPU_S = 1.25  # what AutoARIMA's search adds to a series it is a candidate for
RUN_BUDGET_CPU_S = 2 * 50 * 60.0  # 50 minutes of 2 cores: 10 to spare under the 60


def arima_budget(series: int, budget_s: float = RUN_BUDGET_CPU_S) -> int:
    """How many of ``series`` a full run may give AutoARIMA's search."""
    return max(0, int((budget_s - series * BASE_CPU_S) // ARIMA_CPU_S))


def candidates_for(demand_class: str, arima: bool = False) -> tuple[str, ...]:
    if demand_class in fc.INTERMITTENT_CLASSES:
        return INTERMITTENT
    return (*SMOOTH, ARIMA) if arima else SMOOTH


def arima_pays(
    history: Sequence[float],
    first_day: date,
    uplifts: dict[str, float],
    promotions: Sequence[calendar.Promotion] = (),
) -> bool:
    """Whether AutoARIMA with the peaks is worth its cost here: a history of at least
    ``ARIMA_MIN_DAYS`` days with a kind of peak whose learned uplift is at least
    ``ARIMA_MIN_EFFECT`` away from 1 and beyond what chance gives: three times the daily
    demand's coefficient of variation over the square root of that kind's days in the
    history (the uplift compares a peak day with the days around it, whatever their
    weekday). A single day such as 11.11 falling on a busy weekday is often 30% above its
    neighbours by chance; that is no reason for ARIMA."""
    if len(history) < ARIMA_MIN_DAYS or not uplifts:
        return False
    mean = sum(history) / len(history)
    if mean <= 0:
        return False
    noise = fc.stdev(history) / mean
    last = first_day + timedelta(days=len(history) - 1)
    days = Counter(calendar.peak_days(first_day, last, promotions).values())
    return any(
        abs(u - 1.0) >= max(ARIMA_MIN_EFFECT, 3 * noise / math.sqrt(days[kind]))
        for kind, u in uplifts.items()
        if days[kind]
    )


def compute(
    history: Sequence[float],
    first_day: date,
    promotions: Sequence[calendar.Promotion] = (),
    horizon: int = BACKTEST_DAYS,
    days: int = FORECAST_DAYS,
    kept: Kept | None = None,
    arima: bool | None = None,
) -> Computed:
    """``history`` is the demand per day from ``first_day`` to the day before the forecast
    starts (``first_day + len(history)``). With ``kept`` (the last choice, of the same
    demand class), the kept model is refitted on the new history without a backtest.
    ``arima``: whether AutoARIMA is a candidate (None: where ``arima_pays``; False: the
    run's budget is spent, the peaks' learned uplift instead)."""
    start = first_day + timedelta(days=len(history))
    history = [float(v) for v in history[-MAX_HISTORY_DAYS:]]
    first_day = start - timedelta(days=len(history))
    klass = fc.demand_class(history)
    if klass == "none":
        return Computed("Zero", klass, len(history), horizon, None, None, 0.0, start, [0.0] * days)
    uplifts = calendar.learn_uplifts(first_day, history, promotions)
    pays = arima_pays(history, first_day, uplifts, promotions) if arima is not False else False
    candidates = candidates_for(klass, pays)
    if kept is not None and kept.demand_class == klass and kept.model in candidates:
        values, _ = with_peaks(kept.model, history, first_day, days, kept.spec, uplifts, promotions)
        if values is not None:
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
    test = backtest(history, first_day, candidates, horizon, uplifts, promotions, specs)
    model = test.model if test else FALLBACK
    values, _ = with_peaks(model, history, first_day, days, specs.get(model), uplifts, promotions)
    if values is None:
        model = FALLBACK
        values, _ = with_peaks(model, history, first_day, days, None, uplifts, promotions)
    values = values or [0.0] * days
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
    forecasts = {}
    for name in models:
        found, spec = with_peaks(
            name, train, first_day, horizon, (specs or {}).get(name), uplifts or {}, promotions
        )
        if found is not None:
            forecasts[name] = found
            if spec is not None and specs is not None:
                specs[name] = spec
    if not forecasts:
        return None
    return fc.choose(train, actual, forecasts)
