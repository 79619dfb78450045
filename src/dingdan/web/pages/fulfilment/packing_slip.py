"""Packing slips: a printable page per order (one slip per ship-from location) and per
location's pick list, with the order number as a Code128 barcode and the customer's tracking
page as a QR code; A4 or a 100 mm label. The PDF of the same HTML is made by the worker: the
page queues it, shows "being prepared", then offers the download."""

from __future__ import annotations

import base64
import re
from functools import lru_cache
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response
from markupsafe import Markup

from dingdan.domain.access.roles import Action
from dingdan.domain.shared.errors import DomainError
from dingdan.services.access import audit_log
from dingdan.services.fulfilment import packing_slips, shapes
from dingdan.services.shared import documents, shop
from dingdan.web import i18n
from dingdan.web.pages.shared import messages
from dingdan.web.pages.shared.core import HERE, Form, Page, PageRoute, User, env, form_text

router = APIRouter(route_class=PageRoute, include_in_schema=False)

ORDER_KIND, BATCH_KIND = "packing_slip", "packing_slips"
SIZES = ("a4", "label")
TEMPLATE = "fulfilment/packing_slip.html"


def _size(value: Any) -> str:
    return value if value in SIZES else "a4"


@lru_cache(maxsize=4)
def _css(size: str) -> str:
    """The slip's stylesheets, inlined into the HTML the worker turns into a PDF."""
    names = ["packing_slip.css"] + (["packing_slip_label.css"] if size == "label" else [])
    return "\n".join((HERE / "static" / n).read_text(encoding="utf-8") for n in names)


def _safe_name(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-") or "document"


def _with_codes(request: Request, slips: list[shapes.SlipView]) -> list[dict[str, object]]:
    """Each slip with its order-number barcode and tracking-page QR code (inline SVG built
    from digits and path data only, so marking it safe cannot let text through)."""
    # The configured public address, never the request's Host header (anyone can send
    # one; a printed QR code and a stored PDF outlive the request).
    base = request.app.state.settings.public_base_url()
    out = []
    for s in slips:
        url = f"{base}/track/{quote(s['tracking_token'], safe='')}"
        out.append(
            {
                **s,
                "track_url": url,
                "barcode_svg": Markup(packing_slips.code128_svg(s["number"])),  # noqa: S704
                "qr_svg": Markup(packing_slips.qr_svg(url)),  # noqa: S704
            }
        )
    return out


def shop_face(db: Any) -> dict[str, str]:
    """The shop's name, contact and return policy for its slips, with the uploaded logo as a
    ``data:`` URL (the PDF renderer fetches nothing else; the page's CSP allows it)."""
    face = dict(shop.get_shop(db))
    face["logo_data"] = ""
    if face["logo"]:
        try:
            data, _sha = shop.logo_bytes(db)
        except DomainError:  # the file is gone or damaged: the slip is printed without it
            return face
        face["logo_data"] = "data:image/png;base64," + base64.b64encode(data).decode()
    return face


def _document_html(page: Page, size: str, **values: Any) -> str:
    """The same template as the page, self-contained for WeasyPrint: CSS inline, no script,
    no toolbar."""
    ctx = {
        "page": page,
        "lang": page.language,
        "html_lang": i18n.HTML_LANG[page.language],
        "_": page._,
        "gettext": page._,
        "ngettext": i18n.ngettext_for(page.language),
        "fmt": page.fmt,
        "label": lambda v: messages.label(page.gettext, v),
        "carrier_name": page.carrier_name,
        "pdf": True,
        "css": Markup(_css(size).replace("</", "<\\/")),  # noqa: S704 - our own file
        "size": size,
        "shop": shop_face(page.request.app.state.db),
        **values,
    }
    return env.get_template(TEMPLATE).render(ctx)


def _state_block(page: Page, urls: dict[str, str], kind: str, subject: str, **hidden: Any) -> Any:
    return page.render(
        TEMPLATE,
        block="pdf_state",
        urls=urls,
        state=documents.pdf_state(page.request.app.state.db, kind, subject),
        hidden=hidden,
        can_make=True,
    )


def _pdf_response(page: Page, kind: str, subject: str) -> Response:
    db = page.request.app.state.db
    doc = documents.latest_pdf(db, kind, subject)
    packing_slips.record_views(db, page.actor, doc["order_numbers"])
    name = doc["filename"]
    return Response(
        doc["data"],
        media_type="application/pdf",
        headers={
            "Content-Disposition": (
                f"attachment; filename=\"{_safe_name(name)}\"; filename*=UTF-8''{quote(name)}"
            ),
            "Cache-Control": "private, no-store",
        },
    )


# ---- one order -----------------------------------------------------------------------------


def _urls(base: str, size: str, back: str, **query: str | None) -> dict[str, str]:
    """The addresses the page links to: itself in each size, the PDF's state, request and
    download, and where it came from."""
    q = {k: v for k, v in query.items() if v}
    with_size = {s: f"{base}?{urlencode({'size': s, **q})}" for s in SIZES}
    return {
        **with_size,
        "here": with_size[size],
        "state": f"{base}/pdf-state?{urlencode({'size': size, **q})}",
        "make": f"{base}.pdf",
        "download": f"{base}.pdf" + (f"?{urlencode(q)}" if q else ""),
        "back": back,
    }


def _order_urls(number: str, size: str, location: str | None) -> dict[str, str]:
    n = quote(number, safe="")
    return _urls(f"/orders/{n}/packing-slip", size, f"/orders/{n}", location=location)


def _order_subject(number: str, location: str | None) -> str:
    return f"{number}@{location}" if location else number


@router.get("/orders/{number}/packing-slip")
def order_slip(
    request: Request,
    number: str,
    page: User,
    location: str | None = None,
    size: str | None = None,
) -> Response:
    page.require(Action.FULFIL)
    db = request.app.state.db
    size = _size(size)
    data = packing_slips.order_slips(db, number, location or None)
    audit_log.record_view(db, page.actor, "order", number)
    subject = _order_subject(data["number"], data["location"])
    return page.render(
        TEMPLATE,
        pdf=False,
        size=size,
        shop=shop_face(db),
        title=page.gettext("Packing slip %(number)s", number=data["number"]),
        slips=_with_codes(request, data["slips"]),
        order=data,
        urls=_order_urls(data["number"], size, data["location"]),
        back_label=page.gettext("Back to the order"),
        state=documents.pdf_state(db, ORDER_KIND, subject),
        can_make=bool(data["slips"]),
        hidden={"size": size, "location": data["location"] or ""},
    )


@router.get("/orders/{number}/packing-slip/pdf-state")
def order_slip_state(
    request: Request,
    number: str,
    page: User,
    location: str | None = None,
    size: str | None = None,
) -> Response:
    page.require(Action.FULFIL)
    size, location = _size(size), location or None
    return _state_block(
        page,
        _order_urls(number, size, location),
        ORDER_KIND,
        _order_subject(number, location),
        size=size,
        location=location or "",
    )


@router.post("/orders/{number}/packing-slip.pdf")
def order_slip_pdf(request: Request, number: str, page: User, form: Form) -> Response:
    actor = page.require(Action.FULFIL)
    db = request.app.state.db
    size = _size(form_text(form, "size", 10))
    data = packing_slips.order_slips(db, number, form_text(form, "location", 32))
    back = _order_urls(data["number"], size, data["location"])["here"]
    if not data["slips"]:
        page.flash(page.gettext("Nothing is left to pack for this order."), "error")
        return page.redirect(back)
    html = _document_html(
        page,
        size,
        title=page.gettext("Packing slip %(number)s", number=data["number"]),
        slips=_with_codes(request, data["slips"]),
        order=data,
    )
    where = f"-{data['location']}" if data["location"] else ""
    documents.request_pdf(
        db,
        actor,
        ORDER_KIND,
        _order_subject(data["number"], data["location"]),
        f"packing-slip-{data['number']}{where}.pdf",
        html,
        [data["number"]],
    )
    page.flash(page.gettext("The PDF is being prepared. It can be downloaded here in a moment."))
    return page.redirect(back)


@router.get("/orders/{number}/packing-slip.pdf")
def order_slip_download(
    request: Request, number: str, page: User, location: str | None = None
) -> Response:
    page.require(Action.FULFIL)
    return _pdf_response(page, ORDER_KIND, _order_subject(number, location or None))


# ---- a location's pick list ----------------------------------------------------------------


def _batch_urls(code: str, size: str) -> dict[str, str]:
    back = f"/warehouse?{urlencode({'location': code})}"
    return _urls(f"/warehouse/{quote(code, safe='')}/packing-slips", size, back)


@router.get("/warehouse/{code}/packing-slips")
def batch_slips(request: Request, code: str, page: User, size: str | None = None) -> Response:
    page.require(Action.FULFIL)
    db = request.app.state.db
    size = _size(size)
    data = packing_slips.location_slips(db, code)
    packing_slips.record_views(db, page.actor, data["orders"])
    return page.render(
        TEMPLATE,
        pdf=False,
        size=size,
        shop=shop_face(db),
        title=page.gettext("Packing slips · %(location)s", location=data["location"]),
        slips=_with_codes(request, data["slips"]),
        batch=data,
        urls=_batch_urls(data["location"], size),
        back_label=page.gettext("Back to the pick list"),
        state=documents.pdf_state(db, BATCH_KIND, data["location"]),
        can_make=bool(data["slips"]),
        hidden={"size": size},
    )


@router.get("/warehouse/{code}/packing-slips/pdf-state")
def batch_slips_state(request: Request, code: str, page: User, size: str | None = None) -> Response:
    page.require(Action.FULFIL)
    size = _size(size)
    return _state_block(page, _batch_urls(code, size), BATCH_KIND, code, size=size)


@router.post("/warehouse/{code}/packing-slips.pdf")
def batch_slips_pdf(request: Request, code: str, page: User, form: Form) -> Response:
    actor = page.require(Action.FULFIL)
    db = request.app.state.db
    size = _size(form_text(form, "size", 10))
    data = packing_slips.location_slips(db, code)
    back = _batch_urls(data["location"], size)["here"]
    if not data["slips"]:
        page.flash(
            page.gettext("Nothing to pick here: no paid order holds stock at this location."),
            "error",
        )
        return page.redirect(back)
    html = _document_html(
        page,
        size,
        title=page.gettext("Packing slips · %(location)s", location=data["location"]),
        slips=_with_codes(request, data["slips"]),
        batch=data,
    )
    documents.request_pdf(
        db,
        actor,
        BATCH_KIND,
        data["location"],
        f"packing-slips-{data['location']}.pdf",
        html,
        data["orders"],
    )
    page.flash(page.gettext("The PDF is being prepared. It can be downloaded here in a moment."))
    return page.redirect(back)


@router.get("/warehouse/{code}/packing-slips.pdf")
def batch_slips_download(request: Request, code: str, page: User) -> Response:
    page.require(Action.FULFIL)
    return _pdf_response(page, BATCH_KIND, code)
