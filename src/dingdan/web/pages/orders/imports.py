"""Order import in the back office (manager, admin): upload a CSV or XLSX file, see every row
with its errors, then confirm; the file is imported whole, or with ``skip_bad`` its good
orders only (shared/CONTRACT.md, "Order import and export"). A module named before
``order_pages`` so that /orders/import is not taken for an order number."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from dingdan.domain.access.roles import Action
from dingdan.domain.shared.errors import DomainError, ValidationFailed
from dingdan.services.catalog import import_uploads, imports, order_imports
from dingdan.services.shared import uploads
from dingdan.services.shared.common import Actor
from dingdan.web.error_status import status_of
from dingdan.web.pages.shared import messages
from dingdan.web.pages.shared.core import Form, Page, PageRoute, User, form_text

router = APIRouter(route_class=PageRoute, include_in_schema=False)

PENDING = "order_import"  # session key: the staged file awaiting confirmation
PREVIEW_ROWS = 300  # good rows listed in a preview; rows with errors are always listed


def _require(page: Page) -> Actor:
    """Managers and admins: orders are written and their prices set from the file."""
    page.require(Action.PRICING)
    return page.require(Action.MANAGE_ORDERS)


def _label(page: Page, field: str) -> str:
    if field == "file":
        return str(page.gettext("File"))
    return messages.field_label(page.gettext, field)


def _error(page: Page, exc: DomainError) -> dict[str, Any]:
    d = page.error(exc)
    d["fields"] = [
        (_label(page, e.field), messages.field_message(page.gettext, e)) for e in exc.errors
    ]
    return d


def _size(n: int) -> str:
    mb = 1024 * 1024
    return f"{n // mb} MB" if n >= mb and n % mb == 0 else f"{max(1, n // 1024)} KB"


def _render(page: Page, status: int = 200, **values: Any) -> Response:
    defaults: dict[str, Any] = {
        "error": None,
        "preview": None,
        "token": None,
        "filename": None,
        "historical": False,
        "skip_bad": False,
    }
    return page.render(
        "orders/import.html",
        status=status,
        required=order_imports.ORDER_REQUIRED,
        optional=[c for c in order_imports.ORDER_COLUMNS if c not in order_imports.ORDER_REQUIRED],
        max_size=_size(uploads.max_upload_bytes()),
        max_rows=imports.MAX_UPLOAD_ROWS,
        preview_rows=PREVIEW_ROWS,
        row_error=lambda e: (
            _label(page, e.field),
            e.field,
            messages.coded_message(page.gettext, e.code, e.params, e.text),
        ),
        **{**defaults, **values},
    )


@router.get("/orders/import")
def import_form(page: User) -> Response:
    _require(page)
    return _render(page)


async def _uploaded(request: Request) -> tuple[str, bytes]:
    file = (await request.form()).get("file")
    if not isinstance(file, UploadFile) or not file.filename:
        raise ValidationFailed.on("file", "required")
    return file.filename, await file.read(uploads.max_upload_bytes() + 1)


@router.post("/orders/import")
async def import_preview(request: Request, page: User, form: Form) -> Response:
    """Check the uploaded file and show every row with its errors; nothing is written."""
    _require(page)
    db = request.app.state.db
    historical = form.get("historical") == "1"
    skip_bad = form.get("skip_bad") == "1"
    options = {"historical": historical, "skip_bad": skip_bad}
    try:
        filename, data = await _uploaded(request)
        rows = await run_in_threadpool(imports.read_upload, filename, data)
        preview = await run_in_threadpool(order_imports.preview_orders, db, rows, historical)
    except DomainError as exc:
        return _render(page, status_of(exc), error=_error(page, exc), **options)
    if preview.errors and (not skip_bad or not preview.orders):
        request.session.pop(PENDING, None)
        return _render(page, 422, preview=preview, filename=filename, **options)
    token = await run_in_threadpool(import_uploads.stage_upload, filename, data)
    request.session[PENDING] = {"token": token, "name": filename[:255], **options}
    return _render(page, preview=preview, token=token, filename=filename, **options)


@router.post("/orders/import/confirm")
def import_confirm(request: Request, page: User, form: Form) -> Response:
    """Import the previewed file with the options it was previewed with."""
    actor = _require(page)
    db = request.app.state.db
    pending = request.session.get(PENDING)
    token = form_text(form, "token", 100)
    if not isinstance(pending, dict) or pending.get("token") != token:
        exc = ValidationFailed.on("file", "not_uploaded")
        return _render(page, status_of(exc), error=_error(page, exc))
    name = str(pending.get("name") or "import")
    historical, skip_bad = bool(pending.get("historical")), bool(pending.get("skip_bad"))
    options = {"historical": historical, "skip_bad": skip_bad}
    try:
        rows = import_uploads.staged_rows(token, name)
        result = order_imports.import_orders(
            db,
            actor,
            rows,
            historical=historical,
            skip_bad=skip_bad,
            prefix=request.app.state.settings.order_number_prefix,
            source=name,
        )
    except DomainError as exc:
        return _render(page, status_of(exc), error=_error(page, exc), **options)
    if result.errors and not skip_bad:
        preview = order_imports.preview_orders(db, rows, historical)
        return _render(page, 422, preview=preview, filename=name, **options)
    request.session.pop(PENDING, None)
    import_uploads.discard_staged(token)
    page.flash(
        page.gettext(
            "Imported %(n)s orders from %(file)s (%(existing)s already there, %(refused)s "
            "refused for stock, %(skipped)s bad rows left out).",
            n=result.imported,
            file=name,
            existing=result.existing,
            refused=len(result.refused),
            skipped=result.skipped,
        )
    )
    return page.redirect("/orders")
