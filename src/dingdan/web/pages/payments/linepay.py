"""The customer's LINE Pay pages: ``/pay/{token}/linepay`` starts the payment and sends the
customer to LINE Pay's payment page, ``/confirm`` and ``/cancel`` are where LINE Pay sends
the customer back. No sign-in: the order's tracking token is the customer's key, as on the
tracking page.

``POST`` is the pay page's button (CSRF checked): it answers a page with a link to LINE
Pay's page, followed at once by a script file (a redirect would be blocked: Chromium checks
the pay page's ``form-action 'self'`` against every redirect after a form's submission, and
a link is no form submission, so nothing needs to widen form-action). ``GET`` starts too (a
link, not a form): it answers a redirect."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from dingdan.domain.shared.errors import DomainError, NotFound
from dingdan.services.payments import linepay
from dingdan.services.shared import shop
from dingdan.web.error_status import status_of
from dingdan.web.pages.orders.tracking import too_many
from dingdan.web.pages.shared.core import Anon, Page, PageRoute, posted

router = APIRouter(route_class=PageRoute, include_in_schema=False)
TEMPLATE = "payments/linepay.html"
MAX_PARAM = 100


def _render(request: Request, page: Page, token: str, status: int, **values: Any) -> Response:
    db = request.app.state.db
    return page.render(TEMPLATE, status=status, shop=shop.get_shop(db), token=token, **values)


async def _start(request: Request, page: Page, token: str, button: bool) -> Response:
    db = request.app.state.db
    if (refused := too_many(request, page)) is not None:
        return refused
    try:
        url = await run_in_threadpool(linepay.start_linepay, db, token)
    except NotFound:
        return _render(request, page, token, 404, state="not_found")
    except DomainError as exc:
        return _render(request, page, token, status_of(exc), state="error", detail=exc.detail)
    if not button:
        return RedirectResponse(url, status_code=303)
    link = {"link": url}
    return page.render("payments/checkout.html", c=link, token=token, shop=shop.get_shop(db))


@router.get("/pay/{token}/linepay")
async def start_link(request: Request, token: str, page: Anon) -> Response:
    return await _start(request, page, token, button=False)


@router.post("/pay/{token}/linepay")
async def start_button(request: Request, token: str, page: Anon) -> Response:
    await posted(request)
    return await _start(request, page, token, button=True)


def _param(request: Request, name: str) -> str:
    value = request.query_params.get(name) or ""
    return value[:MAX_PARAM]


@router.get("/pay/{token}/linepay/confirm")
async def confirm(request: Request, token: str, page: Anon) -> Response:
    db = request.app.state.db
    if (refused := too_many(request, page)) is not None:
        return refused
    tid, order_id = _param(request, "transactionId"), _param(request, "orderId")
    try:
        outcome = await run_in_threadpool(linepay.confirm_linepay, db, token, tid, order_id)
    except NotFound:
        return _render(request, page, token, 404, state="not_found")
    return _render(request, page, token, 200, state=outcome.state, o=outcome)


@router.get("/pay/{token}/linepay/cancel")
async def cancel(request: Request, token: str, page: Anon) -> Response:
    db = request.app.state.db
    if (refused := too_many(request, page)) is not None:
        return refused
    tid = _param(request, "transactionId") or None
    outcome = await run_in_threadpool(linepay.cancel_linepay, db, token, tid)
    if outcome is None:
        return _render(request, page, token, 404, state="not_found")
    state = "cancelled" if outcome.state == "failed" else outcome.state
    return _render(request, page, token, 200, state=state, o=outcome)
