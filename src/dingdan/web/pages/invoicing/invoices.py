"""An order's invoices in the back office: the panel the order page loads (by URL: the
orders pages sit below invoicing) and the page it links to, and the PDF download. Every
view and download is in the audit trail."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from dingdan.domain.access.roles import Action
from dingdan.services.invoicing import pdf, proof, queries
from dingdan.web.pages.shared.core import Page, PageRoute, User

router = APIRouter(route_class=PageRoute, include_in_schema=False)


@router.get("/orders/{number}/invoices")
async def order_invoices(request: Request, number: str, page: User) -> Response:
    actor = page.require(Action.READ)
    listed = await run_in_threadpool(
        queries.order_invoices, request.app.state.db, actor, number[:40]
    )
    partial = bool(request.headers.get("hx-request"))
    return _render(page, number[:40], listed["items"], partial)


def _render(page: Page, number: str, items: list[dict[str, object]], partial: bool) -> Response:
    return page.render(
        "invoicing/order_invoices.html" if partial else "invoicing/order_invoices_page.html",
        number=number,
        invoices=items,
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
