"""Invoicing settings and e-invoice number ranges (字軌).

The settings live in the ``settings`` table under ``invoicing``; until they are saved no
invoice is issued (a shop that has not said who it is cannot put its name on one). A new
range emits ``einvoice.range_added``, whose consumer issues the invoices left pending for
want of numbers (services/invoicing/issuing.py).
"""

from __future__ import annotations

import re
from typing import Any, cast

from sqlalchemy import Connection, and_, insert, select
from sqlalchemy.dialects import postgresql, sqlite

from dingdan.db.engine import Database
from dingdan.db.invoice_tables import EInvoiceTrack, Invoice
from dingdan.db.tables import Setting, table_of
from dingdan.db.types import utcnow
from dingdan.domain.invoicing import mig, rules
from dingdan.domain.shared.business_ids import is_valid_tw_ubn
from dingdan.domain.shared.errors import Conflict, FieldError, FieldErrors, ValidationFailed
from dingdan.domain.shared.text import check_clean
from dingdan.services.invoicing.shapes import (
    BlankNumbers,
    BlankRun,
    SettingsCommand,
    SettingsView,
    TrackCommand,
    TrackList,
    TrackView,
)
from dingdan.services.shared.common import Actor, audit, iso
from dingdan.services.shared.outbox_events import emit

SETTING_KEY = "invoicing"
ISSUE_ON = ("payment", "shipment")
_TEXT_FIELDS = {"seller_name": 200, "seller_address": 300, "seller_phone": 40, "seller_email": 254}


def defaults() -> SettingsView:
    return {
        "seller_name": "",
        "seller_ubn": None,
        "seller_address": None,
        "seller_phone": None,
        "seller_email": None,
        "einvoice": False,
        "issue_on": "payment",
        "void_closing_day": rules.DEFAULT_VOID_CLOSING_DAY,
        "configured": False,
    }


def read(conn: Connection) -> SettingsView:
    stored = conn.execute(select(Setting.value).where(Setting.key == SETTING_KEY)).scalar()
    out = defaults()
    if isinstance(stored, dict):
        # What ``put`` stored, every field checked by ``_check`` on its way in.
        out = cast(SettingsView, {**out, **{k: v for k, v in stored.items() if k in out}})
        out["configured"] = True
    return out


def get(db: Database) -> SettingsView:
    return db.read(read)


def _check(body: SettingsCommand) -> dict[str, Any]:
    errors = FieldErrors()
    out: dict[str, Any] = dict(defaults())
    for key, most in _TEXT_FIELDS.items():
        value = body.get(key)
        if value is None:
            if key == "seller_name":
                errors.add(key, "required")
            continue
        if not isinstance(value, str) or not value.strip() or len(value) > most:
            errors.add(key, "text_length", max=most)
            continue
        check_clean(value, key, errors)
        out[key] = value.strip()
    ubn = body.get("seller_ubn")
    if ubn is not None and (not isinstance(ubn, str) or not is_valid_tw_ubn(ubn.strip())):
        errors.add("seller_ubn", "invalid_ubn")
    elif ubn is not None:
        out["seller_ubn"] = ubn.strip()
    einvoice = body.get("einvoice")
    if not isinstance(einvoice, bool):
        errors.add("einvoice", "required")
    elif einvoice and out["seller_ubn"] is None and not errors:
        errors.add("seller_ubn", "required")
    out["einvoice"] = bool(einvoice)
    issue_on = body.get("issue_on", "payment")
    if issue_on not in ISSUE_ON:
        errors.add("issue_on", "not_one_of", choices=", ".join(ISSUE_ON))
    out["issue_on"] = issue_on
    day = body.get("void_closing_day", rules.DEFAULT_VOID_CLOSING_DAY)
    if not isinstance(day, int) or isinstance(day, bool) or not 1 <= day <= 28:
        errors.add("void_closing_day", "out_of_range", min=1, max=28)
    out["void_closing_day"] = day
    errors.raise_if_any()
    out.pop("configured")
    return out


def put(db: Database, actor: Actor, body: SettingsCommand) -> SettingsView:
    value = _check(body)

    def work(conn: Connection) -> SettingsView:
        before: dict[str, Any] = dict(read(conn))
        stmt = (postgresql if db.dialect == "postgresql" else sqlite).insert(Setting)
        conn.execute(
            stmt.values(key=SETTING_KEY, value=value, updated_at=utcnow()).on_conflict_do_update(
                index_elements=[Setting.key], set_={"value": value, "updated_at": utcnow()}
            )
        )
        before.pop("configured")
        audit(conn, actor, "update", "invoicing_settings", SETTING_KEY, before, value)
        return read(conn)

    return db.write(work)


# Number ranges --------------------------------------------------------------------------------


def track_view(t: Any) -> TrackView:
    size = t.end_no - t.start_no + 1
    return {
        "id": str(t.id),
        "period": t.period,
        "prefix": t.prefix,
        "start": f"{t.start_no:08d}",
        "end": f"{t.end_no:08d}",
        "next": f"{t.next_no:08d}" if t.next_no <= t.end_no else None,
        "used": t.next_no - t.start_no,
        "remaining": size - (t.next_no - t.start_no),
        "created_at": iso(t.created_at),
    }


def add_track(db: Database, actor: Actor, body: TrackCommand) -> TrackView:
    """A range as the tax platform assigned it; one overlapping another of the same prefix
    and period is a 409 conflict."""
    track = rules.check_track(dict(body))

    return db.write(lambda conn: _insert_track(conn, actor, track))


def _insert_track(conn: Connection, actor: Actor, track: rules.TrackInput) -> TrackView:
    overlap = conn.execute(
        select(EInvoiceTrack.id).where(
            EInvoiceTrack.period == track.period,
            EInvoiceTrack.prefix == track.prefix,
            and_(EInvoiceTrack.start_no <= track.end, EInvoiceTrack.end_no >= track.start),
        )
    ).first()
    if overlap is not None:
        raise Conflict(
            detail=f"The range overlaps another range of {track.prefix} in {track.period}."
        )
    row = conn.execute(
        insert(EInvoiceTrack)
        .values(
            period=track.period,
            prefix=track.prefix,
            start_no=track.start,
            end_no=track.end,
            next_no=track.start,
            low_alerted=False,
            created_by=actor.name,
            created_at=utcnow(),
        )
        .returning(*table_of(EInvoiceTrack).c)
    ).one()
    view = track_view(row)
    audit(conn, actor, "create", "einvoice_track", view["id"], None, view)
    emit(conn, "einvoice.range_added", {"period": track.period, "track_id": view["id"]})
    return view


def list_tracks(db: Database, period: str | None = None) -> TrackList:
    def work(conn: Connection) -> TrackList:
        stmt = select(EInvoiceTrack).order_by(
            EInvoiceTrack.period.desc(), EInvoiceTrack.prefix, EInvoiceTrack.start_no
        )
        if period is not None:
            stmt = stmt.where(EInvoiceTrack.period == period)
        return {"items": [track_view(t) for t in conn.execute(stmt).all()]}

    return db.read(work)


# The tax platform's assignment file (字軌配號), by its header's names (Chinese or English):
# the period (ROC "11511" or "115/11", or "2026-11"), the prefix, the first and last number.
_CSV_COLUMNS = {
    "period": ("period", "期別", "發票期別", "年期別"),
    "prefix": ("prefix", "字軌", "發票字軌"),
    "start": ("start", "起號", "發票起號"),
    "end": ("end", "迄號", "發票迄號"),
}
MAX_CSV_CHARS = 200_000


def _period_of_csv(value: str) -> str:
    """ "11511" or "115/11" (ROC year 115, November) → "2026-11"; anything else as given."""
    compact = value.strip().replace("/", "")
    if re.fullmatch(r"[0-9]{5}", compact):
        return f"{int(compact[:3]) + 1911:04d}-{compact[3:]}"
    return value.strip()


def _csv_rows(text: str) -> list[dict[str, str]]:
    import csv
    import io

    if not isinstance(text, str) or not text.strip() or len(text) > MAX_CSV_CHARS:
        raise ValidationFailed.on("csv", "text_length", max=MAX_CSV_CHARS)
    try:
        rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"), newline="")))
    except csv.Error as exc:  # a broken quote, a stray line break: the file's fault
        raise ValidationFailed.on("csv", "invalid", reason=str(exc)) from None
    if not rows:
        raise ValidationFailed.on("csv", "no_data_rows")
    header = [h.strip().lower() for h in rows[0]]
    where = {}
    for key, names in _CSV_COLUMNS.items():
        found = [i for i, h in enumerate(header) if h in names]
        if not found:
            raise ValidationFailed.on("csv", "missing_columns", columns=key)
        where[key] = found[0]
    out = []
    for row in rows[1:]:
        if not any(c.strip() for c in row):
            continue
        cells = {k: (row[i].strip() if i < len(row) else "") for k, i in where.items()}
        cells["period"] = _period_of_csv(cells["period"])
        out.append(cells)
    if not out:
        raise ValidationFailed.on("csv", "no_data_rows")
    return out


def import_tracks(db: Database, actor: Actor, text: str) -> TrackList:
    """Every range of the file, all or none (one transaction): a bad row is refused on its
    row (``rows[2].start``), an overlap is 409 as for one range."""
    bodies = _csv_rows(text)
    tracks = []
    errors = FieldErrors()
    for i, body in enumerate(bodies, start=2):
        try:
            tracks.append(rules.check_track(body))
        except ValidationFailed as exc:
            for e in exc.errors:
                errors.add(f"rows[{i}].{e.field}", e.code, **e.params)
    errors.raise_if_any()

    def work(conn: Connection) -> TrackList:
        return {"items": [_insert_track(conn, actor, t) for t in tracks]}

    return db.write(work)


# Blank numbers -------------------------------------------------------------------------------


def _numbered_by(conn: Connection, period: str) -> str | None:
    """The centre that assigns the numbers of ``period`` (now, or for an invoice of the
    period): its ranges are registered there and it reports their blanks itself."""
    from dingdan.services.invoicing.issuing import numbering_centre

    return (
        numbering_centre()
        or conn.execute(
            select(Invoice.centre)
            .where(Invoice.period == period, Invoice.centre.is_not(None))
            .limit(1)
        ).scalar()
    )


def blank_numbers(db: Database, period: str) -> BlankNumbers:
    """The numbers of ``period``'s ranges never issued (each range's ``next``..``end``): what
    is reported as blank (E0402) once the period has closed. Numbers are taken in order and
    a void keeps its number, so a range's unused numbers are always its tail. A period whose
    numbers a centre assigns (ECPay) has none here: the centre holds the ranges and reports
    the blanks (``numbered_by``)."""
    if not isinstance(period, str) or rules.PERIOD.fullmatch(period) is None:
        raise ValidationFailed.on("period", "invalid_einvoice_period")

    def work(conn: Connection) -> BlankNumbers:
        centre = _numbered_by(conn, period)
        if centre is not None:
            return {"period": period, "items": [], "total": 0, "numbered_by": centre}
        tracks = conn.execute(
            select(EInvoiceTrack)
            .where(EInvoiceTrack.period == period)
            .order_by(EInvoiceTrack.prefix, EInvoiceTrack.start_no)
        ).all()
        items: list[BlankRun] = [
            {
                "prefix": t.prefix,
                "start": f"{t.next_no:08d}",
                "end": f"{t.end_no:08d}",
                "count": t.end_no - t.next_no + 1,
            }
            for t in tracks
            if t.next_no <= t.end_no
        ]
        total = sum(i["count"] for i in items)
        return {"period": period, "items": items, "total": total, "numbered_by": None}

    return db.read(work)


def blank_numbers_mig(db: Database, period: str, prefix: str) -> bytes:
    """E0402 for one prefix of ``period``; the seller's business number from the settings."""
    if not isinstance(prefix, str) or rules.PREFIX.fullmatch(prefix) is None:
        raise ValidationFailed.on("prefix", "invalid_track_prefix")
    found = blank_numbers(db, period)
    if found["numbered_by"] is not None:
        raise Conflict(
            detail=f"The numbers of {period} are assigned by {found['numbered_by']}, "
            "which reports their blanks itself.",
            errors=[
                FieldError.of("period", "einvoice_blanks_at_centre", centre=found["numbered_by"])
            ],
        )
    ubn = get(db)["seller_ubn"]
    if not ubn:
        raise ValidationFailed.on("seller_ubn", "required")
    runs = [(int(i["start"]), int(i["end"])) for i in found["items"] if i["prefix"] == prefix]
    return mig.e0402(ubn, period, prefix, runs)
