"""The printed e-invoice proof (電子發票證明聯) as a PDF.

``render_proof`` draws ``domain.invoicing.proof``'s values on the 5.7 cm thermal layout (or
on A4, with the lines and the tax shown apart, which a B2B buyer files): the Code 39 barcode
and the two QR codes (the same size, side by side, as the specification asks) as inline SVG,
the text in Noto Sans CJK TC, rendered with WeasyPrint. It takes a while: call it from the
worker, not from a request. The text is the regulation's Chinese, whatever the page language.
"""

from __future__ import annotations

import html
from decimal import Decimal
from functools import lru_cache
from typing import Any, Literal

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup
from sqlalchemy import Connection, insert, select

from dingdan.config import Settings, get_settings
from dingdan.db.engine import Database
from dingdan.domain.invoicing import proof, qr
from dingdan.domain.invoicing.documents import EInvoice
from dingdan.domain.shared.errors import Conflict, NotFound
from dingdan.services.invoicing.shapes import SettingsView
from dingdan.services.shared import documents
from dingdan.services.shared.common import Actor, audit
from dingdan.services.shared.documents import html_to_pdf

Paper = Literal["thermal", "a4"]


@lru_cache(maxsize=1)
def _env() -> Environment:
    return Environment(
        loader=PackageLoader("dingdan.services.invoicing", "templates"),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _svg_bars(modules: str, height: int, label: str) -> Markup:
    """Bars of a one-dimensional code (``1`` dark, ``0`` light) as SVG, with quiet zones."""
    quiet = 10
    width = len(modules) + 2 * quiet
    bars, x = [], 0
    while x < len(modules):
        if modules[x] == "1":
            run = len(modules[x:]) - len(modules[x:].lstrip("1"))
            bars.append(f"M{x + quiet} 0h{run}v{height}h-{run}z")
            x += run
        else:
            x += 1
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="{html.escape(label)}"'
        f' viewBox="0 0 {width} {height}" preserveAspectRatio="none"'
        f' shape-rendering="crispEdges"><rect width="{width}" height="{height}" fill="#fff"/>'
        f'<path fill="#000" d="{"".join(bars)}"/></svg>'
    )


def code39_svg(text: str) -> Markup:
    """Code 39 of ``text`` without a check character (the proof's barcode has none)."""
    import barcode

    code = barcode.get_barcode_class("code39")(text, add_checksum=False)
    return _svg_bars(code.build()[0], 40, text)


def qr_svgs(left: str, right: str) -> tuple[Markup, Markup]:
    """Both QR codes at the same version (so the same size), error correction L."""
    import segno

    first = segno.make(left, error="l", micro=False, boost_error=False)
    second = segno.make(right, error="l", micro=False, boost_error=False)
    version = max(int(first.version), int(second.version))
    pair = (
        segno.make(text, error="l", version=version, micro=False, boost_error=False)
        for text in (left, right)
    )
    return tuple(  # type: ignore[return-value]
        Markup(code.svg_inline(scale=1, border=4, omitsize=True, dark="#000", light="#fff"))
        for code in pair
    )


def _money(amount: Decimal) -> str:
    return f"{int(amount):,}"


def _qty(quantity: Decimal) -> str:
    if quantity == quantity.to_integral_value():
        return str(int(quantity))
    return format(quantity.normalize(), "f")


def qr_key_from(settings: Settings) -> bytes:
    """The seller's QR key (``DINGDAN_EINVOICE_QR_AES_KEY``); QrKeyError when unset or bad."""
    return qr.parse_key(settings.einvoice_qr_aes_key.get_secret_value())


def proof_html(einvoice: EInvoice, qr_key: bytes, paper: Paper | None = None) -> str:
    """The proof as a self-contained HTML document (nothing fetched)."""
    p = proof.build(einvoice, qr_key)
    chosen: Paper = paper or ("a4" if einvoice.is_b2b else "thermal")
    left, right = qr_svgs(p.qr_left, p.qr_right)
    context: dict[str, Any] = {
        "p": p,
        "paper": chosen,
        "barcode_svg": code39_svg(p.barcode),
        "qr_left_svg": left,
        "qr_right_svg": right,
        "money": _money,
        "qty": _qty,
    }
    return _env().get_template("einvoice_proof.html").render(**context)


def render_proof(
    einvoice: EInvoice,
    settings: Settings | None = None,
    *,
    paper: Paper | None = None,
    qr_key: bytes | None = None,
) -> bytes:
    """The PDF of an issued e-invoice's proof: thermal 5.7 cm for B2C, A4 for B2B unless
    ``paper`` says otherwise. The QR key is ``qr_key`` or the settings'."""
    key = qr_key if qr_key is not None else qr_key_from(settings or get_settings())
    return html_to_pdf(proof_html(einvoice, key, paper))


KIND = "einvoice_proof"


def queue(conn: Connection, inv: Any, settings: SettingsView, actor: str) -> None:
    """The proof of a newly issued e-invoice, for the worker to render into the documents
    store (services/shared/documents.py), as the A4 PDF is: only where paper is wanted (a
    printed B2C invoice, or B2B), and only once the seller's QR key is set (without it the
    proof cannot be made; ``proof_of`` then says which setting is missing)."""
    from dingdan.db.document_tables import Document
    from dingdan.db.order_tables import Order
    from dingdan.services.invoicing import building

    if not inv.einvoice or inv.status != "issued" or not inv.number:
        return
    doc = building.einvoice_of(conn, inv, settings)
    if not doc.printed:
        return
    try:
        key = qr_key_from(get_settings())
    except qr.QrKeyError:
        return
    order_number = conn.execute(select(Order.number).where(Order.id == inv.order_id)).scalar_one()
    conn.execute(
        insert(Document).values(
            kind=KIND,
            subject=inv.number,
            status="pending",
            attempts=0,
            html=proof_html(doc, key),
            filename=f"einvoice-proof-{inv.number}.pdf",
            requested_by=actor,
            order_numbers=[order_number],
        )
    )


def proof_of(db: Database, actor: Actor, number: str) -> tuple[bytes, str]:
    """The printed proof (證明聯) of an issued e-invoice: the file the worker rendered, or
    (none yet, e.g. a carrier invoice whose buyer asks for paper after all) rendered now;
    the download is in the audit trail. An invoice that is not an issued e-invoice has no
    proof (409); without the seller's QR key the proof cannot be made (409, saying which
    setting)."""
    from dingdan.services.invoicing import building, queries
    from dingdan.services.invoicing import settings as invoicing_settings

    def read(conn: Connection) -> EInvoice:
        inv = queries._by_number(conn, number)
        if not inv.einvoice or inv.status != "issued":
            raise Conflict(detail=f"Invoice {number} is not an issued e-invoice: no proof.")
        return building.einvoice_of(conn, inv, invoicing_settings.read(conn))

    doc = db.read(read)
    filename = f"einvoice-proof-{number}.pdf"
    try:
        data = documents.latest_pdf(db, KIND, number)["data"]
    except NotFound:
        try:
            key = qr_key_from(get_settings())
        except qr.QrKeyError:
            raise Conflict(
                detail="The proof's QR codes need the seller's QR key: set "
                "DINGDAN_EINVOICE_QR_AES_KEY (docs/einvoice-centres.md)."
            ) from None
        data = render_proof(doc, qr_key=key)
    db.write(lambda conn: audit(conn, actor, "download", "invoice", number))
    return data, filename
