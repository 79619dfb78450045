"""The one reader of numbers typed into forms, and the one checker of free text."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dingdan.domain.shared import money, numbers, text
from dingdan.domain.shared.errors import FieldErrors, ValidationFailed
from dingdan.services.shared.uploads import download_name


def _whole(typed: str | None, **kw):  # type: ignore[no-untyped-def]
    errors = FieldErrors()
    value = numbers.read_whole(typed, "qty", errors, **kw)
    return value, [e.code for e in errors.items]


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("12", (12, [])),
        ("１２", (12, [])),
        (" １２\u3000", (12, [])),
        ("²", (None, ["not_a_whole_number"])),
        ("³", (None, ["not_a_whole_number"])),
        ("١٢", (None, ["not_a_whole_number"])),
        ("inf", (None, ["not_a_whole_number"])),
        ("nan", (None, ["not_a_whole_number"])),
        ("1e3", (None, ["not_a_whole_number"])),
        ("1.5", (None, ["not_a_whole_number"])),
        ("1\x00", (None, ["not_a_whole_number"])),
        ("\u200f12", (None, ["not_a_whole_number"])),
        ("9" * 30, (None, ["too_large"])),
        ("2147483648", (None, ["too_large"])),
        ("-1", (None, ["too_small"])),
        ("", (None, ["required"])),
    ],
)
def test_a_whole_number_is_read_after_width_folding_and_bounded(typed, expected):
    assert _whole(typed) == expected


def test_blank_gives_the_default_when_there_is_one():
    assert _whole("  ", blank=0) == (0, [])


@given(st.text(max_size=30))
def test_any_text_is_a_number_in_bounds_or_an_error_never_an_exception(typed):
    value, codes = _whole(typed)
    assert (value is None) == bool(codes)
    assert value is None or 0 <= value <= numbers.MAX_INT


@pytest.mark.parametrize(
    ("typed", "plain"),
    [
        ("1,320", "1320"),
        ("１，３２０", "1320"),
        ("12,345.50", "12345.50"),
        ("1,234,567", "1234567"),
        (" 1320 ", "1320"),
        ("1,32", "1,32"),
        ("1.320,00", "1.320,00"),
        ("", None),
        (None, None),
    ],
)
def test_amounts_drop_thousands_separators_only_where_they_group_by_three(typed, plain):
    assert numbers.plain_decimal(typed) == plain


def test_full_width_amounts_are_read_and_other_digits_are_not():
    assert money.parse_amount("１２９９.５０", "TWD", "price") == 129950
    with pytest.raises(ValidationFailed):
        money.parse_amount("²", "TWD", "price")
    with pytest.raises(ValidationFailed):
        money.parse_amount("١٢", "TWD", "price")


@pytest.mark.parametrize(
    ("segment", "row"),
    [
        ("17", 17),
        ("１７", 17),
        ("³", -1),
        ("²", -1),
        ("1e3", -1),
        ("-1", -1),
        ("9" * 19, -1),
        ("", -1),
        ("Ⅻ", -1),
    ],
)
def test_an_id_in_a_path_is_a_row_id_or_minus_one(segment, row):
    assert numbers.row_id(segment) == row


def test_amounts_beyond_what_an_order_holds_are_too_large_on_their_field():
    with pytest.raises(ValidationFailed) as caught:
        numbers.check_amounts([("lines[0].quantity", 10**19), ("shipping_price", 0)], "lines")
    assert [(e.field, e.code) for e in caught.value.errors] == [("lines[0].quantity", "too_large")]
    half = numbers.MAX_MINOR // 2 + 1
    with pytest.raises(ValidationFailed) as caught:
        numbers.check_amounts([("a", half), ("b", half)], "lines")
    assert [(e.field, e.code) for e in caught.value.errors] == [("lines", "too_large")]


def _text(value, **kw):  # type: ignore[no-untyped-def]
    errors = FieldErrors()
    kept = text.check_text(value, "name", errors, max_length=20, **kw)
    return kept, [e.code for e in errors.items]


@pytest.mark.parametrize(
    ("value", "codes"),
    [
        ("a\x00b", ["control_characters"]),
        ("\x00", ["control_characters"]),
        ("a\nb", ["control_characters"]),
        ("\u200b\u200b", ["invisible_text"]),
        ("\u202e", ["invisible_text"]),
        ("\u200f\u200e\u2066", ["invisible_text"]),
        ("\ufeff", ["invisible_text"]),
        ("\u0301", ["invisible_text"]),
        ("x" * 21, ["at_most_characters"]),
        (12, ["not_text"]),
    ],
)
def test_text_with_control_characters_or_nothing_visible_is_refused(value, codes):
    assert _text(value) == (None, codes)


def test_text_is_kept_as_sent_and_notes_may_have_lines():
    assert _text(" 凍頂烏龍 ＡＢＣ ") == ("凍頂烏龍 ＡＢＣ", [])
    assert _text("\u202bשלום\u202c") == ("\u202bשלום\u202c", [])
    assert _text("第一行\n第二行", multiline=True) == ("第一行\n第二行", [])
    assert _text(None, required=True) == (None, ["required"])


def test_text_is_compared_after_nfkc_and_case_folding():
    assert text.folded("ＢＯＳＳ@Ｅｘａｍｐｌｅ.com") == text.folded("boss@example.com")


@pytest.mark.parametrize(
    ("cell", "safe"),
    [
        ("=1+2", "'=1+2"),
        (" =1+2", "' =1+2"),
        ("  +SUM(A1)", "'  +SUM(A1)"),
        ("\t1", "'\t1"),
        ("\r1", "'\r1"),
        (" -1", "' -1"),
        ("@A1", "'@A1"),
        ("＝1+2", "'＝1+2"),
        ("茶 = 好", "茶 = 好"),
        (12, 12),
        ("", ""),
    ],
)
def test_csv_cells_that_would_run_as_formulas_are_neutralised(cell, safe):
    assert text.spreadsheet_safe(cell) == safe


@pytest.mark.parametrize(
    ("name", "kind", "served"),
    [
        ("receipt.html", "image/png", "receipt.png"),
        ("破損.PNG", "image/png", "破損.png"),
        ("scan", "application/pdf", "scan.pdf"),
        ("a/b\\\\photo.exe", "image/jpeg", "photo.jpg"),
        (".htaccess", "image/webp", "htaccess.webp"),
        ("...", "image/png", "file.png"),
    ],
)
def test_downloads_are_named_with_the_extension_of_the_detected_type(name, kind, served):
    assert download_name(name, kind) == served


def test_a_tax_rate_reads_full_width_digits_and_no_other_script():
    from dingdan.services.catalog.channels_and_taxes import PPM_PER_PERCENT, parse_rate

    assert parse_rate("５.５") == parse_rate("5.5") == 55 * PPM_PER_PERCENT // 10
    with pytest.raises(ValidationFailed):
        parse_rate("٥")
