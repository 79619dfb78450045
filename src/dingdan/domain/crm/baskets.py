"""Products bought together: association rules A → B over baskets (the distinct SKUs of
one order).

With N baskets, n(A) those holding A and n(AB) those holding both:
support = n(AB)/N, confidence = n(AB)/n(A), lift = confidence / (n(B)/N)
= n(AB)·N / (n(A)·n(B)). A lift above 1 says B comes with A more often than with any
basket. Only pairs are mined (one product leading to one other: what an order entry page
can suggest), and only pairs seen together in at least ``min_count`` baskets."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from fractions import Fraction
from itertools import combinations

# A basket with more distinct SKUs than this (a wholesale order) counts for the products'
# frequencies but not for pairs: its pairs grow with the square of its size and say little.
MAX_BASKET = 50


@dataclass(frozen=True)
class Rule:
    antecedent: str
    consequent: str
    together: int  # baskets holding both
    antecedent_baskets: int
    consequent_baskets: int
    baskets: int
    support: Fraction
    confidence: Fraction
    lift: Fraction


def rules(
    baskets: Iterable[Iterable[str]], min_count: int = 2, per_product: int = 10
) -> list[Rule]:
    """Every rule A → B whose pair was bought together at least ``min_count`` times, the
    ``per_product`` best for each A (by lift, then confidence, then B), ordered by A."""
    single: Counter[str] = Counter()
    pairs: Counter[tuple[str, str]] = Counter()
    n = 0
    for basket in baskets:
        items = sorted(set(basket))
        if not items:
            continue
        n += 1
        single.update(items)
        if len(items) <= MAX_BASKET:
            pairs.update(combinations(items, 2))
    by_antecedent: dict[str, list[Rule]] = {}
    for (x, y), both in pairs.items():
        if both < max(1, min_count):
            continue
        for a, b in ((x, y), (y, x)):
            by_antecedent.setdefault(a, []).append(
                Rule(
                    antecedent=a,
                    consequent=b,
                    together=both,
                    antecedent_baskets=single[a],
                    consequent_baskets=single[b],
                    baskets=n,
                    support=Fraction(both, n),
                    confidence=Fraction(both, single[a]),
                    lift=Fraction(both * n, single[a] * single[b]),
                )
            )
    out: list[Rule] = []
    for a in sorted(by_antecedent):
        best = sorted(by_antecedent[a], key=lambda r: (-r.lift, -r.confidence, r.consequent))
        out.extend(best[:per_product])
    return out
