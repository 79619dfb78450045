"""Mainland China fapiao requests: a company's USCC checked with its check character (the
shared vectors), a person without a tax ID, an email to send it to, CN orders only."""

from __future__ import annotations

import json
from typing import Any

import pytest

from dingdan.domain.invoicing.fapiao import FapiaoRequest, check_fapiao_request
from dingdan.domain.shared.errors import FieldErrors
from tests.helpers import shared_data_param, shared_external

VECTORS = shared_external() / "tw_cn_ids/cn_uscc_vectors.json"


def _uscc(valid: bool) -> list[Any]:
    if not VECTORS.is_file():
        return [shared_data_param(f"test vectors not found at {VECTORS}", id="vectors-missing")]
    data = json.loads(VECTORS.read_text(encoding="utf-8"))
    keys = ("valid_",) if valid else ("invalid_checksum", "invalid_format")
    return [
        pytest.param(code, id=f"{key}-{code}")
        for key, codes in data.items()
        if key.startswith(keys) and isinstance(codes, list)
        for code in codes
    ]


def _check(value: Any, country: str | None = "CN") -> tuple[FapiaoRequest | None, list[tuple]]:
    errors = FieldErrors()
    got = check_fapiao_request(value, "fapiao", errors, country=country)
    return got, [(e.field, e.code) for e in errors.items]


@pytest.mark.parametrize("code", _uscc(valid=True))
def test_a_company_request_with_a_valid_uscc_is_kept(code):
    got, errors = _check({"title": "某某科技有限公司", "tax_id": code, "email": "ap@example.cn"})
    assert errors == []
    assert got == FapiaoRequest("company", "某某科技有限公司", code, "ap@example.cn")
    assert got.export_row()["buyer_type"] == "企业"


@pytest.mark.parametrize("code", _uscc(valid=False))
def test_a_uscc_with_a_wrong_check_character_or_format_is_refused(code):
    got, errors = _check({"title": "某某科技有限公司", "tax_id": code, "email": "ap@example.cn"})
    assert got is None and errors == [("fapiao.tax_id", "invalid_uscc")]


def test_a_uscc_is_read_in_full_width_and_with_spaces():
    got, errors = _check(
        {"title": "公司", "tax_id": "９１１１ 0000 600037341l", "email": "a@example.cn"}
    )
    assert errors == [] and got and got.tax_id == "91110000600037341L"


def test_a_personal_request_has_no_tax_id():
    got, errors = _check({"buyer_type": "personal", "title": "张三", "email": "zs@example.cn"})
    assert errors == [] and got and got.tax_id is None and got.buyer_type == "personal"
    _, errors = _check(
        {
            "buyer_type": "personal",
            "title": "张三",
            "tax_id": "91110000600037341L",
            "email": "zs@example.cn",
        }
    )
    assert errors == [("fapiao.tax_id", "not_a_field")]


def test_every_bad_field_is_reported_at_once():
    _, errors = _check({"buyer_type": "company", "title": " ", "email": "nope", "extra": 1})
    assert sorted(errors) == [
        ("fapiao.email", "invalid_email"),
        ("fapiao.extra", "not_a_field"),
        ("fapiao.tax_id", "required"),
        ("fapiao.title", "required"),
    ]
    _, errors = _check({"buyer_type": "government", "title": "x", "email": "a@example.cn"})
    assert errors == [("fapiao.buyer_type", "not_one_of")]
    _, errors = _check("公司")
    assert errors == [("fapiao", "not_an_object")]
    _, errors = _check({"title": "x" * 101, "email": "a@example.cn"})
    assert errors == [("fapiao.title", "at_most_characters")]


@pytest.mark.parametrize("country", ["HK", "TW", None])
def test_only_orders_shipped_to_mainland_china_carry_a_fapiao(country):
    value = {"title": "公司", "tax_id": "91110000600037341L", "email": "a@example.cn"}
    got, errors = _check(value, country=country)
    assert got is None and errors == [("fapiao", "not_a_field")]
    assert _check(None, country=country) == (None, [])
