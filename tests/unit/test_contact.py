"""E-mail, phone, country, postal code and address validation."""

from __future__ import annotations

from dataclasses import FrozenInstanceError

import pytest

from dingdan.domain.shared.contact import (
    Address,
    check_country,
    check_postal_code,
    country_name,
    normalize_email,
    normalize_phone,
    phone_as_stored,
    validate_address,
)
from dingdan.domain.shared.errors import FieldErrors, ValidationFailed


def _fields(errors: FieldErrors) -> list[str]:
    return [e.field for e in errors.items]


# --- e-mail ---------------------------------------------------------------------------------


def test_email_domain_is_lower_cased_and_local_part_kept() -> None:
    errors = FieldErrors()
    assert normalize_email("  Mei.Lin@Example.COM ", "email", errors) == "Mei.Lin@example.com"
    assert not errors


def test_email_with_chinese_local_part_and_domain_is_accepted_unchanged() -> None:
    errors = FieldErrors()
    assert normalize_email("用户@例子.广告", "email", errors) == "用户@例子.广告"
    assert not errors


@pytest.mark.parametrize(
    "value", ["mei.lin", "mei@", "@example.com", "mei lin@example.com", "mei@@example.com"]
)
def test_malformed_email_is_refused_with_a_readable_message(value: str) -> None:
    errors = FieldErrors()
    assert normalize_email(value, "customer.email", errors) is None
    assert _fields(errors) == ["customer.email"]
    assert errors.items[0].message.startswith("is not a valid e-mail address")


def test_email_domain_is_not_looked_up_in_dns() -> None:
    errors = FieldErrors()
    assert normalize_email("a@no-such-domain-dingdan.com.tw", "email", errors) is not None
    assert not errors


@pytest.mark.parametrize("value", [None, "", "   "])
def test_missing_email_is_reported_as_required(value: str | None) -> None:
    errors = FieldErrors()
    assert normalize_email(value, "email", errors) is None
    assert [(e.field, e.message) for e in errors.items] == [("email", "is required")]


def test_missing_optional_email_is_not_an_error() -> None:
    errors = FieldErrors()
    assert normalize_email("", "email", errors, required=False) is None
    assert not errors


def test_email_that_is_not_text_is_reported_once() -> None:
    errors = FieldErrors()
    assert normalize_email(42, "email", errors) is None
    assert [(e.field, e.message) for e in errors.items] == [("email", "must be text")]


# --- phone ----------------------------------------------------------------------------------


def test_taiwan_mobile_number_is_normalised_to_e164() -> None:
    errors = FieldErrors()
    assert normalize_phone("0912-345-678", "phone", errors, "TW") == "+886912345678"
    assert not errors


def test_hong_kong_number_with_country_code_is_normalised_to_e164() -> None:
    errors = FieldErrors()
    assert normalize_phone("+852 6123 4567", "phone", errors, None) == "+85261234567"
    assert not errors


def test_mainland_china_mobile_number_is_read_with_the_cn_region() -> None:
    errors = FieldErrors()
    assert normalize_phone("13800138000", "phone", errors, "CN") == "+8613800138000"
    assert not errors


def test_explicit_country_code_wins_over_the_default_region() -> None:
    errors = FieldErrors()
    assert normalize_phone("+852 6123 4567", "phone", errors, "TW") == "+85261234567"


def test_taipei_landline_is_accepted() -> None:
    errors = FieldErrors()
    assert normalize_phone("(02) 2345-6789", "phone", errors, "tw") == "+886223456789"
    assert not errors


def test_national_number_without_a_region_asks_for_the_country_code() -> None:
    errors = FieldErrors()
    assert normalize_phone("0912345678", "phone", errors, None) is None
    assert "country code" in errors.items[0].message


@pytest.mark.parametrize("value", ["12345", "0912", "+886 1234 5678 9012 345"])
def test_number_that_is_not_a_valid_number_is_refused(value: str) -> None:
    errors = FieldErrors()
    assert normalize_phone(value, "order.phone", errors, "TW") is None
    assert _fields(errors) == ["order.phone"]


def test_text_that_is_not_a_phone_number_is_refused() -> None:
    errors = FieldErrors()
    assert normalize_phone("請打給我", "phone", errors, "TW") is None
    assert _fields(errors) == ["phone"]


def test_phone_extension_is_refused_rather_than_silently_dropped() -> None:
    errors = FieldErrors()
    assert normalize_phone("02-2345-6789#123", "phone", errors, "TW") is None
    assert errors.items[0].message == "must not include an extension"


def test_missing_phone_is_required_unless_optional() -> None:
    errors = FieldErrors()
    assert normalize_phone(" ", "phone", errors, "TW") is None
    assert normalize_phone(None, "alt_phone", errors, "TW", required=False) is None
    assert [(e.field, e.message) for e in errors.items] == [("phone", "is required")]


# --- country --------------------------------------------------------------------------------


@pytest.mark.parametrize(("value", "code"), [("TW", "TW"), ("tw", "TW"), (" hk ", "HK")])
def test_assigned_country_code_is_accepted_and_upper_cased(value: str, code: str) -> None:
    errors = FieldErrors()
    assert check_country(value, "country", errors) == code
    assert not errors


@pytest.mark.parametrize("value", ["UK", "EU", "XK", "ZZ", "TWN", "T", "台灣", "T1"])
def test_unassigned_or_malformed_country_code_is_refused(value: str) -> None:
    errors = FieldErrors()
    assert check_country(value, "country", errors) is None
    assert _fields(errors) == ["country"]


def test_uk_is_refused_with_a_hint_to_use_gb() -> None:
    errors = FieldErrors()
    check_country("UK", "country", errors)
    assert '"GB"' in errors.items[0].message


def test_missing_country_is_required() -> None:
    errors = FieldErrors()
    assert check_country(None, "country", errors) is None
    assert errors.items[0].message == "is required"


@pytest.mark.parametrize(
    ("code", "locale", "name"),
    [
        ("TW", "zh_Hant_TW", "台灣"),
        ("TW", "en", "Taiwan"),
        ("TW", "zh-TW", "台灣"),
        ("CN", "zh_Hans_CN", "中国"),
        ("HK", "en", "Hong Kong SAR China"),
    ],
)
def test_country_name_comes_from_cldr_in_the_given_locale(
    code: str, locale: str, name: str
) -> None:
    assert country_name(code, locale) == name


def test_country_name_of_a_code_cldr_does_not_know_is_the_code() -> None:
    assert country_name("QQ", "en") == "QQ"


# --- postal codes ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("country", "value", "normalised"),
    [
        ("TW", "110", "110"),
        ("TW", "11001", "11001"),
        ("TW", "110208", "110208"),
        ("TW", "110-208", "110208"),
        ("TW", "１１０２０８", "110208"),  # full-width digits from a CJK input method
        ("CN", "100000", "100000"),
        ("SG", "018956", "018956"),
        ("US", "94105", "94105"),
        ("US", "94105-1234", "94105-1234"),
        ("US", "941051234", "94105-1234"),
        ("JP", "100-0001", "100-0001"),
        ("JP", "1000001", "100-0001"),
        ("GB", "sw1a 1aa", "SW1A 1AA"),
        ("GB", "EC1A1BB", "EC1A 1BB"),
        ("GB", "M1 1AE", "M1 1AE"),
        ("CA", "k1a 0b1", "K1A 0B1"),
        ("CA", "K1A0B1", "K1A 0B1"),
        ("DE", "10115", "10115"),
        ("NL", "1011 ab", "1011 AB"),
    ],
)
def test_postal_code_in_the_country_format_is_accepted_and_normalised(
    country: str, value: str, normalised: str
) -> None:
    errors = FieldErrors()
    assert check_postal_code(country, value, "postal_code", errors) == normalised
    assert not errors


@pytest.mark.parametrize(
    ("country", "value"),
    [
        ("TW", "11"),
        ("TW", "1100"),
        ("TW", "1100012"),
        ("TW", "台北市"),
        ("CN", "10000"),
        ("CN", "1000000"),
        ("SG", "12345"),
        ("US", "9410"),
        ("US", "94105-12"),
        ("JP", "100-001"),
        ("GB", "SW1A"),
        ("GB", "QW1 1AA"),
        ("CA", "D1A 0B1"),
        ("CA", "K1A 0O1"),
        ("DE", "1234567890123"),
        ("DE", "10115!"),
    ],
)
def test_postal_code_not_in_the_country_format_is_refused(country: str, value: str) -> None:
    errors = FieldErrors()
    assert check_postal_code(country, value, "address.postal_code", errors) is None
    assert _fields(errors) == ["address.postal_code"]
    assert errors.items[0].message.startswith("must be")


@pytest.mark.parametrize("country", ["TW", "CN", "US", "JP", "SG", "CA", "GB"])
def test_postal_code_is_required_where_the_country_uses_them(country: str) -> None:
    errors = FieldErrors()
    assert check_postal_code(country, "  ", "postal_code", errors) is None
    assert errors.items[0].message == "is required"


@pytest.mark.parametrize("country", ["HK", "MO", "DE", None])
def test_postal_code_is_optional_elsewhere(country: str | None) -> None:
    errors = FieldErrors()
    assert check_postal_code(country, None, "postal_code", errors) is None
    assert not errors


@pytest.mark.parametrize(
    ("country", "value"), [("HK", "000000"), ("HK", "999077"), ("MO", "999078")]
)
def test_placeholder_postal_code_for_hong_kong_and_macau_is_accepted_and_dropped(
    country: str, value: str
) -> None:
    errors = FieldErrors()
    assert check_postal_code(country, value, "postal_code", errors) is None
    assert not errors


@pytest.mark.parametrize(("country", "value"), [("HK", "12345"), ("HK", "999078"), ("MO", "MO")])
def test_any_other_postal_code_for_hong_kong_and_macau_is_refused(country: str, value: str) -> None:
    errors = FieldErrors()
    assert check_postal_code(country, value, "postal_code", errors) is None
    assert "does not use postal codes" in errors.items[0].message


# --- addresses ------------------------------------------------------------------------------


def _taipei_address(**changes: object) -> dict[str, object]:
    data: dict[str, object] = {
        "name": "王小明",
        "line1": "信義路五段7號",
        "line2": "89樓",
        "city": "臺北市",
        "region": "信義區",
        "postal_code": "110208",
        "country": "TW",
        "phone": "0912 345 678",
    }
    data.update(changes)
    return data


def test_valid_taiwan_address_keeps_chinese_text_unchanged() -> None:
    errors = FieldErrors()
    address = validate_address(_taipei_address(), "shipping_address", errors)
    assert not errors
    assert address == Address(
        name="王小明",
        line1="信義路五段7號",
        line2="89樓",
        city="臺北市",  # 臺 is not folded to 台
        region="信義區",
        postal_code="110208",
        country="TW",
        phone="+886912345678",
    )


def test_address_text_is_only_stripped_of_surrounding_whitespace() -> None:
    errors = FieldErrors()
    address = validate_address(
        _taipei_address(name="\u3000王 小明 ", line1=" 信義路五段７號 "), "a", errors
    )
    assert address is not None
    assert address.name == "王 小明"
    assert address.line1 == "信義路五段７號"  # full-width digit kept


def test_address_phone_is_read_with_the_address_country() -> None:
    errors = FieldErrors()
    data = {
        "name": "陈伟",
        "line1": "南京东路100号",
        "city": "上海市",
        "country": "cn",
        "postal_code": "200001",
        "phone": "13800138000",
    }
    address = validate_address(data, "shipping_address", errors)
    assert address is not None
    assert (address.country, address.phone) == ("CN", "+8613800138000")


def test_hong_kong_address_needs_no_postal_code_or_optional_fields() -> None:
    errors = FieldErrors()
    data = {"name": "陳大文", "line1": "皇后大道中99號", "city": "中環", "country": "HK"}
    address = validate_address(data, "billing_address", errors)
    assert not errors
    assert address is not None
    assert (address.line2, address.region, address.postal_code, address.phone) == (
        None,
        None,
        None,
        None,
    )


def test_every_bad_address_field_is_reported_at_once_with_its_path() -> None:
    errors = FieldErrors()
    data = {
        "name": " ",
        "line1": "路" * 301,
        "line2": 5,
        "city": None,
        "region": "信義\n區",
        "postal_code": "1100",
        "country": "TW",
        "phone": "12345",
    }
    assert validate_address(data, "shipping_address", errors) is None
    assert _fields(errors) == [
        "shipping_address.name",
        "shipping_address.line1",
        "shipping_address.line2",
        "shipping_address.city",
        "shipping_address.region",
        "shipping_address.postal_code",
        "shipping_address.phone",
    ]
    with pytest.raises(ValidationFailed) as raised:
        errors.raise_if_any()
    assert len(raised.value.errors) == 7


def test_missing_country_is_reported_and_postal_code_gets_the_permissive_rule() -> None:
    errors = FieldErrors()
    assert validate_address(_taipei_address(country="UK", phone=None), "a", errors) is None
    assert _fields(errors) == ["a.country"]


def test_two_addresses_collect_errors_into_one_collector() -> None:
    errors = FieldErrors()
    validate_address(_taipei_address(postal_code=None), "shipping_address", errors)
    validate_address(_taipei_address(name=None), "billing_address", errors)
    assert _fields(errors) == ["shipping_address.postal_code", "billing_address.name"]


def test_address_length_limits_are_inclusive() -> None:
    errors = FieldErrors()
    data = _taipei_address(name="名" * 200, line1="路" * 300, line2="樓" * 300)
    assert validate_address(data, "a", errors) is not None
    assert not errors
    validate_address(_taipei_address(name="名" * 201), "a", errors)
    assert [(e.field, e.message) for e in errors.items] == [
        ("a.name", "must be at most 200 characters")
    ]


def test_address_that_is_not_a_mapping_is_reported_on_the_prefix() -> None:
    errors = FieldErrors()
    assert validate_address("信義路", "shipping_address", errors) is None  # type: ignore[arg-type]
    assert _fields(errors) == ["shipping_address"]


def test_address_without_prefix_reports_bare_field_names() -> None:
    errors = FieldErrors()
    validate_address(_taipei_address(city=""), "", errors)
    assert _fields(errors) == ["city"]


def test_address_is_immutable() -> None:
    address = validate_address(_taipei_address(), "a", FieldErrors())
    assert address is not None
    with pytest.raises(FrozenInstanceError):
        address.city = "台北市"  # type: ignore[misc]


def test_an_address_as_a_dict_is_what_asdict_gives_and_a_copy() -> None:
    from dataclasses import asdict

    from dingdan.domain.shared.contact import Address

    a = Address("王小明", "信義路五段7號", None, "台北市", None, "110", "TW", "+886912345678")
    d = a.as_dict()
    assert d == asdict(a) and list(d) == list(asdict(a))
    d["city"] = "高雄市"
    assert a.city == "台北市" and a.as_dict()["city"] == "台北市"


@pytest.mark.parametrize(
    ("typed", "stored_part"),
    [
        ("0912-345-678", "912345678"),  # Taiwan mobile, national form
        ("0912345678", "912345678"),
        (" 0912 345 678 ", "912345678"),
        ("(02) 2345-6789", "223456789"),  # Taipei landline, area code in brackets
        ("+886 912 345 678", "+886912345678"),
        ("00886912345678", "+886912345678"),  # the international prefix
        ("9123 4567", "91234567"),  # Hong Kong: no trunk prefix
        ("138 0013 8000", "13800138000"),  # mainland China mobile
    ],
)
def test_a_phone_typed_into_a_search_becomes_part_of_its_stored_form(
    typed: str, stored_part: str
) -> None:
    assert phone_as_stored(typed) == stored_part


@pytest.mark.parametrize(
    "typed", ["912345", "+8869", "dd0012345", "wang@example.com", "(+886)", "0912-345-678 x2"]
)
def test_what_is_not_a_whole_phone_number_is_searched_as_typed(typed: str) -> None:
    assert phone_as_stored(typed) is None
