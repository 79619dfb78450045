"""Field errors carry stable codes, every code has an English template and both Chinese
translations, and every error type has an HTTP status (one table for the API and the pages)."""

from __future__ import annotations

import ast
import importlib
import pkgutil
import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

import dingdan
from dingdan.domain.shared import contact, error_codes
from dingdan.domain.shared.errors import DomainError, FieldErrors, ValidationFailed
from dingdan.web import i18n
from dingdan.web.api.shared import errors as api_errors
from dingdan.web.error_status import STATUS, status_of

SRC = Path(dingdan.__file__).parent
PLACEHOLDER = re.compile(r"%\((\w+)\)s")
# Calls whose code is their second argument (``errors.add(field, code)``,
# ``ValidationFailed.on(field, code)``, ``FieldError.of(field, code)``) or their first
# (``_bad_file(code)``, ``Breach(code, ...)``).
SECOND = {"add", "on", "of"}
FIRST = {"_bad_file", "Breach"}


def _every_module() -> None:
    for info in pkgutil.walk_packages(dingdan.__path__, "dingdan."):
        if ".migrations" not in info.name:
            importlib.import_module(info.name)


def _subclasses(cls: type) -> set[type]:
    out = set()
    for sub in cls.__subclasses__():
        out |= {sub} | _subclasses(sub)
    return out


def _codes_in_source() -> list[tuple[str, int, str]]:
    found = []
    for path in SRC.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            f = node.func
            name = f.attr if isinstance(f, ast.Attribute) else getattr(f, "id", "")
            index = 1 if name in SECOND else 0 if name in FIRST else None
            if index is None or len(node.args) <= index:
                continue
            arg = node.args[index]
            values = [arg] if isinstance(arg, ast.Constant) else []
            if isinstance(arg, ast.IfExp):
                values = [v for v in (arg.body, arg.orelse) if isinstance(v, ast.Constant)]
            for v in values:
                if isinstance(v.value, str):
                    found.append((str(path.relative_to(SRC)), node.lineno, v.value))
    return found


def test_every_domain_error_type_has_an_http_status():
    _every_module()
    types = {DomainError} | _subclasses(DomainError)
    assert len(types) >= 11
    unmapped = sorted(t.__name__ for t in types if t.code not in STATUS)
    assert unmapped == [], "add these error types' codes to web/error_status.STATUS"


def test_the_contracts_top_level_codes_have_their_statuses():
    expected = {
        "validation_error": 422,
        "unauthorized": 401,
        "forbidden": 403,
        "not_found": 404,
        "conflict": 409,
        "insufficient_stock": 409,
        "invalid_transition": 409,
        "payment_required": 409,
        "idempotency_conflict": 409,
        "method_not_allowed": 405,
        "payload_too_large": 413,
        "service_unavailable": 503,
        "on_hold": 409,
        "provider_unavailable": 503,
    }
    assert {code: STATUS[code][0] for code in expected} == expected


def test_a_validation_error_is_422_for_the_pages_as_for_the_api():
    assert status_of(ValidationFailed.on("sku", "required")) == 422


def test_every_field_error_code_used_in_the_source_has_a_template():
    used = _codes_in_source()
    assert len(used) > 150
    unknown = [
        (path, line, code) for path, line, code in used if code not in error_codes.FIELD_ERRORS
    ]
    assert unknown == []


def test_the_codes_chosen_by_table_have_templates_too():
    tables = [
        *(rule.code for rule in contact._POSTAL_RULES.values()),
        contact._GENERIC_RULE.code,
        *contact._PARSE_CODES.values(),
        *api_errors._PYDANTIC_CODES.values(),
        "invalid",
    ]
    assert [c for c in tables if c not in error_codes.FIELD_ERRORS] == []


def test_codes_are_snake_case_words_and_templates_fill_with_their_parameters():
    for code, template in error_codes.FIELD_ERRORS.items():
        assert re.fullmatch(r"[a-z][a-z0-9_]*", code), code
        params = dict.fromkeys(PLACEHOLDER.findall(template), "1")
        assert "%(" not in error_codes.message(code, params), code


def test_a_field_error_cannot_be_made_with_an_uncoded_message():
    errors = FieldErrors()
    with pytest.raises(KeyError):
        errors.add("sku", "must be fine")
    with pytest.raises(KeyError):
        ValidationFailed.on("sku", "no such thing")


def test_a_field_error_says_its_code_in_english_with_its_parameters():
    exc = ValidationFailed.on("amount", "exceeds_balance", due="760.00")
    (e,) = exc.errors
    assert (e.field, e.code, e.message) == (
        "amount",
        "exceeds_balance",
        "is more than the balance due (760.00)",
    )
    assert e.params == {"due": "760.00"} and exc.detail == e.message


@pytest.mark.parametrize("language", ["zh_Hant", "zh_Hans"])
def test_every_template_has_a_translation_with_the_same_placeholders(language):
    with i18n.catalog_path(language).open("rb") as f:
        catalog = read_po(f)
    missing = []
    for code, template in error_codes.FIELD_ERRORS.items():
        m = catalog.get(template)
        if m is None or not m.string:
            missing.append(code)
        else:
            assert set(PLACEHOLDER.findall(m.string)) == set(PLACEHOLDER.findall(template)), code
    assert missing == []
