"""Background jobs for admins and managers: the dead messages of the outbox, and replay;
payment intents the provider answered and Dingdan could not record ("attention"), recorded
again or closed with a note by those who may manage payments."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from dingdan.domain.access.roles import Action
from dingdan.domain.shared.errors import DomainError
from dingdan.services.jobs import outbox
from dingdan.services.payments import intent_review
from dingdan.web.pages.shared.core import Form, Page, PageRoute, User

router = APIRouter(route_class=PageRoute, include_in_schema=False)


@router.get("/jobs")
def jobs_page(request: Request, page: User) -> Response:
    page.require(Action.MANAGE_SETTINGS)
    return _jobs_page(page, request.query_params.get("cursor"))


def _jobs_page(page: Page, cursor: str | None = None, status: int = 200) -> Response:
    db = page.request.app.state.db
    try:
        result = outbox.list_jobs(db, "dead", 50, cursor)
    except DomainError as exc:  # a cursor that is not one: the first page, and why
        page.flash_error(exc)
        result = outbox.list_jobs(db, "dead", 50)
    attention = intent_review.list_intents(db, "attention", 200)
    return page.render(
        "jobs/jobs.html",
        status=status,
        result=result,
        base="/jobs",
        attention=attention.items,
        may_pay=page.may(Action.MANAGE_PAYMENTS),
    )


def _job_action(
    page: Page, work: Callable[[], Any], done: str, form_id: str, form: Any
) -> Response:
    """One button or form of the jobs page (``Page.attempt``)."""
    return page.attempt(
        work,
        done=done,
        back="/jobs",
        form_id=form_id,
        typed={k: v for k, v in form.items() if k != "csrf_token"},
        again=lambda status: _jobs_page(page, status=status),
    )


@router.post("/jobs/{job_id}/replay")
def replay_job(request: Request, job_id: str, page: User, form: Form) -> Response:
    page.require(Action.MANAGE_SETTINGS)
    return _job_action(
        page,
        lambda: outbox.replay(request.app.state.db, job_id),
        page.gettext("Job %(id)s will run again.", id=job_id),
        f"job-{job_id}",
        form,
    )


@router.post("/jobs/intents/{intent_id}/record")
def record_intent(request: Request, intent_id: str, page: User, form: Form) -> Response:
    page.require(Action.MANAGE_PAYMENTS)
    return _job_action(
        page,
        lambda: intent_review.record_again(request.app.state.db, page.actor, intent_id),
        page.gettext("Payment intent %(id)s is recorded.", id=intent_id),
        f"intent-{intent_id}",
        form,
    )


@router.post("/jobs/intents/{intent_id}/close")
def close_intent(request: Request, intent_id: str, page: User, form: Form) -> Response:
    page.require(Action.MANAGE_PAYMENTS)
    note = form.get("note")
    return _job_action(
        page,
        lambda: intent_review.close(request.app.state.db, page.actor, intent_id, {"note": note}),
        page.gettext("Payment intent %(id)s is closed.", id=intent_id),
        f"intent-{intent_id}",
        form,
    )
