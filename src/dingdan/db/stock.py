"""Stock SQL: every change of a level is one conditional statement plus a ledger row.

Rules that make overselling impossible (see docs/architecture.md):
- a level changes only through ``apply``, which writes the movement rows in the same
  transaction;
- each row is changed by ONE statement whose WHERE clause carries the condition
  (``on_hand + Δon_hand >= reserved + Δreserved`` and ``reserved + Δreserved >= 0``), so the
  database, not Python, decides under its own row lock; there is no read-then-write;
- rows are touched in a fixed order, (product_id, location_id), so two transactions that
  need the same rows queue behind each other instead of deadlocking.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, and_, func, insert, literal, select, text, union

from dingdan.db.prepared import Prepared
from dingdan.db.tables import StockLevel, StockMovement
from dingdan.db.types import utcnow
from dingdan.domain.shared.errors import InsufficientStock


@dataclass(frozen=True)
class Move:
    product_id: int
    location_id: int
    kind: str
    on_hand_delta: int = 0
    reserved_delta: int = 0


@dataclass(frozen=True)
class Refused:
    """A move the database refused: the level did not have what it needed."""

    move: Move


def apply(
    conn: Connection,
    moves: Sequence[Move],
    *,
    actor: str,
    reason: str | None = None,
    reference: str | None = None,
) -> None:
    """Apply ``moves`` atomically or raise ``InsufficientStock`` (the caller's transaction
    is then rolled back, so no move of the batch survives)."""
    refused = try_apply(conn, moves, actor=actor, reason=reason, reference=reference)
    if refused is not None:
        raise InsufficientStock(detail="Not enough stock for this change.")


def try_apply(
    conn: Connection,
    moves: Sequence[Move],
    *,
    actor: str,
    reason: str | None = None,
    reference: str | None = None,
) -> Refused | None:
    """Like ``apply`` but reports the first refused move instead of raising. Moves before
    it have been applied: the caller must roll back (raise) when it gets a refusal."""
    merged = merge(moves)
    for move in merged:
        if not _change_level(conn, move):
            return Refused(move)
    _write_ledger(conn, moves, actor, reason, reference)
    return None


def try_apply_all(
    conn: Connection,
    moves: Sequence[Move],
    *,
    actor: str,
    reason: str | None = None,
    reference: str | None = None,
) -> bool:
    """``try_apply`` for moves that add no stock (reservations): the conditional statements,
    still one per row and in lock order, go to the database as one executemany (one round
    trip with psycopg's pipeline), and the answer is only whether every row took its change.
    False: some move was refused and others may have been applied, so the caller must roll
    back (raise), as with ``try_apply``."""
    merged = merge(moves)
    if any(m.on_hand_delta > 0 for m in merged):
        return try_apply(conn, moves, actor=actor, reason=reason, reference=reference) is None
    if merged:
        params = [
            {
                "p": m.product_id,
                "l": m.location_id,
                "doh": m.on_hand_delta,
                "dres": m.reserved_delta,
            }
            for m in merged
        ]
        # Each statement changes at most one row (the key is unique): the summed row count
        # is the number of rows that took their change.
        if _CHANGE.run_many(conn, params) != len(merged):
            return False
    _write_ledger(conn, moves, actor, reason, reference)
    return True


def _write_ledger(
    conn: Connection,
    moves: Sequence[Move],
    actor: str,
    reason: str | None,
    reference: str | None,
) -> None:
    now = utcnow()
    rows = [dict(row, created_at=now) for row in ledger_rows(moves, actor, reason, reference)]
    _LEDGER.run_many(conn, rows)


def ledger_rows(
    moves: Sequence[Move], actor: str, reason: str | None, reference: str | None
) -> list[dict[str, Any]]:
    """The ledger's rows for ``moves`` (a move that changes nothing has none), without their
    time; PostgreSQL's capture function writes them as given (db/sql/place_order.sql)."""
    return [
        {
            "product_id": m.product_id,
            "location_id": m.location_id,
            "kind": m.kind,
            "on_hand_delta": m.on_hand_delta,
            "reserved_delta": m.reserved_delta,
            "reason": reason,
            "reference": reference,
            "actor": actor,
        }
        for m in moves
        if m.on_hand_delta or m.reserved_delta
    ]


def merge(moves: Iterable[Move]) -> list[Move]:
    """One net change per row, in lock order."""
    net: dict[tuple[int, int], list[int]] = defaultdict(lambda: [0, 0])
    for m in moves:
        acc = net[(m.product_id, m.location_id)]
        acc[0] += m.on_hand_delta
        acc[1] += m.reserved_delta
    return [Move(p, loc, "net", oh, rs) for (p, loc), (oh, rs) in sorted(net.items()) if oh or rs]


# Built once: the hot path only binds parameters (both dialects speak this SQL).
_CHANGE = Prepared(
    text(
        "UPDATE stock_levels SET on_hand = on_hand + :doh, reserved = reserved + :dres"
        " WHERE product_id = :p AND location_id = :l"
        " AND on_hand + :doh >= reserved + :dres AND reserved + :dres >= 0"
    )
)
_ENSURE = Prepared(
    text(
        "INSERT INTO stock_levels (product_id, location_id, on_hand, reserved)"
        " VALUES (:p, :l, 0, 0) ON CONFLICT (product_id, location_id) DO NOTHING"
    )
)
_LEDGER = Prepared(insert(StockMovement))


def _change_level(conn: Connection, m: Move) -> bool:
    params = {
        "p": m.product_id,
        "l": m.location_id,
        "doh": m.on_hand_delta,
        "dres": m.reserved_delta,
    }
    if m.on_hand_delta > 0:
        _ENSURE.run(conn, params)
    return _CHANGE.run(conn, params) == 1


@dataclass(frozen=True)
class Difference:
    product_id: int
    location_id: int
    level_on_hand: int
    level_reserved: int
    ledger_on_hand: int
    ledger_reserved: int


def verify(conn: Connection) -> list[Difference]:
    """Every (product, location) whose level differs from the sums of its ledger."""
    lv = StockLevel.__table__.c
    mv = StockMovement.__table__.c
    sums = (
        select(
            mv.product_id,
            mv.location_id,
            func.sum(mv.on_hand_delta).label("on_hand"),
            func.sum(mv.reserved_delta).label("reserved"),
        )
        .group_by(mv.product_id, mv.location_id)
        .subquery()
    )
    keys = union(
        select(lv.product_id, lv.location_id),
        select(sums.c.product_id, sums.c.location_id),
    ).subquery()
    zero = literal(0)
    query = (
        select(
            keys.c.product_id,
            keys.c.location_id,
            func.coalesce(lv.on_hand, zero),
            func.coalesce(lv.reserved, zero),
            func.coalesce(sums.c.on_hand, zero),
            func.coalesce(sums.c.reserved, zero),
        )
        .select_from(keys)
        .outerjoin(
            StockLevel,
            and_(lv.product_id == keys.c.product_id, lv.location_id == keys.c.location_id),
        )
        .outerjoin(
            sums,
            and_(sums.c.product_id == keys.c.product_id, sums.c.location_id == keys.c.location_id),
        )
        .order_by(keys.c.product_id, keys.c.location_id)
    )
    out = []
    for row in conn.execute(query):
        d = Difference(*(int(v) for v in row))
        if (d.level_on_hand, d.level_reserved) != (d.ledger_on_hand, d.ledger_reserved):
            out.append(d)
    return out
