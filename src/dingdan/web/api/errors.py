"""One table from domain error codes to HTTP, and problem+json (RFC 9457) for every error."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from pydantic_core import to_json
from starlette.exceptions import HTTPException as StarletteHTTPException

from dingdan.domain.errors import DomainError

log = logging.getLogger("dingdan.web")

STATUS: dict[str, tuple[int, str]] = {
    "validation_error": (422, "Invalid request"),
    "unauthorized": (401, "Unauthorized"),
    "forbidden": (403, "Forbidden"),
    "not_found": (404, "Not found"),
    "conflict": (409, "Conflict"),
    "insufficient_stock": (409, "Insufficient stock"),
    "invalid_transition": (409, "Invalid transition"),
    "payment_required": (409, "Payment required"),
    "idempotency_conflict": (409, "Idempotency conflict"),
    "method_not_allowed": (405, "Method not allowed"),
    "payload_too_large": (413, "Payload too large"),
    "service_unavailable": (503, "Service unavailable"),
    "provider_unavailable": (503, "Provider unavailable"),
    "internal_error": (500, "Internal error"),
}
_BY_STATUS = {status: code for code, (status, _) in STATUS.items()}


class FieldProblem(BaseModel):
    field: str
    message: str


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
    errors: list[dict[str, str]] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    status, title = STATUS[code]
    body = {
        "type": f"https://dingdan.dev/problems/{code.replace('_', '-')}",
        "title": title,
        "status": status,
        "detail": detail,
        "code": code,
        "errors": errors or [],
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


def _validation_errors(exc: RequestValidationError) -> list[dict[str, str]]:
    items = []
    for err in exc.errors():
        loc = list(err.get("loc", ()))
        kind = err.get("type", "")
        if kind == "extra_forbidden":
            message = "is not a field of this request"
        elif kind == "json_invalid":
            loc, message = ["body"], f"is not valid JSON: {err.get('ctx', {}).get('error', '')}"
        elif kind == "missing":
            message = "is required"
        else:
            message = str(err.get("msg", "is invalid"))
        items.append({"field": field_path(loc), "message": message})
    return items


def domain_problem(exc: DomainError) -> JSONResponse:
    """The answer to a broken business rule (also sent by the order-capture fast path)."""
    code = exc.code if exc.code in STATUS else "conflict"
    errors = [{"field": e.field, "message": e.message} for e in exc.errors]
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
        detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors[:5])
        return problem("validation_error", detail or "The request is invalid.", errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 400:  # e.g. a body that is not UTF-8: bad input like any other
            return problem(
                "validation_error",
                "The request body could not be read.",
                [{"field": "body", "message": str(exc.detail)}],
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
