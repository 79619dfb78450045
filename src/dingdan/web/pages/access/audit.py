"""The audit trail, for admins and managers: who changed or viewed what, with filters."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response

from dingdan.domain.access.roles import Action
from dingdan.domain.shared.errors import DomainError, FieldErrors, ValidationFailed
from dingdan.services.access import audit_log
from dingdan.web.i18n import TIMEZONE
from dingdan.web.pages.shared.core import Page, PageRoute, User

router = APIRouter(route_class=PageRoute, include_in_schema=False)
FIELDS = ("actor", "action", "entity_type", "entity_id", "date_from", "date_to")


def _day(value: str | None, plus: int = 0) -> datetime | None:
    try:
        d = date.fromisoformat(value or "")
    except ValueError:
        return None
    return datetime.combine(d + timedelta(days=plus), time(), tzinfo=TIMEZONE)


@router.get("/audit")
def audit_page(request: Request, page: User) -> Response:
    page.require(Action.VIEW_AUDIT)
    db = request.app.state.db
    f = {k: (request.query_params.get(k) or "").strip()[:100] for k in FIELDS}
    kwargs: dict[str, Any] = {
        "actor": f["actor"] or None,
        "action": f["action"] or None,
        "entity_type": f["entity_type"] or None,
        "entity_id": f["entity_id"] or None,
        "created_from": _day(f["date_from"]),
        "created_to": _day(f["date_to"], plus=1),
    }
    try:
        result = audit_log.list_entries(
            db, **kwargs, limit=50, cursor=request.query_params.get("cursor")
        )
    except DomainError as exc:
        page.flash_error(exc)
        result = audit_log.list_entries(db, **kwargs, limit=50)
    base = "/audit?" + urlencode({k: v for k, v in f.items() if v})
    status = _keep_bad_dates(page, f)
    return page.render(
        "access/audit.html",
        status=status,
        result=result,
        f=f,
        choices=audit_log.choices(db),
        base=base,
    )


def _keep_bad_dates(page: Page, f: dict[str, str]) -> int:
    """A date filter that is no date is said beside it (the list is shown without it)."""
    errors = FieldErrors()
    for name in ("date_from", "date_to"):
        if f[name] and _day(f[name]) is None:
            errors.add(name, "not_a_date")
    try:
        errors.raise_if_any()
    except ValidationFailed as exc:
        page.keep("audit-filters", exc, f)
        return 422
    return 200
