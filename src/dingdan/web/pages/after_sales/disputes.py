"""Disputes: the queue (soonest due first, overdue marked), opening one on an order, and the
dispute page with its messages, evidence files, history and each step: investigate,
resolve (refund, reshipment or reject) and close."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from dingdan.domain.access.roles import Action
from dingdan.domain.after_sales.returns import DisputeStatus, DisputeType, Resolution
from dingdan.domain.shared.errors import (
    DomainError,
    FieldErrors,
    NotFound,
    ValidationFailed,
)
from dingdan.services.after_sales import dispute_evidence, dispute_queries, disputes
from dingdan.services.after_sales.shapes import (
    DisputeAssignment,
    DisputeMessageIn,
    DisputeRequest,
    DisputeTransitionRequest,
    SkuQuantity,
)
from dingdan.services.orders import queries
from dingdan.web.i18n import TIMEZONE
from dingdan.web.pages.after_sales import words
from dingdan.web.pages.after_sales.returns import _list, _whole
from dingdan.web.pages.shared.core import (
    Form,
    Page,
    PageRoute,
    User,
    form_text,
    line_fields,
    posted,
)
from dingdan.web.pages.shared.fields import form_amount

router = APIRouter(route_class=PageRoute, include_in_schema=False)
STATUSES = [s.value for s in DisputeStatus]
TYPES = [t.value for t in DisputeType]
DIRECTIONS = ["inbound", "outbound", "note"]
UNSETTLED = (DisputeStatus.OPEN.value, DisputeStatus.INVESTIGATING.value)


def _words(page: Page) -> dict[str, Any]:
    """Template helpers that know the disputes' codes."""
    return {"label": lambda v: words.label(page.gettext, v)}


def _error(page: Page, exc: DomainError) -> dict[str, Any]:
    return words.describe(page.gettext, exc, page.language)


def _choice(value: str | None, allowed: list[str]) -> str | None:
    return value if value in allowed else None


@router.get("/disputes")
def dispute_list(request: Request, page: User) -> Response:
    q = request.query_params
    f: dict[str, Any] = {
        "status": _choice(q.get("status"), STATUSES),
        "type": _choice(q.get("type"), TYPES),
        "owner": (q.get("owner") or "").strip()[:200] or None,
        "overdue": q.get("overdue") == "1",
    }
    db = request.app.state.db
    try:
        result = dispute_queries.dispute_queue(db, **f, limit=50, cursor=q.get("cursor") or None)
    except DomainError as exc:
        page.flash(_error(page, exc)["message"], "error")
        result = dispute_queries.dispute_queue(db, **f, limit=50)
    shown = {k: ("1" if v is True else v) for k, v in f.items() if v}
    base = "/disputes" + ("?" + urlencode(shown) if shown else "")
    mine = page.user["email"] if page.user else ""
    return page.render(
        "after_sales/disputes.html",
        disputes=result,
        f=f,
        statuses=STATUSES,
        types=TYPES,
        base=base,
        mine=mine,
        **_words(page),
    )


@router.get("/disputes/new")
def dispute_new_for(request: Request, page: User) -> Response:
    """The queue's "open a dispute": which order, then that order's form."""
    page.require(Action.MANAGE_RETURNS)
    number = (request.query_params.get("order") or "").strip()[:40]
    try:
        if not number:
            raise ValidationFailed.on("order", "required")
        queries.get_order(request.app.state.db, number)
    except NotFound:
        exc = ValidationFailed.on("order", "unknown_order", number=number)
        return _new_page(page, None, {"order": number}, 422, _error(page, exc))
    except ValidationFailed as exc:
        status = 422 if "order" in request.query_params else 200
        return _new_page(page, None, {}, status, _error(page, exc) if status == 422 else None)
    return page.redirect(f"/orders/{quote(number, safe='')}/disputes/new")


def _new_page(
    page: Page,
    order: Mapping[str, Any] | None,
    v: Mapping[str, Any],
    status: int,
    error: Any = None,
) -> Response:
    due = (datetime.now(TIMEZONE).date() + timedelta(days=disputes.DEFAULT_DUE_DAYS)).isoformat()
    kept = page.kept("dispute")
    values = {"owner": page.user["email"] if page.user else "", "due_date": due, **v}
    values.update(kept.values)
    error = kept.error or error
    return page.render(
        "after_sales/dispute_new.html",
        status=status,
        order=order,
        v=values,
        types=TYPES,
        error=error,
        **_words(page),
    )


@router.get("/orders/{number}/disputes/new")
def dispute_form(request: Request, number: str, page: User) -> Response:
    page.require(Action.MANAGE_RETURNS)
    order = queries.get_order(request.app.state.db, number)
    return _new_page(page, order, {}, 200)


@router.post("/orders/{number}/disputes/new")
def open_dispute(request: Request, number: str, page: User, form: Form) -> Response:
    page.require(Action.MANAGE_RETURNS)
    db = request.app.state.db
    order = queries.get_order(db, number)
    # A blank field is None: the service takes it as left out (the actor owns it, due in
    # a week, no summary).
    body: DisputeRequest = {
        "type": form_text(form, "type", 20),
        "owner": form_text(form, "owner", 300),
        "due_date": form_text(form, "due_date", 30),
        "summary": form_text(form, "summary", 1100),
    }
    page.describe_with = lambda exc: _error(page, exc)
    return page.attempt(
        lambda: disputes.open_dispute(db, page.actor, number, body),
        done=lambda done: page.gettext("Dispute %(id)s opened.", id=done["id"]),
        back=f"/orders/{quote(number, safe='')}/disputes/new",
        then=lambda done: f"/disputes/{done['id']}",
        form_id="dispute",
        typed={k: v or "" for k, v in body.items()},
        again=lambda status: _new_page(page, order, {}, status),
        whole_form=True,
    )


def _detail(
    request: Request, page: Page, dispute_id: str, status: int = 200, **extra: Any
) -> Response:
    db = request.app.state.db
    d = disputes.get_dispute(db, dispute_id)
    order = queries.get_order(db, d["order"])
    history = [
        e
        for e in queries.events(db, d["order"])["items"]
        if (e.get("data") or {}).get("dispute_id") == d["id"]
    ]
    failed = extra.get("failed")
    kept = page.kept(failed) if failed else None
    values = {"v": kept.values if kept else {}, "error": kept.error if kept else None, **extra}
    values.setdefault("failed", None)
    return page.render(
        "after_sales/dispute.html",
        status=status,
        d=d,
        order=order,
        history=history,
        directions=DIRECTIONS,
        unsettled=d["status"] in UNSETTLED,
        **values,
        **_words(page),
    )


@router.get("/disputes/{dispute_id}")
def dispute_detail(request: Request, dispute_id: str, page: User) -> Response:
    return _detail(request, page, dispute_id)


def _step(
    request: Request,
    page: Page,
    dispute_id: str,
    which: str,
    form: dict[str, Any],
    work: Callable[[], Any],
    done: str,
    rename: Callable[[str], str] | None = None,
) -> Response:
    """One step on the dispute page (``Page.attempt``): done → back to the page with a
    message; refused → the page again with the message beside the field (or at the top of
    the form), and the values typed kept."""
    page.require(Action.MANAGE_RETURNS)
    page.describe_with = lambda exc: _error(page, exc)
    if which == "resolve":  # three forms post here: the one refused is named by its resolution
        which = f"resolve-{form_text(form, 'resolution', 20) or ''}"
    return page.attempt(
        work,
        done=done,
        back=f"/disputes/{quote(dispute_id, safe='')}",
        form_id=which,
        typed={k: val for k, val in form.items() if k != "csrf_token"},
        again=lambda status: _detail(request, page, dispute_id, status, failed=which),
        rename=rename,
        whole_form=True,
    )


@router.post("/disputes/{dispute_id}/assign")
def reassign(request: Request, dispute_id: str, page: User, form: Form) -> Response:
    body: DisputeAssignment = {
        "owner": form_text(form, "owner", 201),
        "due_date": form_text(form, "due_date", 11),
    }
    return _step(
        request,
        page,
        dispute_id,
        "assign",
        form,
        lambda: disputes.reassign(request.app.state.db, page.actor, dispute_id, body),
        page.gettext("The owner and due date are saved."),
    )


@router.post("/disputes/{dispute_id}/messages")
def add_message(request: Request, dispute_id: str, page: User, form: Form) -> Response:
    body: DisputeMessageIn = {
        "direction": form_text(form, "direction", 20),
        "body": form_text(form, "body", 10001),
    }
    return _step(
        request,
        page,
        dispute_id,
        "message",
        form,
        lambda: disputes.add_message(request.app.state.db, page.actor, dispute_id, body),
        page.gettext("The message is added."),
    )


@router.post("/disputes/{dispute_id}/evidence")
async def add_evidence(request: Request, dispute_id: str, page: User) -> Response:
    form = await posted(request)
    page.require(Action.MANAGE_RETURNS)
    upload = (await request.form()).get("file")
    name: str | None = None
    data = b""
    if isinstance(upload, UploadFile):
        name = upload.filename
        data = await upload.read(dispute_evidence.max_upload_bytes() + 1)
    note = form_text(form, "note", 1001)

    def work() -> Any:
        return dispute_evidence.add_evidence(
            request.app.state.db, page.actor, dispute_id, name, data, note
        )

    def step() -> Response:
        return _step(
            request, page, dispute_id, "evidence", form, work, page.gettext("The file is stored.")
        )

    return await run_in_threadpool(step)


@router.get("/disputes/{dispute_id}/evidence/{evidence_id}")
def evidence_file(request: Request, dispute_id: str, evidence_id: str, page: User) -> Response:
    """The stored file, to signed-in staff only, as a download (never shown inline)."""
    page.require(Action.READ)
    data, kind, name = dispute_evidence.evidence_file(request.app.state.db, dispute_id, evidence_id)
    ascii_name = "".join(c for c in name if c.isascii() and (c.isalnum() or c in "._-"))
    disposition = f'attachment; filename="{ascii_name or "evidence"}"; ' + (
        f"filename*=UTF-8''{quote(name, safe='')}"
    )
    # nosniff and the CSP come from the SecurityHeaders middleware.
    headers = {"Content-Disposition": disposition, "Cache-Control": "private, no-store"}
    return Response(content=data, media_type=kind, headers=headers)


def _move(page: Page, request: Request, dispute_id: str, body: DisputeTransitionRequest) -> Any:
    prefix = request.app.state.settings.order_number_prefix
    return disputes.transition(request.app.state.db, page.actor, dispute_id, body, prefix)


@router.post("/disputes/{dispute_id}/investigate")
def investigate(request: Request, dispute_id: str, page: User, form: Form) -> Response:
    body: DisputeTransitionRequest = {
        "status": "investigating",
        "note": form_text(form, "note", 1001),  # None: no note
    }
    return _step(
        request,
        page,
        dispute_id,
        "investigate",
        form,
        lambda: _move(page, request, dispute_id, body),
        page.gettext("The investigation is started."),
    )


def reship_lines(form: dict[str, Any], rows: list[Any] | None = None) -> list[SkuQuantity] | None:
    """The units to send again, per SKU; None when the form names no SKU (then the service
    reships every shipped unit)."""
    skus = _list(form, "sku")
    if not skus:
        return None
    errors = FieldErrors()
    lines: list[SkuQuantity] = []
    for i, sku in enumerate(skus):
        n = _whole(form, f"quantity-{i}", f"quantity-{i}", errors)
        if n:
            lines.append({"sku": sku, "quantity": n})
            if rows is not None:
                rows.append(i)  # the form's row of the body's line
    if not lines and not errors:
        errors.add("lines", "no_units")
    errors.raise_if_any()
    return lines


def resolution_body(
    page: Page, form: dict[str, Any], rows: list[Any] | None = None
) -> DisputeTransitionRequest:
    """The resolution the form asks for; a blank field (None) is one left out."""
    resolution = form_text(form, "resolution", 20)
    note = form_text(form, "note", 1001)
    body: DisputeTransitionRequest = {"status": "resolved", "resolution": resolution, "note": note}
    if resolution == Resolution.REFUND:
        page.require(Action.MANAGE_PAYMENTS)
        body["amount"] = form_amount(form, "amount")
    elif resolution == Resolution.RESHIPMENT:
        body["lines"] = reship_lines(form, rows)
    elif resolution == Resolution.REJECT and note is None:
        raise ValidationFailed.on("note", "required")
    return body


@router.post("/disputes/{dispute_id}/resolve")
def resolve(request: Request, dispute_id: str, page: User, form: Form) -> Response:
    rows: list[Any] = []  # the reshipment form's rows of the body's lines
    return _step(
        request,
        page,
        dispute_id,
        "resolve",
        form,
        lambda: _move(page, request, dispute_id, resolution_body(page, form, rows)),
        page.gettext("The dispute is resolved."),
        line_fields(rows),
    )


@router.post("/disputes/{dispute_id}/close")
def close(request: Request, dispute_id: str, page: User, form: Form) -> Response:
    body: DisputeTransitionRequest = {
        "status": "closed",
        "note": form_text(form, "note", 1001),  # None: no note
    }
    return _step(
        request,
        page,
        dispute_id,
        "close",
        form,
        lambda: _move(page, request, dispute_id, body),
        page.gettext("The dispute is closed."),
    )
