"""Regions (ISO 3166 codes a location serves, where an address lies) and the allocation
planner's routing: the locations serving the address first, then all of them."""

from __future__ import annotations

from dingdan.domain.orders.rules import Route, Want, plan_allocation, route_message
from dingdan.domain.shared.errors import FieldErrors
from dingdan.domain.shared.regions import (
    address_regions,
    check_regions,
    is_region,
    matching,
    serves,
)


def test_region_codes_are_iso_countries_and_subdivisions():
    assert is_region("TW") and is_region("HK") and is_region("TW-TPE") and is_region("CN-GD")
    for bad in ("tw", "XX", "TW-XXX", "TWN", "", "TW-", "-TPE", "ＴＷ"):
        assert not is_region(bad), bad


def test_checking_regions_names_each_bad_code_and_keeps_the_good_ones_once():
    errors = FieldErrors()
    assert check_regions([" tw-tpe", "HK", "TW-TPE"], "regions", errors) == ["TW-TPE", "HK"]
    assert not errors.items
    check_regions(["TW", 3, "Taipei"], "regions", errors)
    assert [(e.field, e.code) for e in errors.items] == [
        ("regions[1]", "invalid_region"),
        ("regions[2]", "invalid_region"),
    ]
    errors = FieldErrors()
    check_regions("TW", "regions", errors)
    assert [e.code for e in errors.items] == ["not_a_list"]
    errors = FieldErrors()
    check_regions(["TW"] * 101, "regions", errors)
    assert [e.code for e in errors.items] == ["too_many_items"]


def _tw(**over):
    return {"country": "TW", "city": "", "region": None, "postal_code": None, **over}


def test_a_taiwanese_address_lies_in_the_county_its_forms_name():
    assert address_regions(_tw(city="台北市")) == {"TW", "TW-TPE"}
    assert address_regions(_tw(city="臺北市")) == {"TW", "TW-TPE"}
    assert address_regions(_tw(region="TW-KHH", city="前金區")) == {"TW", "TW-KHH"}
    assert address_regions(_tw(region="高雄市")) == {"TW", "TW-KHH"}
    assert address_regions(_tw(city="新北市")) == {"TW", "TW-NWT"}


def test_a_taiwanese_address_lies_in_the_county_of_its_postal_code():
    assert address_regions(_tw(postal_code="800")) == {"TW", "TW-KHH"}
    assert address_regions(_tw(postal_code="80047")) == {"TW", "TW-KHH"}
    assert address_regions(_tw(postal_code="600")) == {"TW", "TW-CYI"}  # 嘉義市
    assert address_regions(_tw(postal_code="602")) == {"TW", "TW-CYQ"}  # 嘉義縣
    assert address_regions(_tw(postal_code="999")) == {"TW"}


def test_other_countries_by_code_or_subdivision_name():
    assert address_regions({"country": "HK", "city": "九龍", "region": None}) == {"HK"}
    assert address_regions({"country": "CN", "region": "GD"}) == {"CN", "CN-GD"}
    assert address_regions({"country": "CN", "region": "guangdong sheng"}) == {"CN", "CN-GD"}
    assert address_regions(None) == frozenset()


def test_a_location_serves_everywhere_or_the_regions_it_names():
    where = address_regions(_tw(city="台北市"))
    assert serves([], where) and serves(None, where)
    assert serves(["TW"], where) and serves(["HK", "TW-TPE"], where)
    assert not serves(["TW-KHH", "HK"], where)
    assert matching(["HK", "TW-TPE", "TW"], where) == ["TW-TPE", "TW"]


A, B, C = 1, 2, 3  # locations in priority order


def _want(qty, product=10, line=0, back=False):
    return Want(line, product, qty, back)


def test_one_serving_location_for_the_whole_order_before_a_better_priority_elsewhere():
    plan = plan_allocation([_want(2)], {(10, A): 5, (10, C): 5}, [A, B, C], serving=[C])
    assert plan.allocations == [(0, C, 2)] and plan.route == Route.ONE_SERVING


def test_serving_locations_split_before_the_others_are_tried():
    plan = plan_allocation([_want(4)], {(10, A): 9, (10, B): 2, (10, C): 2}, [A, B, C], [B, C])
    assert plan.allocations == [(0, B, 2), (0, C, 2)] and plan.route == Route.SPLIT_SERVING


def test_when_serving_locations_fall_short_all_locations_serving_ones_first():
    plan = plan_allocation([_want(4)], {(10, A): 9, (10, C): 1}, [A, B, C], serving=[C])
    assert plan.allocations == [(0, A, 4)] and plan.route == Route.FALLBACK
    plan = plan_allocation(
        [_want(4), _want(1, product=11, line=1)],
        {(10, A): 3, (10, C): 1, (11, A): 1},
        [A, B, C],
        serving=[C],
    )
    assert plan.allocations == [(0, C, 1), (0, A, 3), (1, A, 1)]
    assert plan.route == Route.FALLBACK and not plan.short


def test_no_serving_location_at_all_falls_back_to_the_core_rule():
    plan = plan_allocation([_want(2)], {(10, A): 1, (10, B): 2}, [A, B], serving=[])
    assert plan.allocations == [(0, B, 2)] and plan.route == Route.FALLBACK


def test_backorders_stay_on_the_serving_plan_when_the_others_add_nothing():
    plan = plan_allocation([_want(3, back=True)], {(10, C): 1}, [A, C], serving=[C])
    assert plan.allocations == [(0, C, 1)] and plan.backordered == {0: 2}
    assert plan.route == Route.SPLIT_SERVING
    plan = plan_allocation([_want(3)], {}, [A, C], serving=[C])
    assert plan.short == {0: 3} and plan.route == Route.NONE


def test_without_serving_the_core_rule_is_unchanged():
    wants = [_want(2), _want(2, product=11, line=1)]
    available = {(10, A): 2, (10, B): 2, (11, B): 2}
    assert plan_allocation(wants, available, [A, B]).allocations == [(0, B, 2), (1, B, 2)]


def test_the_route_is_told_in_words():
    assert route_message(Route.ONE_SERVING, ["TPE"], ["TW-TPE"], True) == (
        "Filled from TPE: serves TW-TPE and holds everything"
    )
    assert route_message(Route.ONE_SERVING, ["MAIN"], [], True) == (
        "Filled from MAIN: serves everywhere and holds everything"
    )
    assert route_message(Route.SPLIT_SERVING, ["A", "B"], [], True) == (
        "Split: no serving location holds it all; filled from A, B"
    )
    assert route_message(Route.FALLBACK, ["HK"], [], False) == (
        "No serving location had stock: filled from HK"
    )
