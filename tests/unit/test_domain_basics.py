"""Money, roles and stock vocabulary, without a database."""

from __future__ import annotations

import pytest

from dingdan.domain.access.roles import Action, Role, differences, effective, may
from dingdan.domain.inventory.stock import AdjustmentReason, check_lines, reason_code
from dingdan.domain.shared import money
from dingdan.domain.shared.errors import FieldErrors, ValidationFailed


def test_amounts_become_minor_units_by_the_currency_exponent():
    assert money.parse_amount("350", "TWD", "price") == 35000
    assert money.parse_amount("1500", "JPY", "price") == 1500
    assert money.parse_amount("1.234", "KWD", "price") == 1234


def test_more_decimals_than_the_currency_has_are_refused():
    with pytest.raises(ValidationFailed) as exc:
        money.parse_amount("1.5", "JPY", "lines[0].unit_price")
    assert exc.value.errors[0].field == "lines[0].unit_price"
    with pytest.raises(ValidationFailed):
        money.parse_amount("1.005", "TWD", "price")


def test_negative_zero_and_malformed_amounts_are_refused_when_asked():
    for bad in ("-1", "1e3", "abc", "", " 1.0.0"):
        with pytest.raises(ValidationFailed):
            money.parse_amount(bad, "TWD", "x")
    with pytest.raises(ValidationFailed):
        money.parse_amount("0.00", "TWD", "amount", allow_zero=False)


def test_amounts_are_formatted_with_exactly_the_currency_decimals():
    assert money.format_amount(35000, "TWD") == "350.00"
    assert money.format_amount(1500, "JPY") == "1500"
    assert money.format_amount(-5, "USD") == "-0.05"
    assert money.format_amount(1234, "BHD") == "1.234"


def test_only_real_traded_currencies_are_accepted():
    assert money.is_currency("TWD") and money.is_currency("CNY") and money.is_currency("HKD")
    assert not money.is_currency("twd") and not money.is_currency("XXX")
    assert not money.is_currency("ABC")


def test_the_permission_table_matches_the_contract():
    assert may(Role.ADMIN, Action.MANAGE_USERS)
    assert not may(Role.MANAGER, Action.MANAGE_USERS) and may(Role.MANAGER, Action.MANAGE_STOCK)
    assert may(Role.CUSTOMER_SERVICE, Action.MANAGE_ORDERS)
    assert not may(Role.CUSTOMER_SERVICE, Action.MANAGE_STOCK)
    assert may(Role.WAREHOUSE, Action.FULFIL) and may(Role.WAREHOUSE, Action.RECEIVE_RETURNS)
    assert not may(Role.WAREHOUSE, Action.MANAGE_PAYMENTS)
    assert may(Role.FINANCE, Action.MANAGE_PAYMENTS) and not may(Role.FINANCE, Action.FULFIL)
    assert [a for a in Action if may(Role.VIEWER, a)] == [Action.READ]
    assert all(may(r, Action.READ) for r in Role)
    assert not may("nobody", Action.READ)


def test_prices_are_for_admin_and_manager_and_customer_service_records_payments():
    assert [r for r in Role if may(r, Action.PRICING)] == [Role.ADMIN, Role.MANAGER]
    assert may(Role.CUSTOMER_SERVICE, Action.RECORD_PAYMENTS)
    assert not may(Role.CUSTOMER_SERVICE, Action.MANAGE_PAYMENTS)


def test_a_roles_changes_are_stored_as_differences_and_reading_is_kept():
    wanted = set(effective(Role.WAREHOUSE, {})) | {Action.PRICING}
    assert differences(Role.WAREHOUSE, wanted) == {"pricing": True}
    assert Action.PRICING in effective(Role.WAREHOUSE, {"pricing": True, "fly": True})
    assert differences(Role.VIEWER, set()) == {}  # reading cannot be taken away
    assert effective(Role.ADMIN, {"manage_users": False}) == effective(Role.ADMIN, {})


def test_free_text_reasons_fall_back_to_other():
    assert reason_code("Damaged ") is AdjustmentReason.DAMAGED
    assert reason_code("dropped by courier") is AdjustmentReason.OTHER


def test_stock_lines_report_every_bad_line_at_once():
    errors = FieldErrors()
    check_lines(
        [{"sku": "A", "quantity": 0}, {"sku": "A", "quantity": 1}, {"quantity": True}], errors
    )
    assert [e.field for e in errors.items] == [
        "lines[0].quantity",
        "lines[1].sku",
        "lines[2].sku",
        "lines[2].quantity",
    ]
