"""ECPay's COD payout reports in the back office: upload one (finance, manager, admin), see
what it paid, and the rows that paid nothing (differences)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from dingdan.domain.access.roles import Action
from dingdan.domain.shared.errors import DomainError, ValidationFailed
from dingdan.services.payments import cod_settlement
from dingdan.services.shared import uploads
from dingdan.web.error_status import status_of
from dingdan.web.pages.shared.core import Form, Page, PageRoute, User, form_text

router = APIRouter(route_class=PageRoute, include_in_schema=False)
PATH = "/cod-payouts"


def _page(page: Page, status: int = 200, **values: Any) -> Response:
    listed = cod_settlement.differences(page.request.app.state.db, limit=200)
    return page.render(
        "payments/cod_payouts.html",
        status=status,
        differences=listed["items"],
        columns=cod_settlement.COLUMNS,
        **{"error": None, "result": None, **values},
    )


@router.get(PATH)
def payouts_page(page: User) -> Response:
    page.require(Action.MANAGE_PAYMENTS)
    return _page(page)


@router.post(PATH)
async def import_report(request: Request, page: User, form: Form) -> Response:
    actor = page.require(Action.MANAGE_PAYMENTS)
    db = request.app.state.db
    reference = form_text(form, "reference", 201)
    try:
        file = (await request.form()).get("file")
        if not isinstance(file, UploadFile) or not file.filename:
            raise ValidationFailed.on("file", "required")
        name, data = file.filename, await file.read(uploads.max_upload_bytes() + 1)
        result = await run_in_threadpool(
            cod_settlement.import_report, db, actor, name, data, reference
        )
    except DomainError as exc:
        status, shown = status_of(exc), page.form_error(exc)
        return await run_in_threadpool(lambda: _page(page, status, error=shown))
    return await run_in_threadpool(lambda: _page(page, 200, result=result))
