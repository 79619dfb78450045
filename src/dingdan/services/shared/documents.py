"""Documents made in the background: PDFs of packing slips, pick lists and purchase orders
(the last also attached to the supplier's email: services/messaging/sending.py).

The page renders the slip's HTML; a PDF is asked for by storing that HTML as a ``pending``
document, in one short transaction. The worker (``render_pending``) claims it, turns it into
a PDF with WeasyPrint outside any transaction (it takes a while, and SQLite has one writer),
stores the file by checksum under the upload directory, and marks the document ``ready``.
Requests never render PDFs themselves.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from sqlalchemy import Connection, insert, or_, select, update

from dingdan.db.document_tables import Document
from dingdan.db.engine import Database
from dingdan.db.types import utcnow
from dingdan.domain.shared.errors import NotFound, ValidationFailed
from dingdan.services.shared import uploads
from dingdan.services.shared.common import Actor, iso
from dingdan.services.shared.view_types import (
    DocumentView,
    LatestPdf,
    PdfRequested,
    PdfState,
    StoredFile,
)

log = logging.getLogger("dingdan.documents")

KINDS = ("packing_slip", "packing_slips", "pick_lists", "purchase_order")
MAX_ATTEMPTS = 3
# A claim older than this is taken as lost (the worker died while rendering).
CLAIM_MINUTES = 10
MAX_HTML_CHARS = 20_000_000


# ---- PDF documents -------------------------------------------------------------------------


def _check(kind: str, subject: str) -> None:
    if kind not in KINDS:
        raise ValidationFailed.on("kind", "not_one_of", choices=", ".join(KINDS))
    if not subject or len(subject) > 100:
        raise ValidationFailed.on("subject", "text_length", max=100)


def request_pdf(
    db: Database,
    actor: Actor,
    kind: str,
    subject: str,
    filename: str,
    source: str,
    order_numbers: list[str],
) -> PdfRequested:
    """Queue the PDF of ``source`` (a complete HTML document showing ``order_numbers``) for
    the worker. A request waiting and not yet taken by the worker is replaced rather than
    queued twice."""
    _check(kind, subject)
    if not source or len(source) > MAX_HTML_CHARS:
        raise ValidationFailed.on("html", "document_too_large")
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


def _doc_view(d: Any) -> DocumentView:
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


def pdf_state(db: Database, kind: str, subject: str) -> PdfState:
    """``pending`` (being prepared), the latest ``ready`` document (or None), and whether the
    latest request ``failed``."""
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


def current_pdf_id(db: Database, kind: str, subject: str) -> int | None:
    """The latest document of ``subject`` that is ready or being made (None: none, or the
    latest failed): what an email attaches."""
    row = db.read(
        lambda conn: conn.execute(
            select(Document.id, Document.status)
            .where(Document.kind == kind, Document.subject == subject)
            .order_by(Document.id.desc())
            .limit(1)
        ).first()
    )
    return None if row is None or row.status == "failed" else int(row.id)


def stored_files(conn: Connection, document_ids: list[int]) -> list[StoredFile]:
    """Where each document's file is kept (``status``, ``filename``, ``storage_path``,
    ``sha256``), in the order given; the bytes are read with ``uploads.read`` outside the
    transaction."""
    if not document_ids:
        return []
    rows = {
        r.id: r
        for r in conn.execute(
            select(
                Document.id,
                Document.status,
                Document.filename,
                Document.storage_path,
                Document.sha256,
            ).where(Document.id.in_(document_ids))
        )
    }
    return [
        {
            "id": i,
            "status": rows[i].status,
            "filename": rows[i].filename,
            "storage_path": rows[i].storage_path,
            "sha256": rows[i].sha256,
        }
        for i in document_ids
        if i in rows
    ]


def latest_pdf(db: Database, kind: str, subject: str) -> LatestPdf:
    """The latest rendered PDF: ``data`` (bytes), ``filename``, ``order_numbers`` (whose
    views to audit); NotFound when none is ready yet."""
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
