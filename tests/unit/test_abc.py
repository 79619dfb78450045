"""ABC and XYZ classes (shared/CONTRACT.md, "Reports"): a hand-computed case with ties and a
SKU exactly on the 80% boundary, settable thresholds, and XYZ by weekly variability."""

from __future__ import annotations

from fractions import Fraction

import pytest

from dingdan.domain.purchasing import abc


def test_abc_by_revenue_with_ties_and_a_boundary():
    # total 1000: S1 50%, S2 30% (before it 50%), S3 10% (before it exactly 80%: B),
    # S4 5% (before 90%: B), S5 and S6 tie at 2.5% (by SKU: S5 first, before it 95%: C).
    rows = abc.abc({"S6": 25, "S3": 100, "S1": 500, "S5": 25, "S4": 50, "S2": 300})
    assert [(r.sku, r.klass) for r in rows] == [
        ("S1", "A"),
        ("S2", "A"),
        ("S3", "B"),
        ("S4", "B"),
        ("S5", "C"),
        ("S6", "C"),
    ]
    assert [r.cumulative_share for r in rows] == [
        Fraction(1, 2),
        Fraction(4, 5),
        Fraction(9, 10),
        Fraction(19, 20),
        Fraction(39, 40),
        Fraction(1),
    ]
    assert rows[2].share == Fraction(1, 10)


def test_the_first_sku_is_always_a_and_thresholds_are_settable():
    rows = abc.abc({"BIG": 990, "SMALL": 10})
    assert [r.klass for r in rows] == ["A", "C"]  # 99% before SMALL: not under 95%
    assert [r.klass for r in abc.abc({"BIG": 990, "SMALL": 10}, b=Fraction(1))] == ["A", "B"]
    tight = abc.abc({"X": 40, "Y": 30, "Z": 30}, a=Fraction(1, 2), b=Fraction(7, 10))
    assert [(r.sku, r.klass) for r in tight] == [("X", "A"), ("Y", "A"), ("Z", "C")]
    with pytest.raises(ValueError):
        abc.abc({"X": 1}, a=Fraction(9, 10), b=Fraction(1, 2))


def test_no_revenue_is_class_c():
    assert [(r.sku, r.klass) for r in abc.abc({"B": 0, "A": 0})] == [("A", "C"), ("B", "C")]
    assert abc.abc({}) == []


def test_xyz_by_the_variability_of_weekly_demand():
    assert abc.xyz([10, 10, 10, 10]) == "X"  # cv 0
    assert abc.coefficient_of_variation([5, 15, 5, 15]) == pytest.approx(0.5)
    assert abc.xyz([5, 15, 5, 15]) == "Y"  # exactly on 0.5: not under it
    assert abc.xyz([8, 12, 8, 12]) == "X"  # cv 0.2
    assert abc.xyz([0, 0, 0, 40]) == "Z"  # cv sqrt(3)
    assert abc.xyz([0, 0, 0, 40], y=2.0) == "Y"
    assert abc.xyz([0, 0]) == "Z" and abc.xyz([]) == "Z"
