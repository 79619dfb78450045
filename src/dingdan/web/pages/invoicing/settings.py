"""Settings → Invoices: the seller on the invoices, Taiwan e-invoice on or off, when invoices
are issued, the void window, and the e-invoice number ranges (字軌) with how much of each is
used; a range typed in or the tax platform's assignment file pasted (finance, manager,
admin: ``manage_payments``, as the API)."""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from dingdan.domain.access.roles import Action
from dingdan.services.invoicing import settings as invoicing_settings
from dingdan.services.invoicing.shapes import SettingsCommand, TrackCommand
from dingdan.web.pages.shared.core import Form, Page, PageRoute, User, form_text

router = APIRouter(route_class=PageRoute, include_in_schema=False)
MANAGE = Action.MANAGE_PAYMENTS
HERE = "/settings/invoicing"


def _page(page: Page, status: int = 200) -> Response:
    db = page.request.app.state.db
    return page.render(
        "invoicing/settings.html",
        status=status,
        cfg=invoicing_settings.get(db),
        tracks=invoicing_settings.list_tracks(db)["items"],
        issue_on=invoicing_settings.ISSUE_ON,
    )


@router.get(HERE)
def show(request: Request, page: User) -> Response:
    page.require(MANAGE)
    return _page(page)


def _optional(form: dict[str, Any], name: str, most: int) -> str | None:
    return (form_text(form, name, most) or "").strip() or None


@router.post(HERE)
def save(request: Request, page: User, form: Form) -> Response:
    page.require(MANAGE)
    day_text = (form_text(form, "void_closing_day", 10) or "").strip()
    day = int(day_text) if re.fullmatch(r"[0-9]{1,3}", day_text) else day_text
    body: SettingsCommand = {
        "seller_name": form_text(form, "seller_name", 400),
        "seller_ubn": _optional(form, "seller_ubn", 40),
        "seller_address": _optional(form, "seller_address", 400),
        "seller_phone": _optional(form, "seller_phone", 80),
        "seller_email": _optional(form, "seller_email", 400),
        "einvoice": form.get("einvoice") == "1",
        "issue_on": form_text(form, "issue_on", 20),
        # Not a whole number: sent as typed, for the service to refuse beside the field.
        "void_closing_day": day,
    }
    typed = {k: ("" if v is None else str(v)) for k, v in body.items()}
    typed["einvoice"] = "1" if body["einvoice"] else ""
    return page.attempt(
        lambda: invoicing_settings.put(request.app.state.db, page.actor, body),
        done=page.gettext("Invoice settings saved."),
        back=HERE,
        form_id="invoicing",
        typed=typed,
        again=lambda status: _page(page, status),
        whole_form=True,
    )


@router.post(HERE + "/tracks")
def add_track(request: Request, page: User, form: Form) -> Response:
    page.require(MANAGE)
    typed = {
        name: (form_text(form, name, 20) or "").strip()
        for name in ("period", "prefix", "start", "end")
    }
    body: TrackCommand = {
        "period": typed["period"],
        "prefix": typed["prefix"],
        "start": typed["start"],
        "end": typed["end"],
    }
    return page.attempt(
        lambda: invoicing_settings.add_track(request.app.state.db, page.actor, body),
        done=page.gettext("Number range added."),
        back=HERE,
        form_id="track",
        typed=typed,
        again=lambda status: _page(page, status),
        whole_form=True,
    )


@router.post(HERE + "/tracks/import")
def import_tracks(request: Request, page: User, form: Form) -> Response:
    page.require(MANAGE)
    text = form_text(form, "csv", invoicing_settings.MAX_CSV_CHARS + 1) or ""
    return page.attempt(
        lambda: invoicing_settings.import_tracks(request.app.state.db, page.actor, text),
        done=lambda r: page.gettext("Number ranges added: %(n)s.") % {"n": len(r["items"])},
        back=HERE,
        form_id="import",
        typed={"csv": text},
        again=lambda status: _page(page, status),
        whole_form=True,
    )


@router.get(HERE + "/blanks/{prefix}.xml")
def blank_numbers_mig(request: Request, page: User, prefix: str, period: str = "") -> Response:
    """The E0402 message of a prefix's blank numbers in a period, to upload once it closed."""
    page.require(MANAGE)
    period, prefix = period[:7], prefix[:2]
    xml = invoicing_settings.blank_numbers_mig(request.app.state.db, period, prefix)
    name = f"E0402-{period}-{prefix}.xml"
    return Response(
        content=xml,
        media_type="application/xml",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
