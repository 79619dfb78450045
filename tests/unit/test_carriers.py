"""Carriers and their tracking-number checks (dingdan.domain.fulfilment.carriers)."""

from __future__ import annotations

import json
from importlib import resources

import pytest

from dingdan.domain.fulfilment.carriers import (
    DEFAULT_CARRIERS,
    ISO_COUNTRY_CODES,
    detect_carriers,
    get_carrier,
    normalize_tracking_number,
    validate_tracking_number,
)
from dingdan.domain.fulfilment.tracking_checksums import mod7, mod10, s10
from dingdan.domain.shared.errors import ValidationFailed
from tests.helpers import missing_shared_data, shared_data_param, shared_external

SHARED_COURIERS = shared_external() / "tracking/couriers"
BUNDLED = resources.files("dingdan.domain.fulfilment.tracking_data")
NO_SHARED_DATA = f"the shared tracking-number data is missing ({SHARED_COURIERS})"
# Courier file -> the default carrier whose format it describes.
CARRIER_OF = {"dhl": "dhl", "fedex": "fedex", "ups": "ups", "s10": "chunghwa_post"}


def _test_numbers(courier: str, which: str) -> list[str]:
    path = SHARED_COURIERS / f"{courier}.json"
    if not path.is_file():
        return []
    data = json.loads(path.read_text(encoding="utf-8"))
    return [n for kind in data["tracking_numbers"] for n in kind["test_numbers"][which]]


def _cases(courier: str, which: str) -> list[object]:
    numbers = _test_numbers(courier, which)
    if not numbers:
        return [shared_data_param(NO_SHARED_DATA)]
    return [pytest.param(number, id=number.strip()) for number in numbers]


def _refusal(carrier_code: str, number: str) -> ValidationFailed:
    with pytest.raises(ValidationFailed) as caught:
        validate_tracking_number(carrier_code, number)
    return caught.value


def _assert_accepted(carrier_code: str, number: str) -> None:
    expected = "".join(number.split()).upper()
    assert validate_tracking_number(carrier_code, number) == expected


def _assert_refused(carrier_code: str, number: str) -> None:
    error = _refusal(carrier_code, number)
    assert [e.field for e in error.errors] == ["tracking_number"]


@pytest.mark.parametrize("number", _cases("ups", "valid"))
def test_every_valid_ups_number_in_the_data_is_accepted(number: str) -> None:
    _assert_accepted("ups", number)


@pytest.mark.parametrize("number", _cases("ups", "invalid"))
def test_every_invalid_ups_number_in_the_data_is_refused(number: str) -> None:
    _assert_refused("ups", number)


@pytest.mark.parametrize("number", _cases("fedex", "valid"))
def test_every_valid_fedex_number_in_the_data_is_accepted(number: str) -> None:
    _assert_accepted("fedex", number)


@pytest.mark.parametrize("number", _cases("fedex", "invalid"))
def test_every_invalid_fedex_number_in_the_data_is_refused(number: str) -> None:
    _assert_refused("fedex", number)


@pytest.mark.parametrize("number", _cases("dhl", "valid"))
def test_every_valid_dhl_number_in_the_data_is_accepted(number: str) -> None:
    _assert_accepted("dhl", number)


@pytest.mark.parametrize("number", _cases("dhl", "invalid"))
def test_every_invalid_dhl_number_in_the_data_is_refused(number: str) -> None:
    _assert_refused("dhl", number)


@pytest.mark.parametrize("number", _cases("s10", "valid"))
def test_every_valid_s10_number_in_the_data_is_accepted_for_chunghwa_post(number: str) -> None:
    _assert_accepted("chunghwa_post", number)


@pytest.mark.parametrize("number", _cases("s10", "invalid"))
def test_every_invalid_s10_number_in_the_data_is_refused_for_chunghwa_post(number: str) -> None:
    _assert_refused("chunghwa_post", number)


@pytest.mark.parametrize("courier", sorted(CARRIER_OF))
def test_the_bundled_courier_file_is_an_unchanged_copy_of_the_shared_one(courier: str) -> None:
    shared = SHARED_COURIERS / f"{courier}.json"
    if not shared.is_file():
        missing_shared_data(NO_SHARED_DATA)
    assert BUNDLED.joinpath(f"{courier}.json").read_bytes() == shared.read_bytes()


def test_the_bundled_data_keeps_its_mit_licence() -> None:
    assert "MIT License" in BUNDLED.joinpath("LICENSE").read_text(encoding="utf-8")


def test_a_taiwanese_s10_number_is_accepted_for_chunghwa_post() -> None:
    assert validate_tracking_number("chunghwa_post", "RR123456785TW") == "RR123456785TW"


def test_a_taiwanese_s10_number_with_a_wrong_check_digit_is_refused() -> None:
    error = _refusal("chunghwa_post", "RR123456786TW")
    assert "check digit" in error.errors[0].message


def test_an_s10_number_with_a_country_code_that_is_not_a_country_is_refused() -> None:
    _assert_refused("chunghwa_post", "RR123456785XX")


def test_a_chunghwa_post_number_that_is_not_s10_is_refused() -> None:
    _assert_refused("chunghwa_post", "12345678901234")


def test_spaces_are_removed_and_letters_upper_cased() -> None:
    assert validate_tracking_number("chunghwa_post", "  rr 123 456 785 tw ") == "RR123456785TW"
    assert validate_tracking_number("ups", "1z5r 8939 0357 5671 27") == "1Z5R89390357567127"


def test_full_width_characters_and_tabs_are_normalised() -> None:
    assert normalize_tracking_number("ＲＲ１２３４５６７８５ＴＷ") == "RR123456785TW"
    assert normalize_tracking_number("12\t34\u3000ab") == "1234AB"


def test_an_unknown_carrier_code_fails_on_the_carrier_field() -> None:
    error = _refusal("pony_express", "1Z5R89390357567127")
    assert [e.field for e in error.errors] == ["carrier"]
    assert "pony_express" in error.errors[0].message


def test_the_error_message_names_the_carrier() -> None:
    assert "UPS" in _refusal("ups", "1Z1111111111111111").errors[0].message
    assert "Chunghwa Post" in _refusal("chunghwa_post", "RR123456785XX").errors[0].message
    assert "T-cat" in _refusal("tcat", "12345").errors[0].message
    assert "7-ELEVEN" in _refusal("seven_eleven", "A").errors[0].message


def test_an_empty_number_is_refused_for_every_carrier() -> None:
    for carrier in DEFAULT_CARRIERS:
        _assert_refused(carrier.code, "   ")


def test_a_tcat_number_is_twelve_digits() -> None:
    assert validate_tracking_number("tcat", "9032 2148 8720") == "903221488720"
    for wrong in ("90322148872", "9032214887201", "90322148872A"):
        _assert_refused("tcat", wrong)


@pytest.mark.parametrize("code", ["hct", "seven_eleven", "family_mart", "sf_express", "other"])
def test_a_carrier_without_a_known_format_gets_the_generic_check(code: str) -> None:
    assert validate_tracking_number(code, "sf1234567890123") == "SF1234567890123"
    assert validate_tracking_number(code, "ab-12") == "AB-12"
    assert validate_tracking_number(code, "X" * 40) == "X" * 40
    for wrong in ("ABC", "X" * 41, "AB_123", "AB/123", "----", "訂單123"):
        _assert_refused(code, wrong)


def test_detect_carriers_finds_the_carriers_whose_formats_accept_a_number() -> None:
    assert detect_carriers("1z5r89390357567127") == ["ups"]
    assert detect_carriers("RR123456785TW") == ["chunghwa_post"]
    assert detect_carriers("3318810025") == ["dhl"]
    assert detect_carriers("986578788855") == ["tcat", "fedex"]


def test_detect_carriers_finds_nothing_for_an_unknown_or_empty_number() -> None:
    assert detect_carriers("RR123456786TW") == []
    assert detect_carriers("HELLO-WORLD") == []
    assert detect_carriers("  ") == []


def test_get_carrier_returns_the_default_carrier_or_none() -> None:
    tcat = get_carrier("tcat")
    assert tcat is not None and tcat.name_zh_hant == "黑貓宅急便" and not tcat.store_pickup
    seven = get_carrier("seven_eleven")
    assert seven is not None and seven.store_pickup
    assert get_carrier("pony_express") is None


def test_the_default_carriers_are_the_expected_ones_with_unique_codes() -> None:
    codes = [carrier.code for carrier in DEFAULT_CARRIERS]
    assert len(codes) == len(set(codes))
    assert set(codes) == {
        "tcat",
        "hct",
        "chunghwa_post",
        "seven_eleven",
        "family_mart",
        "hi_life",
        "ok_mart",
        "sf_express",
        "dhl",
        "fedex",
        "ups",
        "own_delivery",
        "other",
    }
    assert {c.code for c in DEFAULT_CARRIERS if c.store_pickup} == {
        "seven_eleven",
        "family_mart",
        "hi_life",
        "ok_mart",
    }


def test_every_carrier_has_names_in_three_languages_and_a_url_template_with_the_number() -> None:
    for carrier in DEFAULT_CARRIERS:
        assert carrier.name_en and carrier.name_zh_hant and carrier.name_zh_hans
        assert carrier.tracking_url is None or "{number}" in carrier.tracking_url


@pytest.mark.parametrize("courier", ["dhl", "fedex", "ups"])
def test_the_tracking_url_is_the_one_in_the_data(courier: str) -> None:
    path = SHARED_COURIERS / f"{courier}.json"
    if not path.is_file():
        missing_shared_data(NO_SHARED_DATA)
    data = json.loads(path.read_text(encoding="utf-8"))
    urls = {kind.get("tracking_url") for kind in data["tracking_numbers"]} - {None}
    carrier = get_carrier(CARRIER_OF[courier])
    assert carrier is not None and carrier.tracking_url is not None
    assert urls == {carrier.tracking_url.replace("{number}", "%s")}


def test_the_s10_check_digit_follows_the_upu_rule_for_every_remainder() -> None:
    params = {"weightings": [8, 6, 4, 2, 3, 5, 9, 7], "modulo": 11}
    assert s10("12345678", "5", params)  # sum 204, remainder 6: 11 - 6
    assert s10("00000000", "5", params)  # remainder 0 gives 5
    assert s10("02000000", "0", params)  # sum 12, remainder 1 gives 0
    assert s10("40000000", "1", params)  # sum 32, remainder 10: 11 - 10
    assert not s10("1234567", "5", params)  # one digit short


def test_mod10_gives_letters_the_reference_value_and_applies_the_multipliers() -> None:
    params = {"modulo": 10, "evens_multiplier": 1, "odds_multiplier": 2}
    # "A" counts (65 - 3) % 10 = 2, doubled at an odd position: 1 + 4 = 5, so 10 - 5.
    assert mod10("1A", "5", params)
    assert not mod10("1A", "4", params)
    assert mod10("0000", "0", params)


def test_mod7_is_the_remainder_of_the_serial_number() -> None:
    assert mod7("331881002", "5", {"modulo": 7})
    assert not mod7("331881002", "4", {"modulo": 7})


def test_the_s10_country_list_is_iso_3166_and_includes_taiwan() -> None:
    assert len(ISO_COUNTRY_CODES) == 249
    assert {"TW", "CN", "HK", "MO", "JP", "US"} <= ISO_COUNTRY_CODES
    assert "XX" not in ISO_COUNTRY_CODES


def test_a_number_as_printed_with_dashes_or_dots_is_read_for_a_known_format() -> None:
    # T-cat prints 9012-3456-7890 on its labels; people copy it with the dashes.
    assert validate_tracking_number("tcat", "9012-3456-7890") == "901234567890"
    assert validate_tracking_number("tcat", "9012.3456.7890") == "901234567890"
    assert validate_tracking_number("tcat", "９０１２－３４５６－７８９０") == "901234567890"
    assert validate_tracking_number("chunghwa_post", "RR-123-456-785-TW") == "RR123456785TW"
    assert detect_carriers("9012-3456-7890") == detect_carriers("901234567890")


def test_dashes_do_not_make_a_short_number_valid_and_stay_for_generic_carriers() -> None:
    _assert_refused("tcat", "9012-3456-789")
    assert validate_tracking_number("hct", "HCT-1234-5") == "HCT-1234-5"


def test_the_refusal_names_the_carrier_code_for_pages_to_name_it_in_their_language() -> None:
    error = _refusal("tcat", "12-34")
    assert error.errors[0].params["carrier_code"] == "tcat"
    assert error.errors[0].params["expected"] == "12 digits"
