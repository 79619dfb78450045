"""Background jobs (the outbox): what is waiting, what is dead, and replaying the dead."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request
from starlette.concurrency import run_in_threadpool

from dingdan.domain.access.roles import Action
from dingdan.services.jobs import outbox
from dingdan.services.jobs.shapes import JobView
from dingdan.services.shared.common import Actor
from dingdan.web.api.jobs.schemas import Job, JobPage
from dingdan.web.api.shared.deps import can, db_of
from dingdan.web.api.shared.errors import responses
from dingdan.web.api.shared.params import limit_query

router = APIRouter(prefix="/api/v1", tags=["jobs"])


@router.get("/jobs", response_model=JobPage, responses=responses("forbidden"))
async def list_jobs(
    request: Request,
    status: str | None = Query(None, max_length=20, description="pending or dead"),
    limit: int = limit_query(),
    cursor: str | None = Query(None, max_length=500),
    actor: Actor = can(Action.READ),
) -> dict[str, Any]:
    page = await run_in_threadpool(outbox.list_jobs, db_of(request), status, limit, cursor)
    return page.as_dict()


@router.post(
    "/jobs/{job_id}/replay",
    response_model=Job,
    responses=responses("forbidden", "not_found", "invalid_transition"),
)
async def replay_job(
    request: Request, job_id: str, actor: Actor = can(Action.MANAGE_SETTINGS)
) -> JobView:
    return await run_in_threadpool(outbox.replay, db_of(request), job_id)
