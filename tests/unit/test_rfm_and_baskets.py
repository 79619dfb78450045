"""RFM segments (dingdan.domain.crm.rfm) and products bought together
(dingdan.domain.crm.baskets) on hand-built data with answers worked out on paper."""

from __future__ import annotations

from fractions import Fraction

from dingdan.domain.crm import baskets, rfm
from dingdan.domain.crm.rfm import Facts, Segment


def test_quintile_score_is_the_mid_rank_percentile() -> None:
    # n = 5: 1 + ⌊5 · (worse + equal/2) / 5⌋; distinct values: 1 + ⌊worse + 1/2⌋ = 1 + worse.
    # The two 20s: one value below, two equal: 1 + ⌊1 + 1⌋ = 3.
    assert rfm.quintile_scores([10, 20, 20, 40, 50]) == [1, 3, 3, 4, 5]
    # n = 10, distinct: 1 + ⌊(worse + 1/2) / 2⌋.
    assert rfm.quintile_scores(list(range(10))) == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    # Six of ten tied at the top: 1 + ⌊5 · (4 + 3) / 10⌋ = 4; the four below 1, 1, 2, 2.
    assert rfm.quintile_scores([1, 2, 3, 4, 9, 9, 9, 9, 9, 9]) == [1, 1, 2, 2, 4, 4, 4, 4, 4, 4]


def test_segments_follow_the_documented_rules() -> None:
    assert rfm.segment_of(5, 5) == Segment.CHAMPIONS
    assert rfm.segment_of(4, 4) == Segment.CHAMPIONS
    assert rfm.segment_of(5, 3) == Segment.LOYAL
    assert rfm.segment_of(3, 5) == Segment.LOYAL
    assert rfm.segment_of(5, 1) == Segment.NEW
    assert rfm.segment_of(3, 2) == Segment.NEW
    assert rfm.segment_of(2, 5) == Segment.AT_RISK
    assert rfm.segment_of(1, 3) == Segment.AT_RISK
    assert rfm.segment_of(2, 2) == Segment.HIBERNATING
    assert rfm.segment_of(1, 2) == Segment.LOST


def test_hand_built_customers_fall_in_their_segments() -> None:
    customers = [
        Facts(days_since_last=3, orders=9, monetary=90_000),  # A: recent and often
        Facts(days_since_last=10, orders=6, monetary=40_000),  # B
        Facts(days_since_last=20, orders=1, monetary=1_000),  # C: one recent order
        Facts(days_since_last=200, orders=7, monetary=70_000),  # D: often, long ago
        Facts(days_since_last=300, orders=1, monetary=500),  # E: once, long ago
    ]
    # Recency (fewer days better): A 5, B 4, C 3, D 2, E 1.
    # Frequency: C and E (1 order, tied): 1 + ⌊5 · (0 + 1) / 5⌋ = 2; B 3, D 4, A 5.
    # Monetary: E 1, C 2, B 3, D 4, A 5.
    got = rfm.score(customers)
    assert [(s.r, s.f, s.m) for s in got] == [(5, 5, 5), (4, 3, 3), (3, 2, 2), (2, 4, 4), (1, 2, 1)]
    assert [s.segment for s in got] == [
        Segment.CHAMPIONS,
        Segment.LOYAL,
        Segment.NEW,
        Segment.AT_RISK,
        Segment.LOST,
    ]
    assert rfm.score([]) == []


def test_association_rules_on_a_hand_built_basket_set() -> None:
    sets = [
        ["tea", "cup"],
        ["tea", "cup", "honey"],
        ["tea", "honey"],
        ["cup"],
        ["tea", "cup", "tea"],  # a SKU twice in one order counts once
        ["bread"],
    ]
    got = {(r.antecedent, r.consequent): r for r in baskets.rules(sets, min_count=2)}
    # N = 6; n(tea) = 4, n(cup) = 4, n(honey) = 2; n(tea,cup) = 3, n(tea,honey) = 2,
    # n(cup,honey) = 1 (below min_count: no rule).
    tea_cup = got[("tea", "cup")]
    assert tea_cup.together == 3
    assert (tea_cup.antecedent_baskets, tea_cup.consequent_baskets, tea_cup.baskets) == (4, 4, 6)
    assert tea_cup.support == Fraction(3, 6)
    assert tea_cup.confidence == Fraction(3, 4)
    assert tea_cup.lift == Fraction(3 * 6, 4 * 4)  # 9/8
    honey_tea = got[("honey", "tea")]
    assert honey_tea.support == Fraction(2, 6)
    assert honey_tea.confidence == Fraction(2, 2)
    assert honey_tea.lift == Fraction(2 * 6, 2 * 4)  # 3/2
    tea_honey = got[("tea", "honey")]
    assert tea_honey.confidence == Fraction(2, 4)
    assert tea_honey.lift == Fraction(3, 2)
    assert ("cup", "honey") not in got and ("honey", "cup") not in got
    assert set(got) == {("tea", "cup"), ("cup", "tea"), ("tea", "honey"), ("honey", "tea")}
    # Best first for each product: tea → honey (lift 3/2) before tea → cup (9/8).
    ordered = [(r.antecedent, r.consequent) for r in baskets.rules(sets, min_count=2)]
    assert ordered.index(("tea", "honey")) < ordered.index(("tea", "cup"))


def test_rules_keep_the_best_few_per_product() -> None:
    sets = [["a", "b", "c", "d"]] * 2
    got = baskets.rules(sets, min_count=2, per_product=2)
    assert [r.consequent for r in got if r.antecedent == "a"] == ["b", "c"]
