"""Reports: the return rate by reason code, by SKU and by carrier, for the orders placed in
a date range."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from dingdan.domain.shared.errors import DomainError, FieldErrors
from dingdan.services.reports import return_rates as reports
from dingdan.web.error_status import status_of
from dingdan.web.pages.after_sales import words
from dingdan.web.pages.shared.core import PageRoute, User

router = APIRouter(route_class=PageRoute, include_in_schema=False)


def _day(text: str, name: str, errors: FieldErrors) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        errors.add(name, "not_a_date")
        return None


@router.get("/reports/returns")
def return_rates(request: Request, page: User) -> Response:
    db = request.app.state.reports_db
    f = {k: (request.query_params.get(k) or "").strip()[:30] for k in ("from", "to")}
    error: dict[str, Any] | None = None
    status = 200
    try:
        errors = FieldErrors()
        start, end = _day(f["from"], "from", errors), _day(f["to"], "to", errors)
        errors.raise_if_any()
        data = reports.return_rates(db, start, end)
    except DomainError as exc:
        error = words.describe(page.gettext, exc, page.language)
        status = status_of(exc)
        data = reports.return_rates(db)
    return page.render("reports/report_returns.html", status=status, data=data, f=f, error=error)
