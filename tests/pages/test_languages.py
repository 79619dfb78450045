"""Three languages: the contract's Accept-Language rule, the user's remembered choice,
complete catalogs, and dates, numbers and money per locale."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from dingdan.services.access import accounts
from dingdan.web import i18n
from tests.pages.conftest import csrf_of

ROOT = Path(__file__).resolve().parents[2]
PLACEHOLDER = re.compile(r"%\((\w+)\)s")


@pytest.mark.parametrize(
    ("header", "language"),
    [
        ("zh", "zh_Hant"),
        ("zh-TW", "zh_Hant"),
        ("zh-HK", "zh_Hant"),
        ("zh-MO", "zh_Hant"),
        ("zh-Hant", "zh_Hant"),
        ("zh-Hant-HK", "zh_Hant"),
        ("zh-tw", "zh_Hant"),
        ("zh-CN", "zh_Hans"),
        ("zh-SG", "zh_Hans"),
        ("zh-Hans", "zh_Hans"),
        ("zh-Hans-CN", "zh_Hans"),
        ("en-US", "en"),
        ("fr-FR", "en"),
        ("ja", "en"),
        ("", "en"),
        (None, "en"),
        ("fr;q=1, zh-CN;q=0.8", "zh_Hans"),
        ("zh-CN;q=0.5, zh-TW;q=0.9", "zh_Hant"),
        ("en;q=0.9, zh-TW", "zh_Hant"),
        ("zh-TW;q=0", "en"),
        ("garbage;;;q=x,,", "en"),
    ],
)
def test_accept_language_follows_the_contract(header, language):
    assert i18n.from_accept_language(header) == language


@pytest.mark.parametrize(
    ("header", "word", "lang"),
    [
        ("zh-TW", "登入", "zh-Hant"),
        ("zh-HK", "登入", "zh-Hant"),
        ("zh-CN", "登录", "zh-Hans"),
        ("zh-SG", "登录", "zh-Hans"),
        ("en-GB", "Sign in", "en"),
        ("de", "Sign in", "en"),
    ],
)
def test_the_login_page_speaks_the_browsers_language(shop, browser, header, word, lang):
    html = browser().get("/login", headers={"Accept-Language": header}).text
    assert word in html and f'<html lang="{lang}">' in html


def test_the_users_choice_is_remembered_over_the_browsers_language(shop, browser, db):
    b = browser("finance")
    assert "Dashboard" in b.get("/", headers={"Accept-Language": "en"}).text
    assert (
        b.post("/language", {"language": "zh_Hans", "next": "/orders"}).headers["location"]
        == "/orders"
    )
    assert "总览" in b.get("/", headers={"Accept-Language": "en"}).text
    user = next(u for u in accounts.list_users(db) if u["email"] == "finance@example.com")
    assert user["language"] == "zh_Hans"
    again = browser("finance")  # a new browser session: the choice is the user's
    assert "总览" in again.get("/", headers={"Accept-Language": "zh-TW"}).text


def test_a_visitor_may_choose_a_language_before_signing_in(shop, browser):
    b = browser()
    b.csrf = csrf_of(b.get("/login").text)
    b.post("/language", {"language": "zh_Hant", "next": "/login"})
    assert "登入" in b.get("/login", headers={"Accept-Language": "en"}).text


def _catalog(language):
    with i18n.catalog_path(language).open("rb") as f:
        return read_po(f)


@pytest.mark.parametrize("language", ["zh_Hant", "zh_Hans"])
def test_every_message_has_a_translation_with_the_same_placeholders(language):
    catalog = _catalog(language)
    missing = [m.id for m in catalog if m.id and not m.string]
    assert missing == []
    fuzzy = [m.id for m in catalog if m.id and m.fuzzy]
    assert fuzzy == []
    for m in catalog:
        if m.id:
            assert set(PLACEHOLDER.findall(m.id)) == set(PLACEHOLDER.findall(m.string)), m.id


@pytest.mark.parametrize("language", ["zh_Hant", "zh_Hans"])
def test_every_string_of_the_pages_is_in_the_catalogs(language):
    """Extract like `pybabel extract -F babel.cfg`; a string added without a translation
    fails here (run pybabel extract + update, then translate)."""
    with open(ROOT / "babel.cfg") as cfg:
        method_map, options = parse_mapping_cfg(cfg)
    keywords = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None}
    found = {
        msg if isinstance(msg, str) else msg[0]
        for _file, _line, msg, _comments, _ctx in extract_from_dir(
            str(ROOT), method_map, options, keywords=keywords
        )
    }
    known = {m.id for m in _catalog(language) if m.id}
    assert len(found) > 200
    assert sorted(found - known) == []


def test_money_dates_and_numbers_follow_the_locale():
    hant, hans, en = (i18n.Formatter(x) for x in ("zh_Hant", "zh_Hans", "en"))
    # NT$ in every language (zh_Hant_TW's own "$" is ambiguous), without the cents Taiwan
    # does not write, unless an amount has some; HK$ and the yuan with their two decimals.
    assert en.money("1299.00", "TWD") == "NT$1,299"
    assert hant.money("1320.00", "TWD") == "NT$1,320"
    assert hans.money("1320.00", "TWD") == "NT$1,320"
    assert hant.money("1320.50", "TWD") == "NT$1,320.50"  # an exact amount is not rounded
    assert hant.money("-60.00", "TWD") == "-NT$60"
    assert hans.money("1299.00", "CNY") == "¥1,299.00"
    assert hant.money("1299.00", "CNY") == "CN¥1,299.00"
    assert hant.money("1299.00", "HKD") == "HK$1,299.00"
    assert en.money("9.99", "USD") == "$9.99" and hant.money("9.99", "USD") == "US$9.99"
    assert en.number(1234567) == "1,234,567"
    when = "2026-01-31T16:30:00Z"  # 00:30 on 1 February in Taipei
    assert hant.date(when) == "2026年2月1日"
    assert hans.date(when) == "2026年2月1日"
    assert en.date(when) == "Feb 1, 2026"
    assert hant.country("TW") == "台灣" and hans.country("CN") == "中国"
    assert en.country("HK").startswith("Hong Kong")


def test_a_service_error_is_translated(shop, browser):
    fin = browser("finance")
    fin.post("/language", {"language": "zh_Hant", "next": "/"})
    n = shop["order"]["number"]
    r = fin.post(f"/orders/{n}/payments", {"amount": "9999.00"})
    assert r.status_code == 422  # the page again, the message beside the amount
    beside = '<p class="field-error" id="pay-amount-error" role="alert">'
    assert beside + "超過應付餘額（760.00）" in r.text


def test_phones_and_addresses_are_written_as_people_there_write_them():
    assert i18n.phone_text("+886912345678") == "0912 345 678"
    assert i18n.phone_text("+886912345678", "HK") == "+886 912 345 678"  # not theirs
    assert i18n.phone_text("+85291234567", "HK") == "9123 4567"
    assert i18n.phone_text("+886******678") == "+886******678"  # masked: as stored
    taipei = {
        "postal_code": "110",
        "city": "台北市",
        "region": "TW-TPE",
        "line1": "信義區信義路五段7號",
        "line2": "5樓",
        "country": "TW",
    }
    assert i18n.address_lines(taipei) == ["110 台北市信義區信義路五段7號", "5樓"]
    shenzhen = {
        "postal_code": "518000",
        "city": "深圳市",
        "region": "广东省",
        "line1": "南山区科技园路1号",
        "country": "CN",
    }
    assert i18n.address_lines(shenzhen) == ["广东省深圳市南山区科技园路1号", "518000"]
    kowloon = {"city": "香港", "region": "九龍", "line1": "旺角彌敦道700號", "country": "HK"}
    assert i18n.address_lines(kowloon) == ["香港 九龍", "旺角彌敦道700號"]
    boston = {
        "postal_code": "02110",
        "city": "Boston",
        "region": "MA",
        "line1": "1 Main St",
        "country": "US",
    }
    assert i18n.address_lines(boston) == ["1 Main St", "Boston MA 02110"]


def test_the_order_page_and_form_follow_the_countrys_conventions(shop, browser):
    number = shop["order"]["number"]
    b = browser("customer_service")
    b.post("/language", {"language": "zh_Hant", "next": "/"})
    html = b.get(f"/orders/{number}").text
    assert "110 台北市信義路五段7號" in html and "0912 345 678" in html
    assert "NT$760" in html and "NT$760.00" not in html and "$760.00" not in html
    form = b.get(f"/orders/{number}/edit").text
    order = [form.index(f'id="addr-{f}"') for f in ("postal_code", "city", "line1")]
    assert order == sorted(order)  # 郵遞區號、縣市、地址
    assert '<label for="addr-city">縣市</label>' in form
    assert "城市" not in form.split('id="addr-name"')[1]
