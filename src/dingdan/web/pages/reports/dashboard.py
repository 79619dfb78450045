"""The dashboard at ``/``: the day at a glance."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from dingdan.services.reports import dashboard
from dingdan.web.pages.shared.core import PageRoute, User

router = APIRouter(route_class=PageRoute, include_in_schema=False)


@router.get("/")
def home(request: Request, page: User) -> Response:
    data = dashboard.summary(request.app.state.db)
    most = max(data["counts"].values()) or 1
    return page.render("reports/dashboard.html", d=data, stages=dashboard.STAGES, most=most)
