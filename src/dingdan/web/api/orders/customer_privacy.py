"""A customer's rights beyond the JSON export (issue 26, part 5): the same copy as a
readable PDF, and the record of their consent to marketing messages."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import Field
from starlette.concurrency import run_in_threadpool

from dingdan.domain.access.roles import Action
from dingdan.services.orders import consent, customer_export_pdf
from dingdan.services.orders.shapes import ConsentCommand, ConsentView
from dingdan.services.shared.common import Actor
from dingdan.web.api.orders.customers import ConsentEntry
from dingdan.web.api.shared.commands import command
from dingdan.web.api.shared.common_schemas import Timestamp, View
from dingdan.web.api.shared.deps import can, db_of
from dingdan.web.api.shared.errors import responses
from dingdan.web.api.shared.schemas import Strict

router = APIRouter(prefix="/api/v1", tags=["customers"])


class Consent(View):
    customer: str
    marketing: bool = Field(description="whether marketing messages may be sent now")
    since: Timestamp | None = Field(description="when the latest grant or withdrawal was")
    source: str | None
    history: list[ConsentEntry] = Field(description="every grant and withdrawal, newest first")


class ConsentIn(Strict):
    granted: bool
    source: str = Field(
        default="api",
        min_length=1,
        max_length=100,
        description="how the customer gave or withdrew it: checkout, unsubscribe link, ...",
    )


@router.get(
    "/customers/{customer_id}/export.pdf",
    response_class=Response,
    responses={
        **responses("forbidden", "not_found"),
        200: {
            "description": "The customer's personal data and orders, readable (A4)",
            "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}},
        },
    },
)
async def export_customer_pdf(
    request: Request, customer_id: str, actor: Actor = can(Action.EXPORT_CUSTOMERS)
) -> Response:
    """The JSON export's content as a PDF for the customer to read; in the audit trail."""
    data, filename = await run_in_threadpool(
        customer_export_pdf.export_pdf, db_of(request), actor, customer_id
    )
    headers = {
        "Content-Disposition": f'attachment; filename="{filename}"',
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "private, no-store",
    }
    return Response(content=data, media_type="application/pdf", headers=headers)


@router.get(
    "/customers/{customer_id}/consent",
    response_model=Consent,
    responses=responses("forbidden", "not_found"),
)
async def get_consent(
    request: Request, customer_id: str, actor: Actor = can(Action.READ)
) -> ConsentView:
    """Whether the customer agreed to marketing messages, and every change."""
    return await run_in_threadpool(consent.get_consent, db_of(request), customer_id)


@router.put(
    "/customers/{customer_id}/consent/marketing",
    response_model=Consent,
    responses=responses("forbidden", "not_found"),
)
async def set_marketing_consent(
    request: Request,
    customer_id: str,
    body: ConsentIn,
    actor: Actor = can(Action.MANAGE_ORDERS),
) -> ConsentView:
    """Record that the customer gave (``granted`` true) or withdrew consent to marketing
    messages; the history keeps each change with when, how and who."""
    return await run_in_threadpool(
        consent.set_marketing_consent,
        db_of(request),
        actor,
        customer_id,
        command(ConsentCommand, body),
    )
