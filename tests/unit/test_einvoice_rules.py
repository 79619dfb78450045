"""Taiwan e-invoice rules without a database: the invoice request's carrier, donation and
B2B checks (on the shared vectors where they exist), the UBN rule, periods, number ranges
and the void window."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from dingdan.domain.invoicing import rules
from dingdan.domain.orders import invoice_request
from dingdan.domain.shared.business_ids import is_valid_tw_ubn
from dingdan.domain.shared.errors import FieldErrors, ValidationFailed
from tests.helpers import missing_shared_data, shared_external


def _shared(path: str) -> Any:
    file = shared_external() / path
    if not file.exists():
        missing_shared_data(f"{file} is missing")
    return json.loads(file.read_text(encoding="utf-8"))


def _codes(data: Any) -> list[tuple[str, str]]:
    errors = FieldErrors()
    invoice_request.check(data, errors)
    return [(e.field, e.code) for e in errors.items]


def test_the_ubn_rule_of_2023_on_the_shared_vectors():
    v = _shared("tw_cn_ids/tw_ubn_vectors.json")
    for ubn in v["valid_found_online"] + v["valid_only_under_2023_rule"]:
        assert is_valid_tw_ubn(ubn), ubn
    for key in ("invalid_checksum", "invalid_length", "invalid_format"):
        for ubn in v[key]:
            assert not is_valid_tw_ubn(ubn), ubn


def _format_vectors(kind: str) -> list[tuple[str, bool]]:
    v = _shared("vectors/taiwan_einvoice.json")
    return [
        (x["inputs"]["value"], x["expected"]["format_valid"])
        for x in v["vectors"]
        if x["kind"] == "tw_format" and x["inputs"].get("type") == kind
    ]


def test_mobile_barcodes_on_the_shared_vectors_are_refused_with_invalid_carrier_id():
    cases = _format_vectors("mobile_barcode")
    assert len(cases) >= 10
    for value, valid in cases:
        got = _codes({"type": "b2c", "carrier_type": "mobile", "carrier_id": value})
        if valid:
            assert got == [], value
        elif value == "":
            assert got == [("invoice.carrier_id", "required")]
        else:
            assert got == [("invoice.carrier_id", "invalid_carrier_id")], value


def test_donation_codes_on_the_shared_vectors_are_refused_with_invalid_donation_code():
    for value, valid in _format_vectors("love_code"):
        got = _codes({"type": "b2c", "donation_code": value})
        assert got == ([] if valid else [("invoice.donation_code", "invalid_donation_code")])


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        ("AB12345678901234", True),
        ("ab12345678901234", False),
        ("AB1234567890123", False),
        ("A123456789012345", False),
    ],
)
def test_a_citizen_certificate_is_two_capitals_and_14_digits(value, valid):
    got = _codes({"type": "b2c", "carrier_type": "certificate", "carrier_id": value})
    assert got == ([] if valid else [("invoice.carrier_id", "invalid_carrier_id")])


def test_conflicting_combinations_are_refused():
    both = {"type": "b2c", "carrier_type": "member", "carrier_id": "M-1", "donation_code": "168"}
    assert _codes(both) == [("invoice.donation_code", "invoice_carrier_and_donation")]
    b2b = {"type": "b2b", "buyer_ubn": "04595257", "buyer_name": "甲", "carrier_type": "mobile"}
    assert _codes(b2b) == [("invoice.carrier_type", "invoice_b2b_no_carrier")]
    assert _codes({"type": "b2b", "buyer_ubn": "04595258", "buyer_name": "甲"}) == [
        ("invoice.buyer_ubn", "invalid_ubn")
    ]
    assert _codes({"type": "b2c", "carrier_id": "/ABC1234"}) == [
        ("invoice.carrier_type", "required")
    ]
    assert _codes({"type": "b2c", "colour": "red"}) == [("invoice.colour", "not_a_field")]


def test_a_good_request_is_kept_as_given():
    errors = FieldErrors()
    req = invoice_request.check(
        {"type": "b2b", "buyer_ubn": "04595257", "buyer_name": "甲"}, errors
    )
    assert req is not None and req.as_dict() == {
        "type": "b2b",
        "buyer_ubn": "04595257",
        "buyer_name": "甲",
    }
    assert invoice_request.InvoiceRequest.of(req.as_dict()) == req
    assert invoice_request.InvoiceRequest.of(None).type == "b2c"


def test_periods_are_two_months_in_taipei():
    assert rules.period_of(datetime(2026, 12, 31, 15, 30, tzinfo=UTC)) == "2026-11"
    assert rules.period_of(datetime(2026, 12, 31, 16, 30, tzinfo=UTC)) == "2027-01"  # Taipei
    assert rules.period_of(datetime(2026, 2, 10, tzinfo=UTC)) == "2026-01"
    assert rules.period_end("2026-11").isoformat() == "2026-12-31"
    assert rules.period_end("2028-01").isoformat() == "2028-02-29"


def test_the_void_window_closes_after_the_closing_day_of_the_next_month():
    deadline = rules.void_deadline("2026-11", 15)
    assert deadline.isoformat() == "2027-01-16T00:00:00+08:00"
    assert rules.may_void("2026-11", datetime(2027, 1, 15, 15, 59, tzinfo=UTC), 15)
    assert not rules.may_void("2026-11", datetime(2027, 1, 15, 16, 0, tzinfo=UTC), 15)


def test_ranges_follow_the_booklets_of_50():
    v = _shared("vectors/taiwan_einvoice.json")
    [case] = [x for x in v["vectors"] if x["kind"] == "tw_invoice_range"]
    for (start, end), count in zip(
        case["inputs"]["ranges"], case["expected"]["counts"], strict=True
    ):
        track = rules.check_track(
            {"period": "2026-11", "prefix": start[:2], "start": start[2:], "end": end[2:]}
        )
        assert track.end - track.start + 1 == count
    with pytest.raises(ValidationFailed) as bad:
        rules.check_track({"period": "2026-12", "prefix": "A1", "start": "10000001", "end": "1"})
    assert {e.code for e in bad.value.errors} == {
        "invalid_einvoice_period",
        "invalid_track_prefix",
        "invalid_track_number",
    }


def test_the_range_is_80_percent_used_at_its_40th_number_of_50():
    assert rules.low_threshold(10000000, 10000049) == 10000039
    assert rules.low_threshold(0, 0) == 0
    assert rules.einvoice_number("AB", 50) == "AB00000050"
    assert rules.series_number("INV", 2026, 1) == "INV-2026-000001"
