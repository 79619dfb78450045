"""Own delivery in the back office: the day's runs and the planning by area (warehouse,
manager), a run's page with its cash reconciliation (finance closes it there), the printable
A4 route sheet, and the driver's phone pages: the stops in address order, and each stop's
proof of delivery (a photo from the camera, a signature drawn with the finger)."""

from __future__ import annotations

import base64
import binascii
import re
from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from dingdan.domain.access.roles import Action
from dingdan.domain.fulfilment.delivery_runs import FAIL_REASONS
from dingdan.domain.shared.errors import DomainError, NotFound, ValidationFailed
from dingdan.services.access import accounts
from dingdan.services.access.shapes import UserView
from dingdan.services.fulfilment import delivery_run_queries as queries
from dingdan.services.fulfilment import delivery_runs, shapes
from dingdan.services.payments import transactions
from dingdan.services.shared import uploads
from dingdan.web.pages.shared.core import Form, Page, PageRoute, User, now_of

router = APIRouter(route_class=PageRoute, include_in_schema=False)


def N_(message: str) -> str:  # noqa: N802 - the marker Babel extracts
    return message


# A stop's status in the driver's words ("pending" elsewhere means a payment pending).
STOP_LABELS = {
    "pending": N_("To deliver"),
    "delivered": N_("Delivered"),
    "failed": N_("Not delivered"),
}
PATH = "/delivery-runs"
TAIPEI = ZoneInfo("Asia/Taipei")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_DATA_URL = re.compile(r"data:image/png;base64,([A-Za-z0-9+/=\s]+)")


def _db(page: Page) -> Any:
    return page.request.app.state.db


def _stop_label(page: Page) -> Any:
    return lambda status: page._(STOP_LABELS.get(status, status))


def _may_see(page: Page) -> None:
    if not any(page.may(a) for a in (Action.FULFIL, Action.DELIVER_RUNS, Action.MANAGE_PAYMENTS)):
        page.require(Action.FULFIL)


def _day(page: Page) -> str:
    wanted = page.request.query_params.get("date") or ""
    if _DATE.fullmatch(wanted):
        try:
            return datetime.strptime(wanted, "%Y-%m-%d").date().isoformat()
        except ValueError:
            pass
    return now_of(page.request).astimezone(TAIPEI).date().isoformat()


def _drivers(page: Page) -> list[UserView]:
    return [u for u in accounts.list_users(_db(page)) if u["role"] == "driver" and u["active"]]


def _index(page: Page, status: int = 200, **values: Any) -> Response:
    db, actor, day = _db(page), page.actor, _day(page)
    # A driver sees their own runs of every day; the office, the day's.
    on = None if queries.is_driver(actor) else day
    runs = queries.list_runs(db, actor, on=on, limit=50).items
    plan = queries.planning(db, day) if page.may(Action.FULFIL) else None
    return page.render(
        "fulfilment/delivery_runs.html",
        status=status,
        day=day,
        runs=runs,
        plan=plan,
        drivers=_drivers(page) if page.may(Action.FULFIL) else [],
        **values,
    )


@router.get(PATH)
def runs_page(page: User) -> Response:
    _may_see(page)
    return _index(page)


@router.post(PATH)
def create_run(page: User, form: Form) -> Response:
    actor = page.require(Action.FULFIL)
    numbers = [n.strip() for n in re.split(r"[\s,]+", str(form.get("orders") or "")) if n.strip()]
    body: shapes.RunCommand = {
        "driver": form.get("driver"),
        "date": form.get("date"),
        "note": form.get("note") or None,
        "orders": numbers[:200],
    }
    return page.attempt(
        lambda: delivery_runs.create_run(_db(page), actor, body),
        done=page.gettext("Delivery run created."),
        back=PATH,
        form_id="run-create",
        typed=form,
        again=lambda status: _index(page, status),
        then=lambda run: f"{PATH}/{run['id']}",
        whole_form=True,
    )


def _run(page: Page, run_id: str) -> shapes.RunView:
    return queries.get_run(_db(page), page.actor, run_id)


def _run_page(page: Page, run_id: str, status: int = 200) -> Response:
    run = _run(page, run_id)
    return page.render(
        "fulfilment/delivery_run.html",
        status=status,
        run=run,
        reasons=FAIL_REASONS,
        stop_label=_stop_label(page),
    )


@router.get(PATH + "/{run_id}")
def run_page(page: User, run_id: str) -> Response:
    _may_see(page)
    return _run_page(page, run_id)


@router.get(PATH + "/{run_id}/sheet")
def route_sheet(page: User, run_id: str) -> Response:
    _may_see(page)
    run = _run(page, run_id)
    total = sum((Decimal(s["cod_due"]) for s in run["stops"]), Decimal(0))
    return page.render(
        "fulfilment/delivery_sheet.html", run=run, cod_total=total, stop_label=_stop_label(page)
    )


@router.get(PATH + "/{run_id}/phone")
def phone_page(page: User, run_id: str) -> Response:
    _may_see(page)
    return page.render(
        "fulfilment/delivery_phone.html", run=_run(page, run_id), stop_label=_stop_label(page)
    )


def _one_stop(run: shapes.RunView, stop_id: str) -> shapes.StopView:
    for s in run["stops"]:
        if s["id"] == stop_id:
            return s
    raise NotFound(detail=f"No stop {stop_id!r} on delivery run {run['id']}.")


def _stop_page(page: Page, run_id: str, stop_id: str, status: int = 200) -> Response:
    run = _run(page, run_id)
    return page.render(
        "fulfilment/delivery_stop.html",
        status=status,
        run=run,
        stop=_one_stop(run, stop_id),
        reasons=FAIL_REASONS,
        stop_label=_stop_label(page),
    )


@router.get(PATH + "/{run_id}/stops/{stop_id}")
def stop_page(page: User, run_id: str, stop_id: str) -> Response:
    _may_see(page)
    return _stop_page(page, run_id, stop_id)


def _signature(value: Any) -> bytes | None:
    if not isinstance(value, str) or not value.strip():
        return None
    match = _DATA_URL.fullmatch(value.strip())
    if match is None:
        raise ValidationFailed.on("signature", "signature_data")
    try:
        return base64.b64decode(match.group(1), validate=False)
    except (binascii.Error, ValueError):
        raise ValidationFailed.on("signature", "signature_data") from None


@router.post(PATH + "/{run_id}/stops/{stop_id}/deliver")
async def deliver(request: Request, page: User, form: Form, run_id: str, stop_id: str) -> Response:
    actor = page.require(Action.DELIVER_RUNS)
    db = _db(page)
    back = f"{PATH}/{run_id}/phone"

    async def proof() -> tuple[tuple[str, bytes] | None, bytes | None]:
        file = (await request.form()).get("photo")
        shot = None
        if isinstance(file, UploadFile) and file.filename:
            shot = (file.filename, await file.read(uploads.max_upload_bytes() + 1))
        return shot, _signature(form.get("signature"))

    try:
        shot, sig = await proof()
        await run_in_threadpool(
            lambda: delivery_runs.deliver_stop(
                db,
                actor,
                run_id,
                stop_id,
                photo=shot,
                signature=sig,
                cod_collected=form.get("cod_collected"),
                note=form.get("note") or None,
            )
        )
    except DomainError as exc:
        if not exc.errors:
            page.flash_error(exc)
            return page.redirect(back)
        page.keep("deliver", exc, {k: v for k, v in form.items() if k != "signature"})
        return await run_in_threadpool(lambda: _stop_page(page, run_id, stop_id, 422))
    page.flash(page.gettext("Delivered."))
    return page.redirect(back)


@router.post(PATH + "/{run_id}/stops/{stop_id}/fail")
def fail(page: User, form: Form, run_id: str, stop_id: str) -> Response:
    actor = page.require(Action.DELIVER_RUNS)
    return page.attempt(
        lambda: delivery_runs.fail_stop(
            _db(page), actor, run_id, stop_id, form.get("reason"), form.get("note") or None
        ),
        done=page.gettext("Recorded as not delivered."),
        back=f"{PATH}/{run_id}/phone",
        form_id="fail",
        typed=form,
        again=lambda status: _stop_page(page, run_id, stop_id, status),
    )


@router.post(PATH + "/{run_id}/orders")
def add_orders(page: User, form: Form, run_id: str) -> Response:
    actor = page.require(Action.FULFIL)
    numbers = [n.strip() for n in re.split(r"[\s,]+", str(form.get("orders") or "")) if n.strip()]
    return page.attempt(
        lambda: delivery_runs.add_orders(_db(page), actor, run_id, numbers[:200]),
        done=page.gettext("Orders added to the run."),
        back=f"{PATH}/{run_id}",
        form_id="add-orders",
        typed=form,
        again=lambda status: _run_page(page, run_id, status),
    )


@router.post(PATH + "/assign-area")
def assign_area(page: User, form: Form) -> Response:
    actor = page.require(Action.FULFIL)
    day = form.get("date") if isinstance(form.get("date"), str) else ""
    run_id = str(form.get("run") or "")
    return page.attempt(
        lambda: delivery_runs.assign_area(_db(page), actor, run_id, form.get("area")),
        done=page.gettext("The area's orders were added to the run."),
        back=f"{PATH}?date={day}" if _DATE.fullmatch(day or "") else PATH,
        form_id="assign-area",
        typed=form,
        again=lambda status: _index(page, status),
    )


@router.post(PATH + "/{run_id}/orders/{number}/remove")
def remove_order(page: User, form: Form, run_id: str, number: str) -> Response:
    actor = page.require(Action.FULFIL)
    return page.attempt(
        lambda: delivery_runs.remove_order(_db(page), actor, run_id, number),
        done=page.gettext("Order taken off the run."),
        back=f"{PATH}/{run_id}",
        form_id="remove",
        typed=form,
        again=lambda status: _run_page(page, run_id, status),
    )


@router.post(PATH + "/{run_id}/cash")
def hand_in_cash(page: User, form: Form, run_id: str) -> Response:
    actor = page.require(Action.DELIVER_RUNS)
    return page.attempt(
        lambda: delivery_runs.hand_in_cash(_db(page), actor, run_id, form.get("amount")),
        done=page.gettext("Cash handed in recorded."),
        back=f"{PATH}/{run_id}",
        form_id="cash",
        typed=form,
        again=lambda status: _run_page(page, run_id, status),
    )


@router.post(PATH + "/{run_id}/close")
def close_run(page: User, form: Form, run_id: str) -> Response:
    actor = page.require(Action.MANAGE_PAYMENTS)
    return page.attempt(
        lambda: delivery_runs.close_run(
            _db(page), actor, run_id, form.get("note") or None, transactions.settle_cod
        ),
        done=page.gettext("Delivery run closed; the COD payments are recorded."),
        back=f"{PATH}/{run_id}",
        form_id="close",
        typed=form,
        again=lambda status: _run_page(page, run_id, status),
    )


@router.get(PATH + "/{run_id}/stops/{stop_id}/{which}.png")
def proof_image(page: User, run_id: str, stop_id: str, which: str) -> Response:
    _may_see(page)
    if which not in ("photo", "signature"):
        raise NotFound(detail="No such file.")
    data, kind, name = delivery_runs.proof_file(_db(page), page.actor, run_id, stop_id, which)
    return Response(
        content=data,
        media_type=kind,
        headers={
            "Content-Disposition": f'inline; filename="{name}"',
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, no-store",
        },
    )
