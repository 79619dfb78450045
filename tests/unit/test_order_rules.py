"""Order rules without a database: tax, totals, allocation planning and derived statuses."""

from __future__ import annotations

from collections import defaultdict
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dingdan.domain.orders import rules as rules
from dingdan.domain.orders import status as os_
from dingdan.domain.orders.rules import TaxRule, Want, plan_allocation, tax_of, tax_rule, totals
from dingdan.domain.orders.status import FinancialStatus, FulfillmentStatus, LineQty, Status

TW = rules.DEFAULT_TAX[("TW", "standard")]
EXCLUSIVE_5 = TaxRule(50_000, False)


def _half_away(x: Fraction) -> int:
    """Rounding half away from zero, computed the slow and obvious way."""
    n = abs(x)
    whole = int(n)
    if n - whole >= Fraction(1, 2):
        whole += 1
    return whole if x >= 0 else -whole


# ---------------------------------------------------------------- tax


def test_taiwan_charges_five_percent_included_in_the_shelf_price():
    assert TaxRule(50_000, True) == TW
    assert tax_rule("TW", "standard", {}) == TW


def test_seven_hundred_twd_contains_thirty_three_dollars_thirty_three_of_tax():
    assert tax_of(70_000, TW) == 3_333


def test_one_thousand_fifty_twd_contains_exactly_fifty_of_tax():
    assert tax_of(105_000, TW) == 5_000


def test_sixty_twd_shipping_contains_two_dollars_eighty_six_of_tax():
    assert tax_of(6_000, TW) == 286


def test_inclusive_tax_adds_nothing_to_the_total():
    t = totals([(70_000, TW)], 6_000, TW)
    assert (t.subtotal, t.shipping, t.tax, t.total) == (70_000, 6_000, 3_619, 76_000)
    assert t.line_taxes == (3_333,)


def test_exclusive_tax_is_added_to_the_total():
    t = totals([(100_000, EXCLUSIVE_5), (2_000, EXCLUSIVE_5)], 6_000, EXCLUSIVE_5)
    assert t.line_taxes == (5_000, 100)
    assert t.tax == 5_000 + 100 + 300
    assert t.total == 100_000 + 2_000 + 6_000 + 5_400


def test_only_the_exclusive_lines_add_their_tax_to_a_mixed_total():
    t = totals([(105_000, TW), (100_000, EXCLUSIVE_5)], 0, TW)
    assert t.line_taxes == (5_000, 5_000)
    assert t.tax == 10_000
    assert t.total == 205_000 + 5_000


def test_tax_is_rounded_per_line_not_on_the_sum():
    # 10 and 10 minor units each carry 0.476 of tax: 0 per line, though the sum holds 0.95.
    t = totals([(10, TW), (10, TW)], 0, TW)
    assert t.line_taxes == (0, 0) and t.tax == 0


def test_exclusive_tax_rounds_halves_away_from_zero():
    assert tax_of(10, EXCLUSIVE_5) == 1  # 0.5 -> 1 (banker's rounding would give 0)
    assert tax_of(30, EXCLUSIVE_5) == 2  # 1.5 -> 2
    assert tax_of(50, EXCLUSIVE_5) == 3  # 2.5 -> 3 (banker's rounding would give 2)
    assert tax_of(-50, EXCLUSIVE_5) == -3  # away from zero on the negative side too
    assert tax_of(9, EXCLUSIVE_5) == 0  # 0.45 -> 0


def test_inclusive_tax_rounds_halves_away_from_zero():
    half = TaxRule(1_000_000, True)  # 100% inclusive: the tax is exactly half the amount
    assert [tax_of(a, half) for a in (1, 3, 5, -5)] == [1, 2, 3, -3]


def test_zero_rated_and_exempt_classes_carry_no_tax():
    assert tax_rule("TW", "zero", {}) == rules.NO_TAX
    assert tax_rule("TW", "exempt", {}) == rules.NO_TAX
    assert tax_of(70_000, rules.NO_TAX) == 0
    t = totals([(70_000, rules.NO_TAX)], 6_000, TW)
    assert (t.tax, t.total) == (286, 76_000)


def test_a_sellers_own_rate_overrides_the_default_and_unknown_countries_pay_none():
    own = {("TW", "standard"): TaxRule(0, True)}
    assert tax_rule("TW", "standard", own) == TaxRule(0, True)
    assert tax_rule("TW", "reduced", {}) == TaxRule(50_000, True)
    assert tax_rule("TW", "luxury", {}) == TW  # an unknown class falls back to standard
    assert tax_rule("ZZ", "standard", {}) == rules.NO_TAX
    assert tax_rule("HK", "standard", {}).rate_ppm == 0


@given(
    amount=st.integers(-(10**12), 10**12),
    rate=st.integers(0, 300_000),
    inclusive=st.booleans(),
)
def test_tax_of_equals_exact_arithmetic_rounded_half_away_from_zero(amount, rate, inclusive):
    rule = TaxRule(rate, inclusive)
    base = 1_000_000 + rate if inclusive else 1_000_000
    assert tax_of(amount, rule) == _half_away(Fraction(amount * rate, base))


@given(
    lines=st.lists(
        st.tuples(st.integers(0, 10**9), st.integers(0, 200_000), st.booleans()),
        min_size=1,
        max_size=5,
    ),
    shipping=st.integers(0, 10**7),
)
def test_the_total_is_subtotal_plus_shipping_plus_exclusive_tax_only(lines, shipping):
    amounts = [(a, TaxRule(r, inc)) for a, r, inc in lines]
    t = totals(amounts, shipping, TW)
    exclusive = sum(tax_of(a, r) for a, r in amounts if not r.prices_include_tax)
    assert t.subtotal == sum(a for a, _ in amounts)
    assert t.total == t.subtotal + shipping + exclusive
    assert t.tax == sum(t.line_taxes) + tax_of(shipping, TW)


# ---------------------------------------------------------------- allocation planning

P, Q = 1, 2  # product ids
TPE, KHH, TXG = 10, 20, 30  # location ids


def test_the_first_location_in_priority_order_that_fills_the_whole_order_takes_it():
    avail = {(P, TPE): 5, (P, KHH): 5}
    plan = plan_allocation([Want(0, P, 4, False)], avail, [KHH, TPE])
    assert plan.allocations == [(0, KHH, 4)]
    assert plan.backordered == {} and plan.short == {}


def test_a_later_location_takes_the_whole_order_when_the_first_cannot_fill_it():
    avail = {(P, TPE): 3, (P, KHH): 5}
    plan = plan_allocation([Want(0, P, 4, False)], avail, [TPE, KHH])
    assert plan.allocations == [(0, KHH, 4)]


def test_one_location_must_fill_every_line_to_take_the_whole_order():
    avail = {(P, TPE): 9, (Q, TPE): 0, (P, KHH): 2, (Q, KHH): 2}
    wants = [Want(0, P, 2, False), Want(1, Q, 2, False)]
    assert plan_allocation(wants, avail, [TPE, KHH]).allocations == [(0, KHH, 2), (1, KHH, 2)]


def test_an_order_no_location_can_fill_is_split_in_priority_order():
    avail = {(P, TPE): 3, (P, KHH): 3, (P, TXG): 3}
    plan = plan_allocation([Want(0, P, 7, False)], avail, [TXG, TPE, KHH])
    assert plan.allocations == [(0, TXG, 3), (0, TPE, 3), (0, KHH, 1)]
    assert plan.short == {} and plan.backordered == {}


def test_a_split_uses_the_fewest_locations_that_hold_it_all_together():
    # TPE first by priority holds little: TXG and KHH together hold everything, so the
    # order is split over those two rather than over all three in priority order.
    avail = {(P, TPE): 1, (Q, TPE): 1, (P, TXG): 4, (Q, TXG): 0, (P, KHH): 0, (Q, KHH): 3}
    wants = [Want(0, P, 4, False), Want(1, Q, 3, False)]
    plan = plan_allocation(wants, avail, [TPE, TXG, KHH])
    assert plan.allocations == [(0, TXG, 4), (1, KHH, 3)]
    # Of two pairs that would do, the first in priority order.
    avail = {(P, TPE): 3, (P, TXG): 3, (P, KHH): 3}
    assert plan_allocation([Want(0, P, 5, False)], avail, [TPE, TXG, KHH]).allocations == [
        (0, TPE, 3),
        (0, TXG, 2),
    ]


def test_too_many_locations_to_search_split_in_priority_order():
    from dingdan.domain.orders import rules

    many = list(range(100, 100 + rules.SPLIT_SEARCH_LOCATIONS + 1))
    avail = {(P, loc): 1 for loc in many} | {(P, many[-1]): 5, (P, many[-2]): 5}
    plan = plan_allocation([Want(0, P, 6, False)], avail, many)
    assert plan.allocations == [(0, loc, 1) for loc in many[:6]]


def test_a_split_order_splits_each_line_on_its_own_in_priority_order():
    avail = {(P, TPE): 1, (Q, TPE): 5, (P, KHH): 5, (Q, KHH): 0}
    plan = plan_allocation([Want(0, P, 3, False), Want(1, Q, 2, False)], avail, [TPE, KHH])
    assert plan.allocations == [(0, TPE, 1), (0, KHH, 2), (1, TPE, 2)]


def test_what_no_location_holds_is_backordered_when_the_product_allows_it():
    avail = {(P, TPE): 2, (P, KHH): 1}
    plan = plan_allocation([Want(0, P, 5, True)], avail, [TPE, KHH])
    assert plan.allocations == [(0, TPE, 2), (0, KHH, 1)]
    assert plan.backordered == {0: 2} and plan.short == {}


def test_what_no_location_holds_is_short_when_the_product_does_not_allow_backorder():
    avail = {(P, TPE): 2, (Q, TPE): 0}
    plan = plan_allocation([Want(0, P, 5, False), Want(1, Q, 1, True)], avail, [TPE])
    assert plan.short == {0: 3}
    assert plan.backordered == {1: 1}


def test_a_product_with_no_stock_row_anywhere_is_entirely_backordered_or_short():
    plan = plan_allocation([Want(0, P, 2, True), Want(1, Q, 3, False)], {}, [TPE, KHH])
    assert plan.allocations == []
    assert plan.backordered == {0: 2} and plan.short == {1: 3}


def test_two_lines_of_the_same_sku_are_checked_together_for_one_location():
    # TPE has 3: enough for each line alone, not for both; KHH has 4.
    avail = {(P, TPE): 3, (P, KHH): 4}
    wants = [Want(0, P, 2, False), Want(1, P, 2, False)]
    assert plan_allocation(wants, avail, [TPE, KHH]).allocations == [(0, KHH, 2), (1, KHH, 2)]


def test_two_lines_of_the_same_sku_never_take_the_same_units_twice_when_split():
    avail = {(P, TPE): 3, (P, KHH): 2}
    plan = plan_allocation([Want(0, P, 3, False), Want(1, P, 3, False)], avail, [TPE, KHH])
    assert plan.allocations == [(0, TPE, 3), (1, KHH, 2)]
    assert plan.short == {1: 1}


def test_negative_availability_counts_as_none():
    avail = {(P, TPE): -2, (P, KHH): 3}
    plan = plan_allocation([Want(0, P, 4, True)], avail, [TPE, KHH])
    assert plan.allocations == [(0, KHH, 3)] and plan.backordered == {0: 1}


_wants = st.lists(
    st.tuples(st.sampled_from([P, Q]), st.integers(1, 8), st.booleans()), min_size=1, max_size=4
)
_avail = st.dictionaries(
    st.tuples(st.sampled_from([P, Q]), st.sampled_from([TPE, KHH, TXG])),
    st.integers(-2, 10),
)


@given(wants=_wants, avail=_avail, locs=st.permutations([TPE, KHH, TXG]))
def test_a_plan_never_promises_more_than_is_available_and_accounts_for_every_unit(
    wants, avail, locs
):
    ws = [Want(i, p, q, b) for i, (p, q, b) in enumerate(wants)]
    plan = plan_allocation(ws, avail, locs)
    taken: dict[tuple[int, int], int] = defaultdict(int)
    per_line: dict[int, int] = defaultdict(int)
    for line, loc, qty in plan.allocations:
        assert qty > 0
        taken[(ws[line].product_id, loc)] += qty
        per_line[line] += qty
    for key, qty in taken.items():
        assert qty <= max(0, avail.get(key, 0))
    for w in ws:
        missing = plan.backordered.get(w.line, 0) + plan.short.get(w.line, 0)
        assert per_line[w.line] + missing == w.quantity
        assert w.line not in (plan.short if w.allow_backorder else plan.backordered)
        if missing:  # nothing was left anywhere for this product
            assert all(
                taken[(w.product_id, loc)] >= avail.get((w.product_id, loc), 0) for loc in locs
            )
    fills = [
        loc
        for loc in locs
        if all(
            avail.get((p, loc), 0) >= sum(w.quantity for w in ws if w.product_id == p)
            for p in {w.product_id for w in ws}
        )
    ]
    if fills:
        assert {loc for _, loc, _ in plan.allocations} == {fills[0]}


# ---------------------------------------------------------------- derived statuses


@pytest.mark.parametrize(
    ("total", "paid", "refunded", "expected"),
    [
        (76_000, 0, 0, FinancialStatus.PENDING),
        (76_000, 1, 0, FinancialStatus.PARTIALLY_PAID),
        (76_000, 50_000, 0, FinancialStatus.PARTIALLY_PAID),
        (76_000, 75_999, 0, FinancialStatus.PARTIALLY_PAID),
        (76_000, 76_000, 0, FinancialStatus.PAID),
        (76_000, 76_000, 1, FinancialStatus.PARTIALLY_REFUNDED),
        (76_000, 76_000, 75_999, FinancialStatus.PARTIALLY_REFUNDED),
        (76_000, 76_000, 76_000, FinancialStatus.REFUNDED),
        (76_000, 50_000, 20_000, FinancialStatus.PARTIALLY_REFUNDED),
        (76_000, 50_000, 50_000, FinancialStatus.REFUNDED),
    ],
)
def test_the_financial_status_follows_the_contracts_table(total, paid, refunded, expected):
    assert os_.financial(total, paid, refunded) is expected


def test_a_free_order_counts_as_paid_so_that_it_can_complete():
    assert os_.financial(0, 0, 0) is FinancialStatus.PAID


@given(total=st.integers(1, 10**9), data=st.data())
def test_the_financial_status_matches_the_contracts_words_for_any_amounts(total, data):
    paid = data.draw(st.integers(0, total))
    refunded = data.draw(st.integers(0, paid))
    got = os_.financial(total, paid, refunded)
    if refunded == 0:
        want = (
            FinancialStatus.PENDING
            if paid == 0
            else FinancialStatus.PAID
            if paid >= total
            else FinancialStatus.PARTIALLY_PAID
        )
    else:
        want = FinancialStatus.REFUNDED if refunded == paid else FinancialStatus.PARTIALLY_REFUNDED
    assert got is want


def test_nothing_shipped_is_unfulfilled():
    assert os_.fulfillment([LineQty(2, 0, 0), LineQty(1, 0, 0)]) is FulfillmentStatus.UNFULFILLED


def test_some_units_shipped_is_partially_fulfilled():
    lines = [LineQty(2, 2, 0), LineQty(1, 0, 0)]
    assert os_.fulfillment(lines) is FulfillmentStatus.PARTIALLY_FULFILLED
    assert os_.fulfillment([LineQty(3, 1, 0)]) is FulfillmentStatus.PARTIALLY_FULFILLED


def test_every_unit_not_cancelled_shipped_is_fulfilled():
    assert os_.fulfillment([LineQty(2, 2, 0), LineQty(1, 1, 0)]) is FulfillmentStatus.FULFILLED
    assert os_.fulfillment([LineQty(3, 2, 1), LineQty(4, 0, 4)]) is FulfillmentStatus.FULFILLED


def test_a_fully_cancelled_order_that_shipped_nothing_is_unfulfilled():
    assert os_.fulfillment([LineQty(2, 0, 2)]) is FulfillmentStatus.UNFULFILLED


def test_an_order_is_completed_only_when_paid_fulfilled_and_delivered():
    full = FulfillmentStatus.FULFILLED
    done = {"total": 100, "paid": 100, "fulfilled": full, "all_delivered": True}
    assert os_.status(cancelled=False, **done) is Status.COMPLETED
    assert os_.status(cancelled=False, **{**done, "paid": 99}) is Status.OPEN
    assert os_.status(cancelled=False, **{**done, "all_delivered": False}) is Status.OPEN
    partly = FulfillmentStatus.PARTIALLY_FULFILLED
    assert os_.status(cancelled=False, **{**done, "fulfilled": partly}) is Status.OPEN
    assert os_.status(cancelled=True, **done) is Status.CANCELLED
