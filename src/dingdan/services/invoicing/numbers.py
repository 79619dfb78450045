"""Invoice numbers, gapless and never repeated however many orders are paid at once.

An e-invoice takes the next number of the first range of its period with numbers left,
with one conditional ``UPDATE ... RETURNING`` inside the issuing transaction: PostgreSQL
locks the range's row until that transaction ends (a second issuer waits, then sees the
new ``next_no`` and checks ``next_no <= end_no`` again), and SQLite has one writer. A
transaction that rolls back gives its number back with it, so nothing is skipped. A range
used up under a waiting issuer answers no row: it looks again for the next range.

Invoices without e-invoice and allowances are numbered per series and year with one
``INSERT ... ON CONFLICT DO UPDATE ... RETURNING`` on ``invoice_series`` (same guarantees).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, select, text
from sqlalchemy.dialects import postgresql, sqlite

from dingdan.db.invoice_tables import EInvoiceTrack, InvoiceSeries
from dingdan.domain.invoicing import rules

_TAKE = text(
    "UPDATE einvoice_tracks SET next_no = next_no + 1"
    " WHERE id = (SELECT id FROM einvoice_tracks WHERE period = :period AND next_no <= end_no"
    " ORDER BY prefix, start_no, id LIMIT 1) AND next_no <= end_no"
    " RETURNING id, prefix, next_no - 1 AS taken, start_no, end_no"
)


@dataclass(frozen=True)
class Taken:
    track_id: int
    number: str
    low: bool  # this number made the range 80% used
    remaining: int


def take_einvoice_number(conn: Connection, period: str) -> Taken | None:
    """The next number of ``period`` (None: no range of the period has numbers left)."""
    while True:
        row = conn.execute(_TAKE, {"period": period}).first()
        if row is not None:
            return Taken(
                int(row.id),
                rules.einvoice_number(row.prefix, int(row.taken)),
                int(row.taken) == rules.low_threshold(int(row.start_no), int(row.end_no)),
                int(row.end_no) - int(row.taken),
            )
        left = conn.execute(
            select(EInvoiceTrack.id).where(
                EInvoiceTrack.period == period, EInvoiceTrack.next_no <= EInvoiceTrack.end_no
            )
        ).first()
        if left is None:
            return None


def next_in_series(conn: Connection, series: str, year: int) -> str:
    """``INV-2026-000001``, ``AL-2026-000001``: the next of ``series`` in ``year``."""
    key = f"{series}:{year}"
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    stmt = (
        dialect.insert(InvoiceSeries)
        .values(key=key, value=1)
        .on_conflict_do_update(
            index_elements=[InvoiceSeries.key], set_={"value": InvoiceSeries.value + 1}
        )
        .returning(InvoiceSeries.value)
    )
    value = int(conn.execute(stmt).scalar_one())
    return rules.series_number(series, year, value)
