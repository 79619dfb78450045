"""Carrier tracking events in the back office: upload a file of them (warehouse, manager,
admin), see what it did (applied, duplicates, unmatched, bad rows by row number and
column), and the latest events received, the unmatched ones first to hand."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from dingdan.domain.access.roles import Action
from dingdan.domain.shared.errors import DomainError, ValidationFailed
from dingdan.services.fulfilment import tracking_imports, tracking_queries
from dingdan.services.shared import uploads
from dingdan.web.error_status import status_of
from dingdan.web.pages.shared import messages
from dingdan.web.pages.shared.core import Form, Page, PageRoute, User

router = APIRouter(route_class=PageRoute, include_in_schema=False)
PATH = "/warehouse/tracking"


def _page(page: Page, status: int = 200, **values: Any) -> Response:
    db = page.request.app.state.db
    unmatched = page.request.query_params.get("unmatched") == "1"
    listed = tracking_queries.list_events(db, unmatched=True if unmatched else None, limit=100)
    return page.render(
        "fulfilment/tracking_events.html",
        status=status,
        events=listed["items"],
        unmatched=unmatched,
        required=tracking_imports.COLUMNS_REQUIRED,
        optional=[
            c for c in tracking_imports.COLUMNS if c not in tracking_imports.COLUMNS_REQUIRED
        ],
        row_error=lambda e: (
            messages.field_label(page.gettext, e.field),
            e.field,
            messages.coded_message(page.gettext, e.code, e.params, e.text),
        ),
        **{"error": None, "result": None, "filename": None, "refused": False, **values},
    )


@router.get(PATH)
def tracking_page(page: User) -> Response:
    page.require(Action.READ)
    return _page(page)


@router.post(PATH + "/import")
async def import_file(request: Request, page: User, form: Form) -> Response:
    actor = page.require(Action.FULFIL)
    db = request.app.state.db
    skip_bad = form.get("skip_bad") == "1"
    try:
        file = (await request.form()).get("file")
        if not isinstance(file, UploadFile) or not file.filename:
            raise ValidationFailed.on("file", "required")
        name, data = file.filename, await file.read(uploads.max_upload_bytes() + 1)
        result = await run_in_threadpool(
            lambda: tracking_imports.import_file(db, actor, name, data, skip_bad=skip_bad)
        )
    except DomainError as exc:
        status, shown = status_of(exc), page.form_error(exc)
        return await run_in_threadpool(lambda: _page(page, status, error=shown))
    refused = bool(result.errors) and not skip_bad
    return await run_in_threadpool(
        lambda: _page(page, 422 if refused else 200, result=result, filename=name, refused=refused)
    )
