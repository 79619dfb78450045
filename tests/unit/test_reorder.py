"""Reorder points, suggested quantities, landed cost and moving average cost, on cases
computed by hand."""

from __future__ import annotations

import pytest

from dingdan.domain.purchasing import purchase_orders as po
from dingdan.domain.purchasing import reorder
from dingdan.domain.shared.errors import InvalidTransition


def test_the_z_of_a_service_level_is_the_normal_quantile():
    assert reorder.z_for(0.5) == pytest.approx(0.0, abs=1e-12)
    assert reorder.z_for(0.95) == pytest.approx(1.644854, abs=1e-6)
    assert reorder.z_for(0.99) == pytest.approx(2.326348, abs=1e-6)
    with pytest.raises(ValueError):
        reorder.z_for(1.0)


def test_reorder_point_is_demand_over_the_lead_time_plus_safety_stock():
    # 4 a day for 9 days = 36; safety 1.644854 × 2 × √9 = 9.869; 45.869 → 46 units.
    assert reorder.safety_stock(2, 9, 0.95) == pytest.approx(9.869122, abs=1e-6)
    assert reorder.reorder_point(4, 2, 9, 0.95) == 46
    # At 99%: 36 + 2.326348 × 2 × 3 = 49.958 → 50.
    assert reorder.reorder_point(4, 2, 9, 0.99) == 50


def test_a_reorder_point_that_is_whole_stays_whole_and_no_lead_time_needs_none():
    assert reorder.reorder_point(2.5, 0, 4) == 10  # exactly 10, not 11 from float noise
    assert reorder.reorder_point(0.1 * 3, 0, 10) == 3  # 0.30000000000000004 × 10
    assert reorder.reorder_point(5, 3, 0) == 0
    assert reorder.reorder_point(0, 0, 14) == 0


def test_a_sku_needs_ordering_at_or_below_its_reorder_point():
    assert reorder.needs_order(reorder.Position(available=30, on_order=16), 46)
    assert reorder.needs_order(reorder.Position(available=40, on_order=6), 46)  # at: yes
    assert not reorder.needs_order(reorder.Position(available=40, on_order=7), 46)


def test_suggested_quantity_is_rounded_up_to_packs_and_the_minimum():
    position = reorder.Position(available=10, on_order=5)
    # Up to 46 + 14 days × 4 = 102: 102 - 15 = 87 units, in packs of 12: 8 packs = 96.
    assert reorder.suggested_quantity(position, 46, 4, pack_size=12) == 96
    # The supplier takes at least 100: 100 in packs of 12 = 108.
    assert reorder.suggested_quantity(position, 46, 4, pack_size=12, minimum_quantity=100) == 108
    # One unit of demand short and no pack: exactly what is missing.
    assert reorder.suggested_quantity(reorder.Position(0, 0), 3, 0, review_days=14) == 3
    # Already at the point with no demand: still at least one (pack).
    assert reorder.suggested_quantity(reorder.Position(5, 0), 5, 0, pack_size=6) == 6
    assert reorder.round_to_pack(13, 0) == 13


def test_freight_and_duty_are_spread_over_the_lines_by_value():
    # 10 × 100.00 and 5 × 40.00: 1,200.00; 120.00 of extras is 10% of each unit's cost.
    assert po.landed_unit_costs([(10, 10000), (5, 4000)], 12000, 2) == [110_000_000, 44_000_000]
    # Yen (no decimals): 3 × 100 with 10 of freight: 100 + 10 × 100 / 300 = 103.333333.
    assert po.landed_unit_costs([(3, 100)], 10, 0) == [103_333_333]
    assert po.landed_unit_costs([(3, 0)], 500, 2) == [0]  # nothing to spread over


def test_the_moving_average_weighs_what_is_on_hand_with_what_arrives():
    # 20 at 95.00 and 10 at 110.00: 3,000.00 / 30 = 100.00.
    assert po.moving_average(20, 95_000_000, 10, 110_000_000) == 100_000_000
    # (1 × 1 + 2 × 2) / 3 = 1.6667 micros → 2 (half-even).
    assert po.moving_average(1, 1, 2, 2) == 2
    assert po.moving_average(0, 95_000_000, 10, 110_000_000) == 110_000_000
    assert po.moving_average(-3, 95_000_000, 10, 110_000_000) == 110_000_000
    assert po.moving_average(20, None, 10, 110_000_000) == 110_000_000
    assert po.micros_text(1_005_000, 2) == "1.00"
    assert po.micros_text(1_015_000, 2) == "1.02"
    assert po.micros_text(103_333_333, 0) == "103"


def test_the_status_table_allows_only_its_transitions():
    po.check_transition("draft", po.POStatus.SENT)
    po.check_transition("sent", po.POStatus.CANCELLED)
    po.check_transition("partially_received", po.POStatus.CLOSED)
    for current, target in (
        ("partially_received", po.POStatus.CANCELLED),
        ("received", po.POStatus.CLOSED),
        ("cancelled", po.POStatus.SENT),
        ("draft", po.POStatus.CLOSED),
    ):
        with pytest.raises(InvalidTransition):
            po.check_transition(current, target)
    with pytest.raises(InvalidTransition):
        po.check_receivable("draft")
    assert po.after_receipt([(10, 10), (5, 5)]) is po.POStatus.RECEIVED
    assert po.after_receipt([(10, 10), (5, 4)]) is po.POStatus.PARTIALLY_RECEIVED


def test_a_draft_is_topped_up_by_whole_packs_to_the_suppliers_minimum_amount():
    # 6 × 1.00 + 10 × 0.50 = 11.00; to 20.00 in packs of 2: three rounds (+3.00 each).
    assert reorder.top_up_to_amount([6, 10], [100, 50], 2, 2000) == [12, 16]
    # To 21.00: three rounds make 20.00, one more pack of the first line makes 22.00.
    assert reorder.top_up_to_amount([6, 10], [100, 50], 2, 2100) == [14, 16]
    assert reorder.top_up_to_amount([6, 10], [100, 50], 2, 1000) == [6, 10]  # already there
    assert reorder.top_up_to_amount([6, 3], [0, 50], 1, 1000) == [6, 20]  # only paid lines
    assert reorder.top_up_to_amount([6], [0], 1, 1000) == [6]
