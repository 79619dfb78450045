"""The dashboard at ``/``: the day at a glance."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from dingdan.domain.access.roles import Action
from dingdan.services.payments import refund_due
from dingdan.services.reports import dashboard
from dingdan.web.pages.shared.core import PageRoute, User

router = APIRouter(route_class=PageRoute, include_in_schema=False)


@router.get("/")
def home(request: Request, page: User) -> Response:
    data = dashboard.summary(request.app.state.db)
    most = max(data["counts"].values()) or 1
    # The finance queue of money owed back, for those who may refund it.
    refunds = refund_due.queue(request.app.state.db) if page.may(Action.MANAGE_PAYMENTS) else None
    return page.render(
        "reports/dashboard.html", d=data, stages=dashboard.STAGES, most=most, refunds=refunds
    )
