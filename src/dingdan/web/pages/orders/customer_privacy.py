"""The customer page's personal-data card: their copy as a PDF, and their consent to
marketing messages (granted or withdrawn, with how)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from dingdan.domain.access.roles import Action
from dingdan.domain.shared.errors import DomainError
from dingdan.services.orders import consent, customer_export_pdf
from dingdan.web.pages.shared.core import Form, PageRoute, User, form_text

router = APIRouter(route_class=PageRoute, include_in_schema=False)


@router.get("/customers/{customer_id}/export.pdf")
async def export_pdf(request: Request, customer_id: str, page: User) -> Response:
    actor = page.require(Action.EXPORT_CUSTOMERS)
    data, filename = await run_in_threadpool(
        customer_export_pdf.export_pdf, request.app.state.db, actor, customer_id[:30]
    )
    headers = {
        "Content-Disposition": f'attachment; filename="{filename}"',
        "Cache-Control": "private, no-store",
    }
    return Response(content=data, media_type="application/pdf", headers=headers)


@router.post("/customers/{customer_id}/consent")
def set_consent(request: Request, customer_id: str, page: User, form: Form) -> Response:
    actor = page.require(Action.MANAGE_ORDERS)
    granted = form_text(form, "granted", 1) == "1"
    source = form_text(form, "source", 100) or "back_office"
    try:
        consent.set_marketing_consent(
            request.app.state.db, actor, customer_id[:30], {"granted": granted, "source": source}
        )
        page.flash(
            page.gettext("Consent to marketing messages recorded.")
            if granted
            else page.gettext("Withdrawal of consent to marketing messages recorded.")
        )
    except DomainError as exc:
        page.flash_error(exc)
    return page.redirect(f"/customers/{customer_id[:30]}")
