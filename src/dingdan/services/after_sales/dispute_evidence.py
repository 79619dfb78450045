"""A dispute's evidence: files staff add (photos, receipts, chat logs), kept and served."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, insert, select

from dingdan.db.engine import Database
from dingdan.db.return_tables import DisputeEvidence
from dingdan.domain.after_sales.returns import DisputeStatus
from dingdan.domain.shared.errors import (
    Conflict,
    FieldErrors,
    InvalidTransition,
    NotFound,
)
from dingdan.domain.shared.text import check_clean
from dingdan.services.after_sales.dispute_queries import evidence_view, fetch_dispute, parse_id
from dingdan.services.after_sales.shapes import EvidenceView
from dingdan.services.orders.events import event
from dingdan.services.shared import uploads
from dingdan.services.shared.common import (
    Actor,
)


def upload_dir() -> Path:
    return uploads.upload_dir()


def max_upload_bytes() -> int:
    return uploads.max_upload_bytes()


def _check_file(filename: Any, data: bytes, note: Any) -> str:
    errors = FieldErrors()
    if note is not None and (not isinstance(note, str) or len(note) > 1000):
        errors.add("note", "too_long", max=1000)
    else:
        check_clean(note, "note", errors, multiline=True)
    return uploads.check_file(
        filename, data, errors=errors, detail="The evidence file was refused."
    )


def _store(dispute_id: int, data: bytes, kind: str) -> tuple[str, str]:
    return uploads.store(f"disputes/{dispute_id}", data, kind)


def add_evidence(
    db: Database, actor: Actor, dispute_id: str, filename: Any, data: bytes, note: Any = None
) -> EvidenceView:
    kind = _check_file(filename, data, note)
    d = db.read(lambda conn: fetch_dispute(conn, dispute_id))
    digest, relative = _store(d.id, data, kind)

    def work(conn: Connection) -> EvidenceView:
        d = fetch_dispute(conn, dispute_id)
        if d.status == DisputeStatus.CLOSED:
            raise InvalidTransition(detail=f"Dispute {d.id} is closed.")
        eid = conn.execute(
            insert(DisputeEvidence)
            .values(
                dispute_id=d.id,
                filename=Path(str(filename)).name[:255] or "evidence",
                content_type=kind,
                size=len(data),
                sha256=digest,
                path=relative,
                note=note,
                uploaded_by=actor.name,
            )
            .returning(DisputeEvidence.id)
        ).scalar_one()
        event(
            conn,
            d.order_id,
            "dispute_evidence",
            actor.name,
            f"Dispute {d.id}: evidence {Path(str(filename)).name} ({kind})",
            {"dispute_id": str(d.id), "evidence_id": str(eid), "sha256": digest},
        )
        row = conn.execute(select(DisputeEvidence).where(DisputeEvidence.id == eid)).one()
        return evidence_view(row)

    return db.write(work)


def evidence_file(db: Database, dispute_id: str, evidence_id: str) -> tuple[bytes, str, str]:
    """The file's bytes, content type and name, after checking them against the checksum."""

    def work(conn: Connection) -> Any:
        d = fetch_dispute(conn, dispute_id)
        row = conn.execute(
            select(DisputeEvidence).where(
                DisputeEvidence.id == parse_id(evidence_id), DisputeEvidence.dispute_id == d.id
            )
        ).first()
        if row is None:
            raise NotFound(detail=f"No evidence {evidence_id!r} on dispute {dispute_id}.")
        return row

    row = db.read(work)
    try:
        data = (upload_dir() / row.path).read_bytes()
    except OSError as exc:
        raise NotFound(detail=f"The file of evidence {evidence_id} is missing.") from exc
    if hashlib.sha256(data).hexdigest() != row.sha256:
        raise Conflict(detail=f"The file of evidence {evidence_id} fails its checksum.")
    return data, row.content_type, uploads.download_name(row.filename, row.content_type)
