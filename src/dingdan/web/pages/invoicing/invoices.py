"""An order's invoices in the back office: the panel the order page loads (by URL: the
orders pages sit below invoicing) and the page it links to, with each invoice's allowances
and, for those who may (finance, manager, admin), the button that voids one with a reason;
and the PDF download. Every view and download is in the audit trail."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from dingdan.domain.access.roles import Action
from dingdan.services.invoicing import allowances, pdf, proof, queries
from dingdan.web.pages.shared.core import Form, Page, PageRoute, User, form_text

router = APIRouter(route_class=PageRoute, include_in_schema=False)


@router.get("/orders/{number}/invoices")
async def order_invoices(request: Request, number: str, page: User) -> Response:
    actor = page.require(Action.READ)
    partial = bool(request.headers.get("hx-request"))
    return await run_in_threadpool(_render, page, actor, number[:40], partial)


def _render(page: Page, actor: Any, number: str, partial: bool, status: int = 200) -> Response:
    db = page.request.app.state.db
    listed = queries.order_invoices(db, actor, number)
    return page.render(
        "invoicing/order_invoices.html" if partial else "invoicing/order_invoices_page.html",
        status=status,
        number=number,
        invoices=listed["items"],
        allowances=queries.order_allowances(db, number),
    )


@router.post("/orders/{number}/invoices/{invoice}/allowances/{allowance}/void")
def void_allowance(
    request: Request, number: str, invoice: str, allowance: str, page: User, form: Form
) -> Response:
    """Void an allowance made in error (G0501), with why; the centre hears of it from the
    worker."""
    actor = page.require(Action.MANAGE_PAYMENTS)
    order, reason = number[:40], form_text(form, "reason", 200)
    return page.attempt(
        lambda: allowances.void_allowance(
            request.app.state.db, actor, invoice[:20], allowance[:20], reason
        ),
        done=page.gettext("Allowance %(number)s voided.", number=allowance[:20]),
        back=f"/orders/{quote(order, safe='')}/invoices",
        form_id=f"void-{allowance[:20]}",
        typed={"reason": reason or ""},
        again=lambda status: _render(page, actor, order, False, status),
    )


@router.get("/invoices/{number}/pdf")
async def invoice_pdf(request: Request, number: str, page: User) -> Response:
    actor = page.require(Action.READ)
    data, filename = await run_in_threadpool(pdf.download, request.app.state.db, actor, number[:20])
    safe = "".join(c for c in filename if c.isascii() and (c.isalnum() or c in "._-"))
    return Response(
        content=data,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="{safe or "invoice.pdf"}"',
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, no-store",
        },
    )


@router.get("/invoices/{number}/proof.pdf")
async def invoice_proof(request: Request, number: str, page: User) -> Response:
    """The printed e-invoice proof (證明聯) for a buyer who wants paper."""
    actor = page.require(Action.READ)
    data, filename = await run_in_threadpool(
        proof.proof_of, request.app.state.db, actor, number[:20]
    )
    return Response(
        content=data,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, no-store",
        },
    )
