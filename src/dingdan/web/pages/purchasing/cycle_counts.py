"""Cycle counts: the list with a form that makes a location's count sheet, the count page
(usable on a phone: scan a barcode or type a SKU, each scan one unit, or type a line's
quantity), the printable A4 sheet, and posting the differences."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import Response

from dingdan.domain.access.roles import Action
from dingdan.domain.shared.errors import DomainError, FieldErrors
from dingdan.services.inventory import locations
from dingdan.services.purchasing import cycle_counts
from dingdan.services.purchasing.shapes import CountLineCommand, CycleCountCommand, CycleCountView
from dingdan.web.pages.shared.core import Form, Page, PageRoute, User, form_text
from dingdan.web.pages.shared.fields import form_whole

router = APIRouter(route_class=PageRoute, include_in_schema=False)


def _url(count_id: str, tail: str = "") -> str:
    return f"/cycle-counts/{quote(count_id, safe='')}{tail}"


@router.get("/cycle-counts")
def count_list(request: Request, page: User, status: str | None = None) -> Response:
    return _list(page, status)


def _list(page: Page, status: str | None = None, code: int = 200) -> Response:
    db = page.request.app.state.db
    status = status if status in ("open", "posted") else None
    try:
        items = cycle_counts.list_counts(db, status=status, limit=100).items
    except DomainError as exc:
        page.flash_error(exc)
        items = []
    locs = locations.list_locations(db, active=True, limit=200).items
    return page.render(
        "purchasing/cycle_counts.html",
        status=code,
        items=items,
        locations=locs,
        wanted=status,
        intervals=db.read(cycle_counts.intervals),
    )


@router.post("/cycle-counts")
def create(request: Request, page: User, form: Form) -> Response:
    actor = page.require(Action.MANAGE_STOCK)
    body: CycleCountCommand = {"location": form_text(form, "location", 32) or ""}
    return page.attempt(
        lambda: cycle_counts.create(request.app.state.db, actor, body),
        done=page.gettext("Count sheet made."),
        back="/cycle-counts",
        form_id="new-count",
        typed=form,
        again=lambda code: _list(page, code=code),
        then=lambda made: _url(str(made["id"])),
    )


def _sheet(page: Page, count_id: str) -> CycleCountView:
    return cycle_counts.get(page.request.app.state.db, count_id)


@router.get("/cycle-counts/{count_id}")
def count_page(request: Request, count_id: str, page: User) -> Response:
    return _count_page(page, count_id)


def _count_page(page: Page, count_id: str, code: int = 200) -> Response:
    sheet = _sheet(page, count_id)
    done = sum(1 for ln in sheet["lines"] if ln["counted"] is not None)
    return page.render("purchasing/cycle_count.html", status=code, c=sheet, done=done)


@router.get("/cycle-counts/{count_id}/print")
def print_sheet(request: Request, count_id: str, page: User) -> Response:
    return page.render("purchasing/cycle_count_print.html", c=_sheet(page, count_id))


@router.post("/cycle-counts/{count_id}/count")
def count_line(request: Request, count_id: str, page: User, form: Form) -> Response:
    actor = page.require(Action.MANAGE_STOCK)
    sku = form_text(form, "code", 64) or ""
    raw = form_text(form, "counted", 20)
    scan = raw is None

    def work() -> CycleCountView:
        body: CountLineCommand = {"sku": sku}
        if not scan:
            errors = FieldErrors()
            body["counted"] = form_whole(form, "counted", errors, maximum=cycle_counts.MAX_COUNTED)
            errors.raise_if_any()
        return cycle_counts.record(request.app.state.db, actor, count_id, body, scan=scan)

    return page.attempt(
        work,
        done=page.gettext("Counted %(sku)s.", sku=sku),
        back=_url(count_id),
        form_id="count",
        typed=form,
        rename=lambda name: "code" if name == "sku" else name,
        again=lambda code: _count_page(page, count_id, code),
    )


@router.post("/cycle-counts/{count_id}/post")
def post_count(request: Request, count_id: str, page: User, form: Form) -> Response:
    actor = page.require(Action.MANAGE_STOCK)
    return page.attempt(
        lambda: cycle_counts.post(request.app.state.db, actor, count_id),
        done=page.gettext("Count posted: the differences are in the stock ledger."),
        back=_url(count_id),
        form_id="post",
        typed={},
        again=lambda code: _count_page(page, count_id, code),
    )
