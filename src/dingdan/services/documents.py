"""Packing slips: what to pack of an order at a location, its barcodes, and its PDF.

A slip is one order at one ship-from location: the lines still allocated there (reserved and
not yet shipped), so a partly shipped order shows only what is left. The page renders the
HTML; a PDF is asked for by storing that HTML as a ``pending`` document, and the worker
(``render_pending``) turns it into a PDF with WeasyPrint outside any transaction, stores the
file by checksum under the upload directory, and marks the document ``ready``. Requests never
render PDFs themselves.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from sqlalchemy import Connection, insert, or_, select, update

from dingdan.db.document_tables import Document
from dingdan.db.engine import Database
from dingdan.db.order_tables import Allocation, Order, OrderLine
from dingdan.db.tables import Location, Product
from dingdan.db.types import utcnow
from dingdan.domain.errors import NotFound, ValidationFailed
from dingdan.services import locations, picking, uploads
from dingdan.services.common import Actor, audit, iso
from dingdan.services.order_views import fetch

log = logging.getLogger("dingdan.documents")

KINDS = ("packing_slip", "packing_slips")
MAX_ATTEMPTS = 3
# A claim older than this is taken as lost (the worker died while rendering).
CLAIM_MINUTES = 10
MAX_HTML_CHARS = 20_000_000


# ---- slips ---------------------------------------------------------------------------------


def _ship_from(loc: Any) -> dict[str, Any]:
    keys = ("code", "name", "line1", "line2", "city", "region", "postal_code", "country", "phone")
    return {k: getattr(loc, k) for k in keys}


def _ready_to_ship(order: Any) -> bool:
    """The shipping rule of the pick list: open, and paid in full or cash on delivery."""
    paid = order.payment_method == "cod" or order.paid_minor >= order.total_minor
    return bool(order.status == "open" and paid)


def _slips(conn: Connection, orders: list[Any], location_id: int | None) -> list[dict[str, Any]]:
    """One slip per order and location holding its unshipped allocations, in the given order
    of orders, then by location priority; lines in the order's line order."""
    if not orders:
        return []
    stmt = (
        select(
            Allocation.order_id,
            Allocation.location_id,
            OrderLine.sku,
            OrderLine.name,
            OrderLine.quantity.label("ordered"),
            Allocation.quantity,
            Product.barcode,
        )
        .join(OrderLine, OrderLine.id == Allocation.line_id)
        .join(Product, Product.id == Allocation.product_id)
        .join(Location, Location.id == Allocation.location_id)
        .where(Allocation.order_id.in_([o.id for o in orders]))
        .order_by(Allocation.order_id, Location.priority, Location.code, OrderLine.position)
    )
    if location_id is not None:
        stmt = stmt.where(Allocation.location_id == location_id)
    groups: dict[tuple[int, int], list[dict[str, Any]]] = {}
    for r in conn.execute(stmt):
        groups.setdefault((r.order_id, r.location_id), []).append(
            {
                "sku": r.sku,
                "name": r.name,
                "barcode": r.barcode,
                "ordered": r.ordered,
                "to_pack": r.quantity,
            }
        )
    loc_ids = {lid for _, lid in groups}
    locs = {loc.id: loc for loc in conn.execute(select(Location).where(Location.id.in_(loc_ids)))}
    out = []
    for o in orders:
        for (oid, lid), lines in groups.items():
            if oid == o.id:
                out.append(_slip(o, locs[lid], lines))
    return out


def _slip(order: Any, loc: Any, lines: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "number": order.number,
        "channel": order.channel,
        "external_id": order.external_id,
        "status": order.status,
        "ready_to_ship": _ready_to_ship(order),
        "ordered_at": iso(order.created_at),
        "tracking_token": order.tracking_token,
        "customer_name": (order.customer or {}).get("name"),
        "ship_to": dict(order.shipping_address or {}),
        "ship_from": _ship_from(loc),
        "lines": lines,
        "units": sum(ln["to_pack"] for ln in lines),
    }


def order_slips(db: Database, number: str, location: str | None = None) -> dict[str, Any]:
    """The slips of one order (one per location still holding units of it), or only the one
    of ``location``; no slips when nothing is left to pack."""

    def work(conn: Connection) -> dict[str, Any]:
        order = fetch(conn, number)
        loc = locations.fetch(conn, location) if location else None
        return {
            "number": order.number,
            "status": order.status,
            "ready_to_ship": _ready_to_ship(order),
            "location": loc.code if loc else None,
            "slips": _slips(conn, [order], loc.id if loc else None),
        }

    return db.read(work)


def location_slips(db: Database, location: str, limit: int = 100) -> dict[str, Any]:
    """The slips of the orders of a location's pick list (the same orders, in its order)."""
    picks = picking.pick_list(db, location, limit=limit)

    def work(conn: Connection) -> dict[str, Any]:
        loc = locations.fetch(conn, location)
        rows = {
            o.number: o
            for o in conn.execute(select(Order).where(Order.number.in_(picks["orders"])))
        }
        orders = [rows[n] for n in picks["orders"] if n in rows]
        return {
            "location": loc.code,
            "location_name": loc.name,
            "orders": [o.number for o in orders],
            "slips": _slips(conn, orders, loc.id),
        }

    return db.read(work)


def record_views(db: Database, actor: Actor, numbers: list[str]) -> None:
    """Audit the view of each order's slip (name and address) as a view of the order, the
    way the order page is audited; one transaction for a whole batch."""
    if not numbers:
        return

    def work(conn: Connection) -> None:
        for n in dict.fromkeys(numbers):
            audit(conn, actor, "view", "order", n)

    db.write(work)


# ---- barcodes (SVG with presentation attributes only: no style attribute, for our CSP) ----


def code128_svg(value: str, height: int = 40) -> str:
    """An inline Code128 SVG of ``value``, scaled by CSS; empty if it cannot be encoded."""
    import barcode

    try:
        modules = barcode.get("code128", value).build()[0]
    except (barcode.errors.BarcodeError, ValueError, KeyError):
        return ""
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
    label = html.escape(value, quote=True)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="barcode" role="img"'
        f' aria-label="{label}" viewBox="0 0 {width} {height}" preserveAspectRatio="none"'
        f' shape-rendering="crispEdges"><rect width="{width}" height="{height}" fill="#fff"/>'
        f'<path fill="#000" d="{"".join(bars)}"/></svg>'
    )


def qr_svg(text: str) -> str:
    """An inline QR code SVG of ``text`` (error correction M), scaled by CSS."""
    import segno

    code = segno.make(text, error="m", micro=False)
    svg: str = code.svg_inline(
        scale=1, border=2, omitsize=True, svgclass="qr", lineclass=None, dark="#000", light="#fff"
    )
    return svg


# ---- PDF documents -------------------------------------------------------------------------


def _check(kind: str, subject: str) -> None:
    if kind not in KINDS:
        raise ValidationFailed.on("kind", f"must be one of {', '.join(KINDS)}")
    if not subject or len(subject) > 100:
        raise ValidationFailed.on("subject", "must be text of 1 to 100 characters")


def request_pdf(
    db: Database,
    actor: Actor,
    kind: str,
    subject: str,
    filename: str,
    source: str,
    order_numbers: list[str],
) -> dict[str, Any]:
    """Queue the PDF of ``source`` (a complete HTML document showing ``order_numbers``) for
    the worker. A request waiting and not yet taken by the worker is replaced rather than
    queued twice."""
    _check(kind, subject)
    if not source or len(source) > MAX_HTML_CHARS:
        raise ValidationFailed.on("html", "must be a document of at most 20 MB")
    values = {
        "html": source,
        "filename": filename[:255],
        "requested_by": actor.name,
        "order_numbers": list(order_numbers),
    }

    def work(conn: Connection) -> int:
        waiting = conn.execute(
            select(Document.id)
            .where(
                Document.kind == kind,
                Document.subject == subject,
                Document.status == "pending",
                Document.claimed_at.is_(None),
            )
            .order_by(Document.id.desc())
            .limit(1)
        ).scalar()
        if waiting is not None:
            conn.execute(update(Document).where(Document.id == waiting).values(**values))
            return int(waiting)
        new = conn.execute(
            insert(Document)
            .values(kind=kind, subject=subject, status="pending", attempts=0, **values)
            .returning(Document.id)
        ).scalar_one()
        return int(new)

    return {"id": str(db.write(work)), "status": "pending"}


def _doc_view(d: Any) -> dict[str, Any]:
    return {
        "id": str(d.id),
        "status": d.status,
        "filename": d.filename,
        "size_bytes": d.size_bytes,
        "sha256": d.sha256,
        "requested_by": d.requested_by,
        "created_at": iso(d.created_at),
        "rendered_at": iso(d.rendered_at),
    }


def pdf_state(db: Database, kind: str, subject: str) -> dict[str, Any]:
    """``pending`` (being prepared), the latest ``ready`` document (or None), and whether the
    latest request ``failed``."""
    _check(kind, subject)
    cols = (
        Document.id,
        Document.status,
        Document.filename,
        Document.size_bytes,
        Document.sha256,
        Document.requested_by,
        Document.created_at,
        Document.rendered_at,
    )
    rows = db.read(
        lambda conn: conn.execute(
            select(*cols)
            .where(Document.kind == kind, Document.subject == subject)
            .order_by(Document.id.desc())
            .limit(20)
        ).all()
    )
    ready = next((r for r in rows if r.status == "ready"), None)
    return {
        "pending": any(r.status == "pending" for r in rows),
        "failed": bool(rows) and rows[0].status == "failed",
        "ready": _doc_view(ready) if ready else None,
    }


def latest_pdf(db: Database, kind: str, subject: str) -> dict[str, Any]:
    """The latest rendered PDF: ``data`` (bytes), ``filename``, ``order_numbers`` (whose
    views to audit); NotFound when none is ready yet."""
    _check(kind, subject)
    row = db.read(
        lambda conn: conn.execute(
            select(
                Document.storage_path,
                Document.sha256,
                Document.filename,
                Document.order_numbers,
            )
            .where(Document.kind == kind, Document.subject == subject, Document.status == "ready")
            .order_by(Document.id.desc())
            .limit(1)
        ).first()
    )
    if row is None:
        raise NotFound(detail=f"No PDF of {subject} has been made yet.")
    return {
        "data": uploads.read(row.storage_path, row.sha256),
        "filename": row.filename,
        "order_numbers": list(row.order_numbers or []),
    }


def html_to_pdf(source: str) -> bytes:
    """WeasyPrint, fetching nothing but ``data:`` URLs (the HTML is self-contained)."""
    from weasyprint import HTML, URLFetcher

    fetcher = URLFetcher(allowed_protocols=("data",))
    pdf: bytes = HTML(string=source, url_fetcher=fetcher, media_type="print").write_pdf()
    return pdf


def _claim(db: Database, doc_id: int) -> Any:
    """Take one pending document for this worker; None if another took it first."""
    now = utcnow()
    cutoff = now - timedelta(minutes=CLAIM_MINUTES)

    def work(conn: Connection) -> Any:
        taken = conn.execute(
            update(Document)
            .where(
                Document.id == doc_id,
                Document.status == "pending",
                or_(Document.claimed_at.is_(None), Document.claimed_at < cutoff),
            )
            .values(claimed_at=now, attempts=Document.attempts + 1)
        ).rowcount
        if taken != 1:
            return None
        return conn.execute(
            select(Document.id, Document.html, Document.attempts).where(Document.id == doc_id)
        ).first()

    return db.write(work)


def _finish(db: Database, doc_id: int, values: dict[str, Any]) -> None:
    db.write(
        lambda conn: conn.execute(
            update(Document)
            .where(Document.id == doc_id, Document.status == "pending")
            .values(**values)
        )
    )


def _render_one(db: Database, job: Any, render: Callable[[str], bytes]) -> bool:
    try:
        pdf = render(job.html or "")
        if not pdf.startswith(b"%PDF"):
            raise ValueError("the renderer did not return a PDF")
        digest, path = uploads.store("documents", pdf, "application/pdf")
    except Exception as exc:  # noqa: BLE001 - recorded on the document, retried, then failed
        log.warning("document %s failed: %s", job.id, exc)
        last = job.attempts >= MAX_ATTEMPTS
        retry_at = utcnow() - timedelta(minutes=CLAIM_MINUTES - 1)  # again in a minute
        values: dict[str, Any] = {"last_error": str(exc)[:1000] or type(exc).__name__}
        values.update({"status": "failed", "html": None} if last else {"claimed_at": retry_at})
        _finish(db, job.id, values)
        return False
    _finish(
        db,
        job.id,
        {
            "status": "ready",
            "sha256": digest,
            "storage_path": path,
            "size_bytes": len(pdf),
            "rendered_at": utcnow(),
            "html": None,
            "last_error": None,
        },
    )
    return True


def render_pending(
    db: Database, limit: int = 5, render: Callable[[str], bytes] | None = None
) -> int:
    """Render up to ``limit`` waiting documents, oldest first; the number made. Safe to run
    in several workers at once: each document is claimed by one conditional update."""
    cutoff = utcnow() - timedelta(minutes=CLAIM_MINUTES)
    ids = db.read(
        lambda conn: list(
            conn.execute(
                select(Document.id)
                .where(
                    Document.status == "pending",
                    or_(Document.claimed_at.is_(None), Document.claimed_at < cutoff),
                )
                .order_by(Document.id)
                .limit(limit)
            ).scalars()
        )
    )
    done = 0
    for doc_id in ids:
        job = _claim(db, doc_id)
        if job is not None and _render_one(db, job, render or html_to_pdf):
            done += 1
    return done
