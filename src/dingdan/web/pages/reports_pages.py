"""Reports: the return rate by reason code, by SKU and by carrier."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from dingdan.services import reports
from dingdan.web.pages.core import PageRoute, User

router = APIRouter(route_class=PageRoute, include_in_schema=False)


@router.get("/reports/returns")
def return_rates(request: Request, page: User) -> Response:
    return page.render("report_returns.html", data=reports.return_rates(request.app.state.db))
