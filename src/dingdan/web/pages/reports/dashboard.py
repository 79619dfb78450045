"""The dashboard at ``/``: the day at a glance, each role's own work first; and the list
of orders behind each stage's count."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from dingdan.domain.access.roles import Action, Role
from dingdan.services.payments import refund_due
from dingdan.services.reports import dashboard
from dingdan.web.pages.shared.core import PageRoute, User

router = APIRouter(route_class=PageRoute, include_in_schema=False)

# Where each stage's work is done, for the role that owns it.
WORK_PAGES = {"picking": "/warehouse", "packing": "/warehouse", "shipping": "/warehouse"}


@router.get("/")
def home(request: Request, page: User) -> Response:
    data = dashboard.summary(request.app.state.db)
    most = max(data["counts"].values()) or 1
    role = page.actor.role
    # A role's own stages (as the settings name their owners) come first; the admin and
    # the manager own the whole day and see it as it is.
    mine = (
        []
        if role in (Role.ADMIN, Role.MANAGER)
        else [s for s in dashboard.STAGES if data["limits"][s]["owner"] == role.value]
    )
    # Returns waiting on this role: customer service reviews requests, the warehouse
    # receives approved ones.
    own_returns = (
        []
        if role in (Role.ADMIN, Role.MANAGER)
        else [
            status
            for status, action in (
                ("requested", Action.MANAGE_RETURNS),
                ("approved", Action.RECEIVE_RETURNS),
            )
            if page.may(action)
        ]
    )
    # The finance queue of money owed back, for those who may refund it.
    refunds = refund_due.queue(request.app.state.db) if page.may(Action.MANAGE_PAYMENTS) else None
    return page.render(
        "reports/dashboard.html",
        own_returns=own_returns,
        d=data,
        stages=dashboard.STAGES,
        most=most,
        mine=mine,
        work_page=next((WORK_PAGES[s] for s in mine if s in WORK_PAGES), None),
        show_money=page.may(Action.MANAGE_PAYMENTS),
        refunds=refunds,
    )


@router.get("/stages/{stage}")
def stage_list(request: Request, stage: str, page: User) -> Response:
    data = dashboard.stage_orders(request.app.state.db, stage)
    return page.render("reports/stage.html", s=data, work_page=WORK_PAGES.get(stage))
