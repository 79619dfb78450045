"""The pure parts of demand forecasting (shared/CONTRACT.md, "Forecasts").

- Demand classes (Syntetos, Boylan and Croston, 2005) by the average demand interval (ADI:
  days per day with demand) and the squared coefficient of variation of the non-zero
  demands (CV²): ``smooth`` (ADI < 1.32, CV² < 0.49), ``erratic`` (ADI < 1.32),
  ``intermittent`` (CV² < 0.49), ``lumpy``; ``none`` for no demand at all. Smooth and
  erratic demand gets the smooth models, intermittent and lumpy the intermittent ones.
- The backtest: the last ``horizon`` days are held out, each candidate forecasts them
  from the days before, and the one with the smallest mean absolute error wins (ties: the
  first candidate). Its accuracy is the MASE: that error over the in-sample mean absolute
  error of the one-step naive forecast (yesterday's demand) on the days before the
  holdout; ``None`` where that scale is undefined (fewer than two days before the holdout)
  or zero (constant demand). ``naive_mase`` is the same measure for the naive forecast
  (the last day before the holdout, repeated).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

ADI_CUT = 1.32
CV2_CUT = 0.49
SMOOTH_CLASSES = ("smooth", "erratic")
INTERMITTENT_CLASSES = ("intermittent", "lumpy")
# Fewer days than this before the holdout: no backtest, the simplest model is used.
MIN_TRAIN_DAYS = 14


def demand_class(history: Sequence[float]) -> str:
    """smooth | erratic | intermittent | lumpy | none (see the module's note)."""
    sizes = [float(v) for v in history if v > 0]
    if not sizes:
        return "none"
    adi = len(history) / len(sizes)
    mean = sum(sizes) / len(sizes)
    variance = sum((v - mean) ** 2 for v in sizes) / len(sizes)
    cv2 = variance / (mean * mean)
    if adi < ADI_CUT:
        return "smooth" if cv2 < CV2_CUT else "erratic"
    return "intermittent" if cv2 < CV2_CUT else "lumpy"


def naive_scale(train: Sequence[float]) -> float | None:
    """The in-sample mean absolute error of the one-step naive forecast; None if undefined."""
    if len(train) < 2:
        return None
    return sum(abs(float(b) - float(a)) for a, b in zip(train, train[1:], strict=False)) / (
        len(train) - 1
    )


def mae(actual: Sequence[float], forecast: Sequence[float]) -> float:
    if len(actual) != len(forecast) or not actual:
        raise ValueError("actual and forecast must be non-empty and of one length")
    return sum(abs(float(a) - float(f)) for a, f in zip(actual, forecast, strict=True)) / len(
        actual
    )


def mase(
    train: Sequence[float], actual: Sequence[float], forecast: Sequence[float]
) -> float | None:
    """MASE of ``forecast`` over the held-out ``actual``, scaled by ``train``'s naive MAE."""
    scale = naive_scale(train)
    if scale is None or scale == 0 or not math.isfinite(scale):
        return None
    return mae(actual, forecast) / scale


def naive_forecast(train: Sequence[float], horizon: int) -> list[float]:
    """The last known day, repeated (zeros with no history)."""
    last = float(train[-1]) if train else 0.0
    return [last] * horizon


def split(history: Sequence[float], horizon: int) -> tuple[list[float], list[float]]:
    """(the days before the holdout, the last ``horizon`` days)."""
    cut = max(0, len(history) - horizon)
    return [float(v) for v in history[:cut]], [float(v) for v in history[cut:]]


@dataclass(frozen=True)
class Backtest:
    model: str
    mase: float | None
    naive_mase: float | None
    # The standard deviation of the chosen model's daily errors on the holdout.
    error_stdev: float


def choose(
    train: Sequence[float], actual: Sequence[float], forecasts: Mapping[str, Sequence[float]]
) -> Backtest:
    """The candidate with the smallest error on the holdout (ties: the first given), with
    its MASE and the naive forecast's MASE."""
    if not forecasts:
        raise ValueError("no candidate forecasts")
    best = min(
        forecasts, key=lambda name: (mae(actual, forecasts[name]), list(forecasts).index(name))
    )
    chosen = [max(0.0, float(v)) for v in forecasts[best]]
    errors = [float(a) - f for a, f in zip(actual, chosen, strict=True)]
    return Backtest(
        model=best,
        mase=mase(train, actual, chosen),
        naive_mase=mase(train, actual, naive_forecast(train, len(actual))),
        error_stdev=stdev(errors),
    )


def stdev(values: Sequence[float]) -> float:
    """The sample standard deviation (0 for fewer than two values)."""
    if len(values) < 2:
        return 0.0
    mean = sum(values) / len(values)
    return math.sqrt(sum((v - mean) ** 2 for v in values) / (len(values) - 1))


def clean(values: Sequence[float]) -> list[float]:
    """A forecast as demand: no negatives, no NaN (a model that failed forecasts zero)."""
    return [max(0.0, float(v)) if math.isfinite(float(v)) else 0.0 for v in values]
