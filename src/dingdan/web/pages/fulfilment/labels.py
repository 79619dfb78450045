"""A shipment's carrier label (T-cat, HCT): a page sized for the carrier's 10 × 10 cm label
with the tracking number as a Code128 barcode, printed from the browser. ``label_document``
is the same page self-contained (CSS inline, no script) for a PDF."""

from __future__ import annotations

from functools import lru_cache

from fastapi import APIRouter
from fastapi.responses import Response
from markupsafe import Markup
from starlette.concurrency import run_in_threadpool

from dingdan.domain.access.roles import Action
from dingdan.services.fulfilment import labels, packing_slips, shapes
from dingdan.services.shared import documents
from dingdan.services.shared.common import Actor
from dingdan.web import i18n
from dingdan.web.pages.shared.core import HERE, Page, PageRoute, User, env

router = APIRouter(route_class=PageRoute, include_in_schema=False)
TEMPLATE = "fulfilment/label.html"


@lru_cache(maxsize=1)
def _css() -> str:
    return (HERE / "static" / "carrier_label.css").read_text(encoding="utf-8")


def _barcode(number: str) -> Markup:
    # Built from digits and path data only (packing_slips.code128_svg): nothing to escape.
    return Markup(packing_slips.code128_svg(number, height=60))  # noqa: S704


def label_document(page: Page, label: shapes.LabelView) -> str:
    """The label as one self-contained HTML document (for WeasyPrint)."""
    ctx = {
        "page": page,
        "html_lang": i18n.HTML_LANG[page.language],
        "_": page._,
        "gettext": page._,
        "ngettext": i18n.ngettext_for(page.language),
        "fmt": page.fmt,
        "carrier_name": page.carrier_name,
        "pdf": True,
        "css": Markup(_css().replace("</", "<\\/")),  # noqa: S704 - our own file
        "l": label,
        "barcode_svg": _barcode(label["number"]),
    }
    return env.get_template(TEMPLATE).render(ctx)


def _read(page: Page, shipment_id: str) -> tuple[Actor, shapes.LabelView]:
    actor = page.require(Action.FULFIL)
    return actor, labels.label_of(page.request.app.state.db, actor, shipment_id)


@router.get("/shipments/{shipment_id}/label")
def label_page(shipment_id: str, page: User) -> Response:
    _, label = _read(page, shipment_id)
    return page.render(TEMPLATE, l=label, pdf=False, barcode_svg=_barcode(label["number"]))


@router.get("/shipments/{shipment_id}/label.pdf")
async def label_pdf(shipment_id: str, page: User) -> Response:
    """The same label as a PDF of one 10 × 10 cm page, made on demand (one small page)."""
    _, label = await run_in_threadpool(_read, page, shipment_id)
    html = await run_in_threadpool(label_document, page, label)
    data = await run_in_threadpool(documents.html_to_pdf, html)
    name = f"label-{label['carrier']}-{label['number']}.pdf"
    return Response(
        content=data,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, no-store",
        },
    )
