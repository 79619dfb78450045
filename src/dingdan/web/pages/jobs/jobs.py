"""Background jobs for admins and managers: the dead messages of the outbox, and replay."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from dingdan.domain.access.roles import Action
from dingdan.domain.shared.errors import DomainError
from dingdan.services.jobs import outbox
from dingdan.web.pages.shared.core import Form, PageRoute, User

router = APIRouter(route_class=PageRoute, include_in_schema=False)


@router.get("/jobs")
def jobs_page(request: Request, page: User) -> Response:
    page.require(Action.MANAGE_SETTINGS)
    db = request.app.state.db
    try:
        result = outbox.list_jobs(db, "dead", 50, request.query_params.get("cursor"))
    except DomainError as exc:
        page.flash_error(exc)
        result = outbox.list_jobs(db, "dead", 50)
    return page.render("jobs/jobs.html", result=result, base="/jobs")


@router.post("/jobs/{job_id}/replay")
def replay_job(request: Request, job_id: str, page: User, form: Form) -> Response:
    page.require(Action.MANAGE_SETTINGS)
    try:
        outbox.replay(request.app.state.db, job_id)
        page.flash(page.gettext("Job %(id)s will run again.", id=job_id))
    except DomainError as exc:
        page.flash_error(exc)
    return page.redirect("/jobs")
