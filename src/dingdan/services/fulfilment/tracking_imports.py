"""Tracking events from staff: a file (CSV or XLSX, ``import_file``) or a JSON list
(``record_list``), stored and applied as the carriers' webhook does
(``tracking_events``). Every row or item is checked first; a bad one stores nothing and
each is listed (a file's by row number and column), unless a file is sent with
``skip_bad``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection

from dingdan.db.engine import Database
from dingdan.domain.fulfilment import tracking as rules
from dingdan.domain.fulfilment.tracking import TrackingEvent
from dingdan.domain.shared.errors import DomainError, FieldError, FieldErrors, ValidationFailed
from dingdan.services.catalog import imports
from dingdan.services.catalog.imports import ROW_KEY, RowError
from dingdan.services.fulfilment.carriers import resolve_carrier
from dingdan.services.fulfilment.tracking_events import MAX_EVENTS, Outcome, store_batch
from dingdan.services.shared.common import Actor, audit

COLUMNS_REQUIRED = ("carrier", "tracking_number", "status", "time")
COLUMNS = (*COLUMNS_REQUIRED, "location", "exception", "description", "id")


def _carrier_of(conn: Connection, value: Any, field_name: str, errors: FieldErrors) -> str | None:
    try:
        return resolve_carrier(conn, value)[0]
    except ValidationFailed as exc:
        for e in exc.errors:
            errors.items.append(FieldError(field_name, e.code, e.message, e.params))
        return None


def record_list(db: Database, actor: Actor, items: Any) -> Outcome:
    """``[{"carrier", "tracking_number", "status", "occurred_at", ...}]``, all or nothing."""
    if not isinstance(items, list) or not items:
        raise ValidationFailed.on("items", "too_few_items", min=1)
    if len(items) > MAX_EVENTS:
        raise ValidationFailed.on("items", "too_many_items", max=MAX_EVENTS)

    def work(conn: Connection) -> Outcome:
        errors = FieldErrors()
        batch: list[tuple[str, TrackingEvent]] = []
        for i, item in enumerate(items):
            carrier = _carrier_of(conn, (item or {}).get("carrier"), f"items[{i}].carrier", errors)
            ev = rules.check_event(item, f"items[{i}].", errors)
            if carrier is not None and ev is not None:
                batch.append((carrier, ev))
        errors.raise_if_any("Some tracking events are not valid.")
        out = store_batch(conn, batch, "api", actor.name, Outcome())
        audit(conn, actor, "import", "tracking_events", "api", after=_counts(out))
        return out

    return db.write(work)


def _counts(out: Outcome) -> dict[str, int]:
    names = ("applied", "stored", "duplicates", "unmatched", "skipped")
    return {n: getattr(out, n) for n in names}


def _row_event(conn: Connection, row: imports.Row, carriers: dict[str, Any]) -> Any:
    """(carrier code, event, errors) of one row; errors name the file's columns."""
    given = str(row.get("carrier") or "")
    if given not in carriers:
        found = FieldErrors()
        carriers[given] = (_carrier_of(conn, row.get("carrier"), "carrier", found), found.items)
    code, carrier_errors = carriers[given]
    checked = FieldErrors()
    data = {k: v for k, v in row.items() if k not in (ROW_KEY, "time")}
    ev = rules.check_event({**data, "occurred_at": row.get("time")}, "", checked)
    errors = FieldErrors()
    errors.items = list(carrier_errors) + [
        FieldError("time", e.code, e.message, e.params) if e.field == "occurred_at" else e
        for e in checked.items
    ]
    return code, ev, errors


def _check_columns(rows: Sequence[imports.Row]) -> None:
    errors = FieldErrors()
    if not rows:
        errors.add("file", "no_data_rows")
    seen = {k for r in rows for k in r if k != ROW_KEY}
    if missing := [c for c in COLUMNS_REQUIRED if c not in seen]:
        errors.add("file", "missing_columns", columns=", ".join(missing))
    if unknown := sorted(seen - set(COLUMNS)):
        listed, expected = ", ".join(unknown), ", ".join(COLUMNS)
        errors.add("file", "unknown_columns", columns=listed, expected=expected)
    errors.raise_if_any("The file's columns are not the ones expected.")


def import_file(
    db: Database, actor: Actor, filename: Any, data: bytes, *, skip_bad: bool = False
) -> Outcome:
    """A CSV (UTF-8, with or without BOM) or XLSX file of tracking events, one per row:
    ``carrier, tracking_number, status, time`` and optionally ``location, exception,
    description, id``. A bad row stops the file (nothing stored, every bad row listed by
    number and column) unless ``skip_bad``."""
    rows = imports.read_upload(filename, data)
    _check_columns(rows)

    def work(conn: Connection) -> Outcome:
        out = Outcome()
        cache: dict[str, Any] = {}
        batch: list[tuple[str, TrackingEvent]] = []
        for i, row in enumerate(rows):
            number = int(row.get(ROW_KEY) or i + 2)
            code, ev, errors = _row_event(conn, row, cache)
            if errors:
                out.errors += [RowError.of(number, e) for e in errors.items]
                out.skipped += 1
            else:
                batch.append((code, ev))
        if out.errors and not skip_bad:
            raise _RowsRefused(out)
        store_batch(conn, batch, "csv", actor.name, out)
        name = str(filename)[:100]
        audit(conn, actor, "import", "tracking_events", name, after=_counts(out))
        return out

    try:
        return db.write(work)
    except _RowsRefused as refused:
        refused.outcome.skipped = 0
        return refused.outcome


class _RowsRefused(DomainError):
    """Rolls the file's transaction back; the rows are reported, not raised."""

    def __init__(self, outcome: Outcome) -> None:
        super().__init__(detail="The file has bad rows.")
        self.outcome = outcome
