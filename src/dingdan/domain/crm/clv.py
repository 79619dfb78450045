"""Customer value: the BG/NBD purchase model (Fader, Hardie and Lee, "Counting Your
Customers the Easy Way", Marketing Science 24(2), 2005) and the Gamma-Gamma spend model
(Fader, Hardie and Lee, "RFM and CLV", JMR 42(4), 2005; Fader and Hardie's note "The
Gamma-Gamma Model of Monetary Value", 2013).

A customer is summarised by ``x`` (repeat purchases: distinct purchase days after the
first), ``t_x`` (the time of the last purchase after the first) and ``T`` (the time from the
first purchase to the end of calibration), both in weeks. Summaries may carry a weight (how
many customers share it), so a million customers with few distinct summaries fit quickly.

Parameters are fitted by maximising the log-likelihood, with L-BFGS-B over the logarithms
of the parameters (all must be positive)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import minimize
from scipy.special import betaln, gammaln, hyp2f1

Array = NDArray[np.float64]
WEEK_DAYS = 7


@dataclass(frozen=True)
class Summary:
    """One customer's purchases up to the end of calibration (times in weeks)."""

    x: int
    t_x: float
    T: float
    # Mean value of the repeat purchases (their days' totals); 0 without repeats.
    spend: float = 0.0


def summarise(
    days: Sequence[date], calibration_end: date, values: Sequence[float] = ()
) -> Summary | None:
    """A customer's summary from the days of their purchases (several purchases on one day
    are one purchase, their values added up). Days after ``calibration_end`` are left out;
    None when nothing is left. ``values`` (one per day given, optional) make the spend: the
    mean of the repeat days' totals."""
    per_day: dict[date, float] = {}
    for i, day in enumerate(days):
        if day <= calibration_end:
            per_day[day] = per_day.get(day, 0.0) + (values[i] if values else 0.0)
    if not per_day:
        return None
    ordered = sorted(per_day)
    first, last = ordered[0], ordered[-1]
    repeats = [per_day[d] for d in ordered[1:]]
    return Summary(
        x=len(repeats),
        t_x=(last - first).days / WEEK_DAYS,
        T=(calibration_end - first).days / WEEK_DAYS,
        spend=sum(repeats) / len(repeats) if repeats else 0.0,
    )


@dataclass(frozen=True)
class BgNbd:
    r: float
    alpha: float
    a: float
    b: float


def _columns(
    x: Sequence[float] | Array, t_x: Sequence[float] | Array, T: Sequence[float] | Array
) -> tuple[Array, Array, Array]:
    return (
        np.asarray(x, dtype=np.float64),
        np.asarray(t_x, dtype=np.float64),
        np.asarray(T, dtype=np.float64),
    )


def bg_nbd_log_likelihoods(p: BgNbd, x: Array, t_x: Array, T: Array) -> Array:
    """Each customer's log-likelihood, the paper's equation (6):

    L = B(a, b+x)/B(a, b) · Γ(r+x) α^r / (Γ(r) (α+T)^(r+x))
        + δ(x>0) · B(a+1, b+x-1)/B(a, b) · Γ(r+x) α^r / (Γ(r) (α+t_x)^(r+x))

    taken as ln of A1 + A2 + ln(e^A3 + δ e^A4) as the paper's spreadsheet note writes it
    (B(a+1, b+x-1)/B(a, b+x) = a/(b+x-1))."""
    r, alpha, a, b = p.r, p.alpha, p.a, p.b
    a1 = gammaln(r + x) - gammaln(r) + r * math.log(alpha)
    a2 = betaln(a, b + x) - betaln(a, b)
    a3 = -(r + x) * np.log(alpha + T)
    repeat = x > 0
    safe = np.where(repeat, b + x - 1, 1.0)
    a4 = np.where(repeat, math.log(a) - np.log(safe) - (r + x) * np.log(alpha + t_x), -np.inf)
    return np.asarray(a1 + a2 + np.logaddexp(a3, a4), dtype=np.float64)


def bg_nbd_log_likelihood(
    p: BgNbd,
    x: Sequence[float] | Array,
    t_x: Sequence[float] | Array,
    T: Sequence[float] | Array,
    weights: Sequence[float] | Array | None = None,
) -> float:
    xs, ts, Ts = _columns(x, t_x, T)
    each = bg_nbd_log_likelihoods(p, xs, ts, Ts)
    w = np.ones_like(each) if weights is None else np.asarray(weights, dtype=np.float64)
    return float(np.sum(w * each))


@dataclass(frozen=True)
class Fit:
    params: BgNbd
    log_likelihood: float
    customers: int


def _maximise(objective: object, start: Array) -> Array:
    found = minimize(objective, start, method="L-BFGS-B", bounds=[(-10.0, 10.0)] * len(start))
    return np.asarray(np.exp(found.x), dtype=np.float64)


def fit_bg_nbd(
    x: Sequence[float] | Array,
    t_x: Sequence[float] | Array,
    T: Sequence[float] | Array,
    weights: Sequence[float] | Array | None = None,
) -> Fit:
    """The parameters that maximise the summed log-likelihood (all four started at 1)."""
    xs, ts, Ts = _columns(x, t_x, T)
    w = np.ones_like(xs) if weights is None else np.asarray(weights, dtype=np.float64)
    total = float(np.sum(w))
    if total <= 0:
        raise ValueError("no customers to fit")

    def negative(logs: Array) -> float:
        p = BgNbd(*(float(v) for v in np.exp(logs)))
        value = -float(np.sum(w * bg_nbd_log_likelihoods(p, xs, ts, Ts))) / total
        return value if math.isfinite(value) else 1e300

    found = _maximise(negative, np.zeros(4))
    params = BgNbd(*(float(v) for v in found))
    return Fit(params, bg_nbd_log_likelihood(params, xs, ts, Ts, w), int(round(total)))


def probability_alive(p: BgNbd, x: float, t_x: float, T: float) -> float:
    """P(alive | x, t_x, T), the paper's equation (11): 1 without repeat purchases."""
    if x <= 0:
        return 1.0
    growth = math.log((p.alpha + T) / (p.alpha + t_x))
    log_ratio = math.log(p.a / (p.b + x - 1)) + (p.r + x) * growth
    return 1.0 / (1.0 + math.exp(log_ratio)) if log_ratio < 700 else 0.0


def expected_purchases(p: BgNbd, t: float, x: float, t_x: float, T: float) -> float:
    """E[Y(t) | x, t_x, T]: the purchases expected in the ``t`` weeks after ``T``, the
    paper's equation (10)."""
    if t <= 0:
        return 0.0
    r, alpha, a, b = p.r, p.alpha, p.a, p.b
    z = t / (alpha + T + t)
    hyp = float(hyp2f1(r + x, b + x, a + b + x - 1, z))
    head = (a + b + x - 1) / (a - 1)
    body = 1 - ((alpha + T) / (alpha + T + t)) ** (r + x) * hyp
    tail = 1.0
    if x > 0:
        tail += (a / (b + x - 1)) * ((alpha + T) / (alpha + t_x)) ** (r + x)
    return max(0.0, head * body / tail)


# Gamma-Gamma -------------------------------------------------------------------------------


@dataclass(frozen=True)
class GammaGamma:
    p: float
    q: float
    v: float

    def population_mean(self) -> float:
        """E[M] over all customers: p·v/(q-1) (infinite for q <= 1)."""
        return self.p * self.v / (self.q - 1) if self.q > 1 else math.inf


def gamma_gamma_log_likelihoods(g: GammaGamma, x: Array, spend: Array) -> Array:
    """ln f(z̄ | p, q, v; x) for customers with x >= 1 repeat purchases of mean z̄:

    f = Γ(px+q)/(Γ(px)Γ(q)) · v^q · z̄^(px-1) · x^(px) / (v + x z̄)^(px+q)."""
    px = g.p * x
    return np.asarray(
        gammaln(px + g.q)
        - gammaln(px)
        - gammaln(g.q)
        + g.q * math.log(g.v)
        + (px - 1) * np.log(spend)
        + px * np.log(x)
        - (px + g.q) * np.log(g.v + x * spend),
        dtype=np.float64,
    )


@dataclass(frozen=True)
class SpendFit:
    params: GammaGamma
    log_likelihood: float
    customers: int


def fit_gamma_gamma(x: Sequence[float] | Array, spend: Sequence[float] | Array) -> SpendFit:
    """Fitted on the customers with repeat purchases and a positive mean spend."""
    xs = np.asarray(x, dtype=np.float64)
    zs = np.asarray(spend, dtype=np.float64)
    keep = (xs > 0) & (zs > 0)
    xs, zs = xs[keep], zs[keep]
    if len(xs) == 0:
        raise ValueError("no repeat purchases to fit")
    # Scaled so the optimiser starts near the answer whatever the currency's unit.
    scale = float(np.mean(zs))
    zs_scaled = zs / scale

    def negative(logs: Array) -> float:
        g = GammaGamma(*(float(v) for v in np.exp(logs)))
        value = -float(np.mean(gamma_gamma_log_likelihoods(g, xs, zs_scaled)))
        return value if math.isfinite(value) else 1e300

    p, q, v = _maximise(negative, np.zeros(3))
    params = GammaGamma(float(p), float(q), float(v) * scale)
    ll = float(np.sum(gamma_gamma_log_likelihoods(params, xs, zs)))
    return SpendFit(params, ll, len(xs))


def expected_spend(g: GammaGamma, x: float, spend: float) -> float:
    """E[M | p, q, v, x, z̄] = p(v + x z̄)/(px + q - 1): the customer's mean spend per
    purchase, between the population's mean and their own; the population's mean without
    repeat purchases."""
    if x <= 0 or spend <= 0:
        return g.population_mean()
    return g.p * (g.v + x * spend) / (g.p * x + g.q - 1)


def customer_value(
    p: BgNbd, g: GammaGamma, s: Summary, weeks: int = 52, weekly_discount: float = 0.0
) -> float:
    """Expected value of the next ``weeks``: the purchases expected in each week, times the
    expected spend, discounted by ``weekly_discount`` per week (0: not discounted)."""
    spend = expected_spend(g, s.x, s.spend)
    if weekly_discount == 0:
        return expected_purchases(p, weeks, s.x, s.t_x, s.T) * spend
    value, before = 0.0, 0.0
    for week in range(1, weeks + 1):
        now = expected_purchases(p, week, s.x, s.t_x, s.T)
        value += (now - before) * spend / (1 + weekly_discount) ** week
        before = now
    return value
