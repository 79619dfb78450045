"""One table from domain error codes to HTTP, and problem+json (RFC 9457) for every error."""

from __future__ import annotations

import logging
import re
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from pydantic_core import to_json
from starlette.exceptions import HTTPException as StarletteHTTPException

from dingdan.domain.shared import money
from dingdan.domain.shared.errors import DomainError, FieldError
from dingdan.web.error_status import STATUS, code_of

log = logging.getLogger("dingdan.web")

# The first code of each status names the status (409 is a conflict, 503 the database).
_BY_STATUS: dict[int, str] = {}
for _code, (_status, _) in STATUS.items():
    _BY_STATUS.setdefault(_status, _code)


class FieldProblem(BaseModel):
    """One bad field: ``code`` is stable (shared/CONTRACT.md, "Errors carry codes per field"),
    ``message`` says it in English."""

    field: str = Field(description="JSON path of the field, such as lines[1].quantity")
    code: str = Field(
        description="stable snake_case code: required, too_large, not_a_number, unknown_sku, ..."
    )
    message: str = Field(description="the code said in English, with its values")


class Problem(BaseModel):
    """An error, as application/problem+json."""

    type: str
    title: str
    status: int
    detail: str
    code: str
    errors: list[FieldProblem] = []


class JSONAnswer(JSONResponse):
    """An answer that is plain JSON already (an order, a page of orders): encoded by
    pydantic-core, compact UTF-8 as Starlette's, a quarter of the standard library's time."""

    def render(self, content: Any) -> bytes:
        return to_json(content)


def problem(
    code: str,
    detail: str,
    errors: list[FieldError] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    status, title = STATUS[code]
    body = {
        "type": f"https://dingdan.dev/problems/{code.replace('_', '-')}",
        "title": title,
        "status": status,
        "detail": detail,
        "code": code,
        "errors": [{"field": e.field, "code": e.code, "message": e.message} for e in errors or ()],
    }
    return JSONResponse(
        body, status_code=status, media_type="application/problem+json", headers=headers
    )


def field_path(loc: tuple[Any, ...] | list[Any]) -> str:
    """``("body", "lines", 1, "quantity")`` → ``lines[1].quantity``."""
    parts = list(loc)
    if parts and parts[0] in ("body", "query", "path", "header"):
        parts = parts[1:]
    out = ""
    for p in parts:
        if isinstance(p, int):
            out += f"[{p}]"
        else:
            out += f".{p}" if out else str(p)
    return out or "body"


# pydantic's error types, by the field-error code they are answered with.
_PYDANTIC_CODES: dict[str, str] = {
    "missing": "required",
    "extra_forbidden": "not_a_field",
    "json_invalid": "invalid_json",
    "int_type": "not_a_whole_number",
    "int_parsing": "not_a_whole_number",
    "int_from_float": "not_a_whole_number",
    "float_type": "not_a_number",
    "float_parsing": "not_a_number",
    "decimal_type": "not_a_number",
    "decimal_parsing": "not_a_number",
    "string_type": "not_text",
    "bool_type": "not_a_boolean",
    "bool_parsing": "not_a_boolean",
    "string_too_long": "too_long",
    "string_too_short": "too_short",
    "too_long": "too_many_items",
    "too_short": "too_few_items",
    "greater_than_equal": "too_small",
    "greater_than": "not_greater_than",
    "less_than_equal": "too_large",  # the bounds of numbers are the database's
    "less_than": "too_large",
    "literal_error": "not_one_of",
    "enum": "not_one_of",
    "dict_type": "not_an_object",
    "model_type": "not_an_object",
    "model_attributes_type": "not_an_object",
    "list_type": "not_a_list",
}
# A string that is some kind of number (money, a rate) though not the one the pattern wants.
_DECIMALISH = re.compile(r"^\s*-?[0-9.]+(?:[eE][+-]?[0-9]+)?\s*$")
# The parameters of those codes, from pydantic's ``ctx``.
_PYDANTIC_PARAMS: dict[str, tuple[tuple[str, str], ...]] = {
    "invalid_json": (("reason", "error"),),
    "too_long": (("max", "max_length"),),
    "too_short": (("min", "min_length"),),
    "too_many_items": (("max", "max_length"),),
    "too_few_items": (("min", "min_length"),),
    "too_small": (("min", "ge"),),
    "not_greater_than": (("min", "gt"),),
    "not_one_of": (("choices", "expected"),),
}


def _validation_error(err: Any) -> FieldError:
    """One error of pydantic as a coded field error (``invalid`` with pydantic's words for
    a type of error not listed)."""
    loc = list(err.get("loc", ()))
    ctx = err.get("ctx") or {}
    kind = str(err.get("type", ""))
    code = _PYDANTIC_CODES.get(kind, "invalid")
    if kind == "string_pattern_mismatch" and _DECIMALISH.match(str(err.get("input", ""))):
        code = "too_large" if money.is_too_large(err.get("input")) else "not_a_number"
    if code == "invalid_json":
        loc = ["body"]
    if code == "invalid":
        params = {"reason": str(err.get("msg", "")).rstrip(".")}
    else:
        params = {name: ctx.get(key, "") for name, key in _PYDANTIC_PARAMS.get(code, ())}
    return FieldError.of(field_path(loc), code, **params)


def _validation_errors(exc: RequestValidationError) -> list[FieldError]:
    return [_validation_error(err) for err in exc.errors()]


def domain_problem(exc: DomainError) -> JSONResponse:
    """The answer to a broken business rule (also sent by the order-capture fast path)."""
    code = code_of(exc)
    errors = exc.errors
    headers = {"WWW-Authenticate": "Bearer"} if code == "unauthorized" else None
    if code in ("service_unavailable", "provider_unavailable"):
        headers = {"Retry-After": "5"}
    return problem(code, exc.detail, errors, headers)


def install(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def _domain(_: Request, exc: DomainError) -> JSONResponse:
        return domain_problem(exc)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = _validation_errors(exc)
        detail = "; ".join(f"{e.field}: {e.message}" for e in errors[:5])
        return problem("validation_error", detail or "The request is invalid.", errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 400:  # e.g. a body that is not UTF-8: bad input like any other
            return problem(
                "validation_error",
                "The request body could not be read.",
                [FieldError.of("body", "unreadable_body", reason=exc.detail)],
            )
        code = _BY_STATUS.get(
            exc.status_code, "not_found" if exc.status_code < 500 else "internal_error"
        )
        detail = exc.detail if isinstance(exc.detail, str) else STATUS[code][1]
        if exc.status_code == 404 and detail == "Not Found":
            detail = "There is nothing at this address."
        return problem(code, detail)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return problem("internal_error", "An unexpected error occurred; it has been logged.")


def responses(*codes: str) -> dict[int | str, dict[str, Any]]:
    """OpenAPI descriptions of the error responses a route can give."""
    always = ("unauthorized", "validation_error", "service_unavailable", "payload_too_large")
    out: dict[int | str, dict[str, Any]] = {}
    for code in (*always, *codes):
        status, title = STATUS[code]
        out[status] = {
            "model": Problem,
            "description": title,
            "content": {"application/problem+json": {}},
        }
    return out
