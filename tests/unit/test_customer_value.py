"""BG/NBD and Gamma-Gamma (dingdan.domain.crm.clv): the log-likelihood worked out by hand
on small cases, and the parameters Fader, Hardie and Lee published for the CDNOW sample
reproduced from its summary (vendored from the `lifetimes` wheel, MIT: see
tests/fixtures/cdnow_LICENSE.txt)."""

from __future__ import annotations

import csv
import math
from datetime import date
from pathlib import Path

import pytest

from dingdan.domain.crm import clv

CDNOW = Path(__file__).parent.parent / "fixtures" / "cdnow_customers_summary_with_transactions.csv"


def _beta(a: float, b: float) -> float:
    return math.gamma(a) * math.gamma(b) / math.gamma(a + b)


def test_log_likelihood_of_a_repeat_customer_is_the_papers_sum_of_two_terms() -> None:
    # r = α = a = b = 1, x = 1, t_x = 1, T = 2:
    # B(1,2)/B(1,1) · Γ(2)·1/(Γ(1)·3²) + B(2,1)/B(1,1) · Γ(2)·1/(Γ(1)·2²) = 1/18 + 1/8 = 13/72
    p = clv.BgNbd(r=1, alpha=1, a=1, b=1)
    assert clv.bg_nbd_log_likelihood(p, [1], [1], [2]) == pytest.approx(math.log(13 / 72))


def test_log_likelihood_without_repeat_purchases_has_only_the_first_term() -> None:
    # x = 0, T = 2: B(1,1)/B(1,1) · 1/(1+2)^1 = 1/3
    p = clv.BgNbd(r=1, alpha=1, a=1, b=1)
    assert clv.bg_nbd_log_likelihood(p, [0], [0], [2]) == pytest.approx(math.log(1 / 3))


def test_log_likelihood_with_uneven_parameters_matches_equation_six() -> None:
    r, alpha, a, b, x, t_x, T = 0.5, 2.0, 1.5, 3.0, 2, 3.0, 5.0
    common = math.gamma(r + x) * alpha**r / math.gamma(r)
    first = _beta(a, b + x) / _beta(a, b) * common / (alpha + T) ** (r + x)
    second = _beta(a + 1, b + x - 1) / _beta(a, b) * common / (alpha + t_x) ** (r + x)
    p = clv.BgNbd(r, alpha, a, b)
    got = clv.bg_nbd_log_likelihood(p, [x, 0], [t_x, 0], [T, T])
    no_repeat = alpha**r / (alpha + T) ** r  # x = 0: B(a,b)/B(a,b) = Γ(r)/Γ(r) = 1
    assert got == pytest.approx(math.log(first + second) + math.log(no_repeat))


def test_weights_count_a_summary_as_several_customers() -> None:
    p = clv.BgNbd(0.3, 4.0, 0.8, 2.4)
    one = clv.bg_nbd_log_likelihood(p, [2], [10.0], [20.0])
    assert clv.bg_nbd_log_likelihood(p, [2], [10.0], [20.0], [3]) == pytest.approx(3 * one)


def test_probability_alive_by_hand() -> None:
    # 1 / (1 + a/(b+x-1) · ((α+T)/(α+t_x))^(r+x)) = 1 / (1 + (3/2)²) = 4/13
    p = clv.BgNbd(r=1, alpha=1, a=1, b=1)
    assert clv.probability_alive(p, 1, 1, 2) == pytest.approx(4 / 13)
    assert clv.probability_alive(p, 0, 0, 2) == 1.0


def test_summary_counts_repeat_purchases_in_distinct_days_up_to_calibration_end() -> None:
    days = [date(2026, 1, 1), date(2026, 1, 1), date(2026, 1, 15), date(2026, 1, 29)]
    values = [10.0, 5.0, 30.0, 99.0]
    s = clv.summarise(days, date(2026, 1, 22), values)
    # The two orders of 1 January are one purchase; 29 January is after calibration.
    assert s == clv.Summary(x=1, t_x=2.0, T=3.0, spend=30.0)
    assert clv.summarise(days, date(2025, 12, 31)) is None


def _cdnow() -> tuple[list[float], list[float], list[float], list[float]]:
    with CDNOW.open() as f:
        rows = list(csv.DictReader(f))
    return (
        [float(r["x"]) for r in rows],
        [float(r["t_x"]) for r in rows],
        [float(r["T"]) for r in rows],
        [float(r["zbar"]) for r in rows],
    )


def test_bg_nbd_fit_reproduces_the_published_cdnow_parameters() -> None:
    x, t_x, T, _ = _cdnow()
    fit = clv.fit_bg_nbd(x, t_x, T)
    # Fader, Hardie and Lee (2005), section 4: r = 0.243, α = 4.414, a = 0.793, b = 2.426,
    # LL = -9582.4.
    assert fit.customers == 2357
    assert fit.params.r == pytest.approx(0.243, abs=0.001)
    assert fit.params.alpha == pytest.approx(4.414, abs=0.002)
    assert fit.params.a == pytest.approx(0.793, abs=0.001)
    assert fit.params.b == pytest.approx(2.426, abs=0.002)
    assert fit.log_likelihood == pytest.approx(-9582.4, abs=0.1)
    # The paper's worked example: x = 2, t_x = 30.43, T = 38.86 expects 1.226 purchases in
    # the next 39 weeks.
    assert clv.expected_purchases(fit.params, 39, 2, 30.43, 38.86) == pytest.approx(1.226, abs=1e-3)


def test_gamma_gamma_fit_reproduces_the_published_cdnow_parameters() -> None:
    x, _, _, spend = _cdnow()
    fit = clv.fit_gamma_gamma(x, spend)
    # Fader and Hardie's Gamma-Gamma note: p = 6.25, q = 3.74, γ = 15.44 on the 946 CDNOW
    # customers with repeat purchases.
    assert fit.customers == 946
    assert fit.params.p == pytest.approx(6.25, abs=0.01)
    assert fit.params.q == pytest.approx(3.74, abs=0.01)
    assert fit.params.v == pytest.approx(15.44, abs=0.02)


def test_gamma_gamma_density_and_expected_spend_by_hand() -> None:
    g = clv.GammaGamma(p=2, q=3, v=4)
    # Γ(px+q)/(Γ(px)Γ(q)) · v^q · z^(px-1) · x^(px) / (v+xz)^(px+q), x = 1, z = 5:
    # Γ(5)/(Γ(2)Γ(3)) · 4³ · 5 / 9⁵ = 12 · 64 · 5 / 59049
    got = clv.gamma_gamma_log_likelihoods(g, clv.np.array([1.0]), clv.np.array([5.0]))
    assert float(got[0]) == pytest.approx(math.log(3840 / 59049))
    # p(v + x z)/(px + q - 1) = 2 · 9 / 4
    assert clv.expected_spend(g, 1, 5) == pytest.approx(4.5)
    # Without repeat purchases, the population's mean p v / (q - 1) = 4.
    assert clv.expected_spend(g, 0, 0) == pytest.approx(4.0)


def test_customer_value_is_expected_purchases_times_expected_spend() -> None:
    p, g = clv.BgNbd(0.243, 4.414, 0.793, 2.426), clv.GammaGamma(6.25, 3.74, 15.44)
    s = clv.Summary(x=2, t_x=30.43, T=38.86, spend=20.0)
    expected = clv.expected_purchases(p, 52, 2, 30.43, 38.86) * clv.expected_spend(g, 2, 20.0)
    assert clv.customer_value(p, g, s) == pytest.approx(expected)
    assert 0 < clv.customer_value(p, g, s, weekly_discount=0.002) < expected
