"""Background jobs for admins and managers: the dead messages of the outbox, and replay;
payment intents the provider answered and Dingdan could not record ("attention"), recorded
again or closed with a note by those who may manage payments."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from dingdan.domain.access.roles import Action
from dingdan.domain.shared.errors import DomainError
from dingdan.services.jobs import outbox
from dingdan.services.payments import intent_review
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
    attention = intent_review.list_intents(db, "attention", 200)
    return page.render(
        "jobs/jobs.html",
        result=result,
        base="/jobs",
        attention=attention.items,
        may_pay=page.may(Action.MANAGE_PAYMENTS),
    )


@router.post("/jobs/{job_id}/replay")
def replay_job(request: Request, job_id: str, page: User, form: Form) -> Response:
    page.require(Action.MANAGE_SETTINGS)
    try:
        outbox.replay(request.app.state.db, job_id)
        page.flash(page.gettext("Job %(id)s will run again.", id=job_id))
    except DomainError as exc:
        page.flash_error(exc)
    return page.redirect("/jobs")


@router.post("/jobs/intents/{intent_id}/record")
def record_intent(request: Request, intent_id: str, page: User, form: Form) -> Response:
    page.require(Action.MANAGE_PAYMENTS)
    try:
        intent_review.record_again(request.app.state.db, page.actor, intent_id)
        page.flash(page.gettext("Payment intent %(id)s is recorded.", id=intent_id))
    except DomainError as exc:
        page.flash_error(exc)
    return page.redirect("/jobs")


@router.post("/jobs/intents/{intent_id}/close")
def close_intent(request: Request, intent_id: str, page: User, form: Form) -> Response:
    page.require(Action.MANAGE_PAYMENTS)
    try:
        intent_review.close(request.app.state.db, page.actor, intent_id, {"note": form.get("note")})
        page.flash(page.gettext("Payment intent %(id)s is closed.", id=intent_id))
    except DomainError as exc:
        page.flash_error(exc)
    return page.redirect("/jobs")
