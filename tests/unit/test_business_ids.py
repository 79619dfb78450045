"""Taiwan unified business numbers (統一編號) and China unified social credit codes."""

from __future__ import annotations

import json
from collections.abc import Sequence

import pytest

from dingdan.domain.shared.business_ids import (
    check_cn_uscc,
    check_tw_ubn,
    is_valid_cn_uscc,
    is_valid_tw_ubn,
)
from dingdan.domain.shared.errors import FieldErrors
from tests.helpers import shared_data_param, shared_external

VECTORS = shared_external() / "tw_cn_ids"


def _vector_cases(file_name: str, valid: bool) -> Sequence[object]:
    """Every number listed under a ``valid_*`` (or ``invalid_*``) key of a vector file."""
    path = VECTORS / file_name
    if not path.is_file():
        reason = f"test vectors not found at {path} (shared data directory is not mounted)"
        return [shared_data_param(reason, id="vectors-missing")]
    data = json.loads(path.read_text(encoding="utf-8"))
    prefix = "valid_" if valid else "invalid_"
    cases = [
        pytest.param(number, id=f"{key}-{number}")
        for key, numbers in data.items()
        if key.startswith(prefix) and isinstance(numbers, list)
        for number in numbers
    ]
    assert cases, f"{path} lists no {prefix}* numbers"
    return cases


# --- Taiwan ---------------------------------------------------------------------------------


@pytest.mark.parametrize("number", _vector_cases("tw_ubn_vectors.json", valid=True))
def test_every_valid_taiwan_business_number_in_the_vectors_is_accepted(number: str) -> None:
    assert is_valid_tw_ubn(number)


@pytest.mark.parametrize("number", _vector_cases("tw_ubn_vectors.json", valid=False))
def test_every_invalid_taiwan_business_number_in_the_vectors_is_refused(number: str) -> None:
    assert not is_valid_tw_ubn(number)


def test_taiwan_number_valid_only_under_the_2023_divide_by_five_rule_is_accepted() -> None:
    assert is_valid_tw_ubn("10000004")  # digit sum 5: not a multiple of 10


def test_taiwan_number_with_seven_as_seventh_digit_may_count_the_product_as_one() -> None:
    assert is_valid_tw_ubn("10000073")  # sum + 1 is a multiple of 5


def test_taiwan_sum_plus_one_rule_does_not_apply_without_a_seven_in_seventh_place() -> None:
    assert not is_valid_tw_ubn("10000101")


@pytest.mark.parametrize(
    "number", ["0050150", "005015033", " 00501503", "0050150３", "0050-1503", "", "abcdefgh"]
)
def test_taiwan_number_must_be_exactly_eight_ascii_digits(number: str) -> None:
    assert not is_valid_tw_ubn(number)


def test_taiwan_number_check_refuses_non_strings() -> None:
    assert not is_valid_tw_ubn(501503)  # type: ignore[arg-type]


def test_typed_taiwan_number_with_spaces_and_full_width_digits_is_compacted() -> None:
    errors = FieldErrors()
    assert check_tw_ubn(" ００５０ 1503 ", "buyer.ubn", errors) == "00501503"
    assert not errors


def test_typed_taiwan_number_with_bad_checksum_is_reported_on_its_field() -> None:
    errors = FieldErrors()
    assert check_tw_ubn("00501502", "buyer.ubn", errors) is None
    assert [e.field for e in errors.items] == ["buyer.ubn"]
    assert "統一編號" in errors.items[0].message


# --- China ----------------------------------------------------------------------------------


@pytest.mark.parametrize("code", _vector_cases("cn_uscc_vectors.json", valid=True))
def test_every_valid_china_credit_code_in_the_vectors_is_accepted(code: str) -> None:
    assert is_valid_cn_uscc(code)


@pytest.mark.parametrize("code", _vector_cases("cn_uscc_vectors.json", valid=False))
def test_every_invalid_china_credit_code_in_the_vectors_is_refused(code: str) -> None:
    assert not is_valid_cn_uscc(code)


@pytest.mark.parametrize("code", ["Y1110000600037341Y", "N2110000MA00000001"])
def test_china_credit_code_may_start_with_a_letter_registration_authority(code: str) -> None:
    assert is_valid_cn_uscc(code)


@pytest.mark.parametrize(
    "code",
    [
        "91110000600037341l",  # lower case is not the stored form
        "9111000060003734IL",  # I is not in the alphabet
        "9111000060003734OL",
        "9111000060003734SL",
        "9111000060003734VL",
        "9111000060003734ZL",
        "911A0000600037341L",  # division code must be digits
        "91110000600037341",
        "91110000600037341LL",
        "",
    ],
)
def test_china_credit_code_with_wrong_characters_or_length_is_refused(code: str) -> None:
    assert not is_valid_cn_uscc(code)


def test_china_credit_code_check_character_must_match() -> None:
    assert is_valid_cn_uscc("91110000MA1K3BTP21")
    assert not is_valid_cn_uscc("91110000MA1K3BTP22")


def test_typed_china_credit_code_in_lower_case_with_spaces_is_compacted() -> None:
    errors = FieldErrors()
    code = check_cn_uscc(" 9111 0000 6000 3734 1l ", "buyer.uscc", errors)
    assert code == "91110000600037341L"
    assert not errors


def test_typed_china_credit_code_that_is_not_text_is_reported() -> None:
    errors = FieldErrors()
    assert check_cn_uscc(None, "buyer.uscc", errors) is None
    assert check_cn_uscc("91110000600037341N", "seller.uscc", errors) is None
    assert [e.field for e in errors.items] == ["buyer.uscc", "seller.uscc"]
