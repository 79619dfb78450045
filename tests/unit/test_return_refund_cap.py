"""The most a return refunds without a manager (issue 19, point 5)."""

from __future__ import annotations

from dingdan.domain.after_sales.returns import ReturnedLine, refund_cap


def test_inclusive_prices_cap_at_the_units_price_and_the_shipping_share():
    # 2 × 350.00 charged, 1 back; shipping 60.00: half of it goes with half of the goods.
    lines = [ReturnedLine(units=1, unit_price=35000, charged_units=2, tax=3333)]
    cap = refund_cap(
        lines,
        prices_include_tax=True,
        subtotal=70000,
        shipping_charged=6000,
        refund_shipping="proportional",
    )
    assert cap == 35000 + 3000


def test_exclusive_prices_add_the_tax_the_order_charged_on_the_returned_units():
    # 3 × 100.00 with 5% added (15.00 on the line); 2 back: 200.00 + 10.00 tax.
    lines = [ReturnedLine(units=2, unit_price=10000, charged_units=3, tax=1500)]
    cap = refund_cap(
        lines,
        prices_include_tax=False,
        subtotal=30000,
        shipping_charged=0,
        refund_shipping="proportional",
    )
    assert cap == 21000


def test_no_shipping_share_when_the_policy_gives_none_and_shares_round_down():
    lines = [ReturnedLine(units=1, unit_price=100, charged_units=3, tax=0)]
    assert (
        refund_cap(
            lines,
            prices_include_tax=True,
            subtotal=300,
            shipping_charged=100,
            refund_shipping="none",
        )
        == 100
    )
    assert (
        refund_cap(
            lines,
            prices_include_tax=True,
            subtotal=300,
            shipping_charged=100,
            refund_shipping="proportional",
        )
        == 133
    )
