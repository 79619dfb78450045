"""The customer's tracking page, ``/track/{token}``: no sign-in, no personal details, and
rate-limited per client address (in memory: one process is enough to slow a guesser)."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict, deque
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from dingdan.domain.shared.errors import DomainError, NotFound
from dingdan.services.after_sales import customer_returns, return_policy
from dingdan.services.after_sales.shapes import ReturnRequest
from dingdan.services.fulfilment import ecpay_logistics
from dingdan.services.orders import invoice_choice, tracking
from dingdan.services.shared import shop
from dingdan.web.error_status import status_of
from dingdan.web.pages.after_sales.returns import request_lines
from dingdan.web.pages.orders import entry_form
from dingdan.web.pages.shared.core import (
    Anon,
    Page,
    PageRoute,
    client_address,
    form_text,
    line_fields,
    posted,
)

router = APIRouter(route_class=PageRoute, include_in_schema=False)


class RateLimit:
    """At most ``limit`` requests per ``window`` seconds per key (sliding window)."""

    def __init__(self, limit: int = 30, window: float = 60.0, keys: int = 10_000) -> None:
        self.limit, self.window, self.max_keys = limit, window, keys
        self.hits: OrderedDict[str, deque[float]] = OrderedDict()
        self.lock = threading.Lock()

    def allow(self, key: str, now: float | None = None) -> bool:
        now = time.monotonic() if now is None else now
        with self.lock:
            q = self.hits.pop(key, None) or deque()
            while q and q[0] <= now - self.window:
                q.popleft()
            allowed = len(q) < self.limit
            if allowed:
                q.append(now)
            self.hits[key] = q
            while len(self.hits) > self.max_keys:
                self.hits.popitem(last=False)
            return allowed


def limiter_of(request: Request) -> RateLimit:
    """One limiter per application (so each app, and each test, counts on its own)."""
    state = request.app.state
    if getattr(state, "track_limiter", None) is None:
        state.track_limiter = RateLimit()
    return state.track_limiter  # type: ignore[no-any-return]


def too_many(request: Request, page: Page) -> Response | None:
    """The customer's pages' limit per client address (a guesser of links is slowed): the
    429 answer once it is passed, else None."""
    if limiter_of(request).allow(client_address(request)):
        return None
    return HTMLResponse(
        str(page.gettext("Too many requests. Try again in a minute.")),
        status_code=429,
        headers={"Retry-After": "60"},
    )


@router.get("/track/{token}")
def track(request: Request, token: str, page: Anon) -> Response:
    client = client_address(request)
    if not limiter_of(request).allow(client):
        return HTMLResponse(
            str(page.gettext("Too many requests. Try again in a minute.")),
            status_code=429,
            headers={"Retry-After": "60"},
        )
    return _render(request, page, token)


def _render(
    request: Request,
    page: Page,
    token: str,
    status: int = 200,
    values: dict[str, Any] | None = None,
) -> Response:
    db = request.app.state.db
    try:
        data = tracking.tracking_view(db, token)
    except NotFound:
        return page.render("orders/track.html", status=404, t=None, shop=shop.get_shop(db))
    reasons = return_policy.get_policy(db)["reasons"]
    return page.render(
        "orders/track.html",
        status=status,
        shop=shop.get_shop(db),
        t=data,
        token=token,
        reasons=reasons,
        r=customer_returns.for_customer(db, token),
        inv=_invoice(db, token),
        cvs=ecpay_logistics.customer_view(db, token),
        v=values or {},
    )


def _invoice(db: Any, token: str) -> dict[str, Any]:
    inv = invoice_choice.choice(db, token)
    return {**inv, "form": entry_form.invoice_values(inv["request"])}


@router.post("/track/{token}/returns")
async def request_return(request: Request, token: str, page: Anon) -> Response:
    """The customer's return request: lines with quantities and reasons, optional photos."""
    client = client_address(request)
    if not limiter_of(request).allow(client):
        return HTMLResponse(
            str(page.gettext("Too many requests. Try again in a minute.")),
            status_code=429,
            headers={"Retry-After": "60"},
        )
    form = await posted(request)
    photos = [
        (f.filename or "photo", await f.read())
        for f in (await request.form()).getlist("photos")
        if isinstance(f, UploadFile) and f.filename
    ]
    db = request.app.state.db
    rows: list[Any] = []
    try:
        body: ReturnRequest = {
            "lines": request_lines(form, rows),
            "note": form_text(form, "note", 1001),
        }
        done = await run_in_threadpool(
            customer_returns.request_from_customer, db, token, body, photos
        )
    except NotFound:
        return page.render("orders/track.html", status=404, t=None, shop=shop.get_shop(db))
    except DomainError as exc:
        # As Page.attempt does (this one awaits): the message beside the field, typed kept.
        lines = line_fields(rows)
        page.keep("return", exc, form, lambda f: "photos" if f.startswith("photos") else lines(f))
        return _render(request, page, token, status=status_of(exc), values=form)
    page.flash(
        page.gettext("Your return request %(id)s is received. We will contact you.", id=done["id"])
    )
    return page.redirect(f"/track/{token}")


@router.post("/track/{token}/invoice")
async def choose_invoice(request: Request, token: str, page: Anon) -> Response:
    """The invoice the customer wants (a carrier, a donation, a company invoice), until it is
    issued; refused beside its field with what was typed kept."""
    if not limiter_of(request).allow(client_address(request)):
        return HTMLResponse(
            str(page.gettext("Too many requests. Try again in a minute.")),
            status_code=429,
            headers={"Retry-After": "60"},
        )
    form = await posted(request)
    db = request.app.state.db
    try:
        await run_in_threadpool(invoice_choice.ask, db, token, entry_form.invoice(form))
    except NotFound:
        return page.render("orders/track.html", status=404, t=None, shop=shop.get_shop(db))
    except DomainError as exc:
        page.keep("invoice", exc, form, lambda f: entry_form.form_field(f, "TW") or f)
        return _render(request, page, token, status=status_of(exc), values=form)
    page.flash(page.gettext("Your invoice choice is saved."))
    return page.redirect(f"/track/{token}")
