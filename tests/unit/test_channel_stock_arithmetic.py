"""What a channel may sell: available less the buffer, never below 0; a percent buffer
rounds what may be sold down."""

from __future__ import annotations

from dingdan.domain.catalog.channel_stock import Buffer, may_sell


def test_a_buffer_in_units_is_subtracted_and_never_goes_below_zero() -> None:
    assert may_sell(10, Buffer("units", 3)) == 7
    assert may_sell(3, Buffer("units", 3)) == 0
    assert may_sell(2, Buffer("units", 3)) == 0
    assert may_sell(10, Buffer()) == 10


def test_a_percent_buffer_rounds_what_may_be_sold_down() -> None:
    assert may_sell(10, Buffer("percent", 25)) == 7  # 7.5 → 7
    assert may_sell(3, Buffer("percent", 10)) == 2  # 2.7 → 2
    assert may_sell(1, Buffer("percent", 1)) == 0
    assert may_sell(100, Buffer("percent", 0)) == 100
    assert may_sell(100, Buffer("percent", 100)) == 0


def test_nothing_available_or_oversold_means_nothing_to_sell() -> None:
    assert may_sell(0, Buffer()) == 0
    assert may_sell(-2, Buffer("percent", 10)) == 0
