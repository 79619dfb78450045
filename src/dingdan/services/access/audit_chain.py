"""The audit trail's hash chain: entries sealed in order, and a check that none was changed.

The audit trail is append-only in the database itself (migration 0026: triggers refuse UPDATE
and DELETE on ``audit_log`` and ``audit_seals``). That stops the application and anyone using
its database account the ordinary way; it does not stop a superuser who drops the trigger,
or a SQLite file edited by hand. The chain finds those: the worker seals each new entry as
the next link, ``hash = SHA-256(previous hash, the entry's canonical JSON)``, and ``verify``
recomputes every link. A changed entry, a removed entry or a removed link breaks the chain
at that point, and ``dingdan audit verify`` says where.

Entries are sealed in the order the sealer sees them committed, which is the order of their
ids except on PostgreSQL when a transaction that took a smaller id commits after a larger
one: the sealer looks back ``LOOKBACK`` ids for such late entries, so the chain's order is
the seal order (``seq``), not the id order. An entry is exposed between its commit and the
next worker round (a few seconds); ``verify`` reports how many wait.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

from sqlalchemy import Connection, exists, func, insert, select, text

from dingdan.db.engine import Database
from dingdan.db.tables import AuditEntry, AuditSeal

GENESIS = "0" * 64
BATCH = 5000
LOOKBACK = 10_000  # ids below the last sealed one still searched for late commits
_LOCK_KEY = 0x0A0D17  # pg_advisory_xact_lock: one sealer at a time across processes


def canonical(entry: Any) -> bytes:
    """The entry as the chain hashes it: its columns as sorted, compact JSON."""
    created = entry.created_at
    return json.dumps(
        {
            "id": int(entry.id),
            "actor": entry.actor,
            "action": entry.action,
            "entity_type": entry.entity_type,
            "entity_id": entry.entity_id,
            "before": entry.before,
            "after": entry.after,
            "created_at": created.isoformat() if created is not None else None,
        },
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        default=str,
    ).encode()


def link(previous: str, entry: Any) -> str:
    return hashlib.sha256(previous.encode() + b"\n" + canonical(entry)).hexdigest()


def seal(db: Database, batch: int = BATCH) -> int:
    """Seal the entries not yet in the chain (at most ``batch``); answers how many."""

    def waiting(conn: Connection) -> bool:
        floor = conn.execute(select(func.max(AuditSeal.entry_id))).scalar() or 0
        sealed = exists().where(AuditSeal.entry_id == AuditEntry.id)
        unsealed = select(AuditEntry.id).where(AuditEntry.id > floor - LOOKBACK, ~sealed)
        return conn.execute(unsealed.limit(1)).first() is not None

    if not db.read(waiting):  # most rounds: nothing new, and no write transaction
        return 0

    def work(conn: Connection) -> int:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _LOCK_KEY})
        last = conn.execute(
            select(AuditSeal.seq, AuditSeal.hash, AuditSeal.entry_id)
            .order_by(AuditSeal.seq.desc())
            .limit(1)
        ).first()
        seq, previous = (int(last.seq), last.hash) if last else (0, GENESIS)
        floor = conn.execute(select(func.max(AuditSeal.entry_id))).scalar() or 0
        sealed = exists().where(AuditSeal.entry_id == AuditEntry.id)
        entries = conn.execute(
            select(AuditEntry)
            .where(AuditEntry.id > floor - LOOKBACK, ~sealed)
            .order_by(AuditEntry.id)
            .limit(batch)
        ).all()
        rows = []
        for entry in entries:
            seq += 1
            previous = link(previous, entry)
            rows.append({"seq": seq, "entry_id": entry.id, "hash": previous})
        if rows:
            conn.execute(insert(AuditSeal), rows)
        return len(rows)

    return db.write(work)


def seal_all(db: Database) -> int:
    total = 0
    while n := seal(db):
        total += n
    return total


@dataclass
class Verdict:
    sealed: int = 0
    unsealed: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        return not self.problems


def verify(db: Database, max_problems: int = 20) -> Verdict:
    """Recompute the whole chain, streaming; name the first ``max_problems`` breaks."""

    def work(conn: Connection) -> Verdict:
        verdict = Verdict()
        previous, expected_seq = GENESIS, 1
        for seal_row, entry in _links(conn):
            verdict.sealed += 1
            if seal_row.seq != expected_seq:
                verdict.problems.append(
                    f"link {expected_seq} to {seal_row.seq - 1} missing (removed from the chain)"
                )
            expected_seq = seal_row.seq + 1
            if entry is None:
                verdict.problems.append(
                    f"link {seal_row.seq}: audit entry {seal_row.entry_id} was removed"
                )
            elif link(previous, entry) != seal_row.hash:
                verdict.problems.append(
                    f"link {seal_row.seq}: audit entry {seal_row.entry_id} was changed"
                    " (or an earlier link was)"
                )
            previous = seal_row.hash
            if len(verdict.problems) >= max_problems:
                break
        verdict.unsealed = int(
            conn.execute(
                select(func.count())
                .select_from(AuditEntry)
                .where(~exists().where(AuditSeal.entry_id == AuditEntry.id))
            ).scalar_one()
        )
        return verdict

    return db.read(work)


_ENTRY_COLUMNS = (
    "id",
    "actor",
    "action",
    "entity_type",
    "entity_id",
    "before",
    "after",
    "created_at",
)


def _links(conn: Connection, page: int = 2000) -> Iterator[tuple[Any, Any]]:
    """(link, entry or None) in chain order, a page at a time."""
    columns = [getattr(AuditEntry, c).label(f"e_{c}") for c in _ENTRY_COLUMNS]
    after = 0
    while True:
        rows = conn.execute(
            select(AuditSeal.seq, AuditSeal.entry_id, AuditSeal.hash, *columns)
            .outerjoin(AuditEntry, AuditEntry.id == AuditSeal.entry_id)
            .where(AuditSeal.seq > after)
            .order_by(AuditSeal.seq)
            .limit(page)
        ).all()
        if not rows:
            return
        for row in rows:
            entry = None
            if row.e_id is not None:
                entry = SimpleNamespace(**{c: getattr(row, f"e_{c}") for c in _ENTRY_COLUMNS})
            yield row, entry
        after = int(rows[-1].seq)
