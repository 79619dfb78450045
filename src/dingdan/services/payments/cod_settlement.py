"""Pay-on-pickup (超商取貨付款) settlement: ECPay's COD payout report imported and matched to
orders as COD payments (``transactions.settle_cod``, as a carrier's remittance is).

The report is the CSV ECPay's back office exports (物流對帳 / 代收款撥款), UTF-8, one row per
parcel. Columns read (the header in Chinese as ECPay writes it, or in English; others are
ignored):

- ``廠商交易編號`` or ``MerchantTradeNo``: our trade number of the parcel, or
- ``物流交易編號`` or ``AllPayLogisticsID``: ECPay's logistics id (one of the two is needed);
- ``代收金額`` or ``CollectionAmount``: the amount collected from the customer (required);
- ``撥款日期`` or ``PayoutDate``: the payout date (kept as written, optional).

Each row becomes a ``cod_payout_lines`` row with its outcome. ``matched`` pays the order
(reference: the report's); anything else is a difference for a person and pays nothing:
``amount_differs`` (not what the parcel collects), ``unknown_parcel``, ``not_cod``,
``not_collected`` (the parcel collects nothing), ``already_settled`` (paid by an earlier
report), ``over_balance`` (more than the order still owes). A report is imported once (by
its reference); a parcel is paid once whatever reports list it (a unique key on the line
that paid it).
"""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, insert, or_, select

from dingdan.db.cvs_logistics_tables import CodPayoutLine, EcpayParcel
from dingdan.db.engine import Database
from dingdan.db.order_tables import Order
from dingdan.domain.shared.errors import Conflict, FieldErrors, ValidationFailed
from dingdan.domain.shared.money import format_amount
from dingdan.services.catalog import imports
from dingdan.services.payments.shapes import (
    PayoutDifferences,
    PayoutDifferenceView,
    PayoutLineView,
    PayoutReportView,
)
from dingdan.services.payments.transactions import settle_cod
from dingdan.services.shared.common import Actor, audit, iso

COLUMNS: dict[str, tuple[str, ...]] = {
    "trade_no": ("廠商交易編號", "merchanttradeno"),
    "logistics_id": ("物流交易編號", "allpaylogisticsid"),
    "amount": ("代收金額", "collectionamount"),
    "payout_date": ("撥款日期", "payoutdate"),
}
OUTCOMES = (
    "matched",
    "amount_differs",
    "unknown_parcel",
    "not_cod",
    "not_collected",
    "already_settled",
    "over_balance",
)
_AMOUNT = re.compile(r"[0-9]{1,9}(\.0{1,2})?")


def _column(row: imports.Row, key: str) -> str | None:
    for name in COLUMNS[key]:
        if row.get(name):
            return str(row[name]).strip()
    return None


def _check_header(rows: list[imports.Row]) -> None:
    names = set().union(*(r.keys() for r in rows)) if rows else set()
    errors = FieldErrors()
    if not rows:
        errors.add("file", "no_data_rows")
    elif not names & set(COLUMNS["amount"]):
        errors.add("file", "missing_columns", columns=" / ".join(COLUMNS["amount"]))
    elif not names & set(COLUMNS["trade_no"] + COLUMNS["logistics_id"]):
        both = COLUMNS["trade_no"] + COLUMNS["logistics_id"]
        errors.add("file", "missing_columns_any", columns=", ".join(both))
    errors.raise_if_any("The file cannot be imported.")


def _rows(rows: list[imports.Row]) -> list[dict[str, Any]]:
    """Each row's fields, every bad row listed (file row numbers)."""
    out, errors = [], FieldErrors()
    for r in rows:
        number = int(str(r[imports.ROW_KEY]))
        amount = (_column(r, "amount") or "").replace(",", "")
        trade_no, lid = _column(r, "trade_no"), _column(r, "logistics_id")
        if not _AMOUNT.fullmatch(amount):
            errors.add(f"rows[{number}].amount", "not_a_number")
        if not trade_no and not lid:
            errors.add(f"rows[{number}].trade_no", "required")
        out.append(
            {
                "row": number,
                "trade_no": trade_no and trade_no[:20],
                "logistics_id": lid and lid[:20],
                "amount_minor": int(Decimal(amount) * 100) if _AMOUNT.fullmatch(amount) else 0,
                "payout_date": (_column(r, "payout_date") or "")[:20] or None,
            }
        )
    errors.raise_if_any("Some rows of the report are not valid.")
    return out


def _parcel(conn: Connection, line: dict[str, Any]) -> Any:
    conds = []
    if line["trade_no"]:
        conds.append(EcpayParcel.trade_no == line["trade_no"])
    if line["logistics_id"]:
        conds.append(EcpayParcel.logistics_id == line["logistics_id"])
    return conn.execute(select(EcpayParcel).where(or_(*conds)).limit(1)).first()


def _settled(conn: Connection, key: str) -> bool:
    found = conn.execute(select(CodPayoutLine.id).where(CodPayoutLine.settled_key == key)).first()
    return found is not None


def _outcome(conn: Connection, line: dict[str, Any], parcel: Any, order: Any) -> str:
    if parcel is None or order is None:
        return "unknown_parcel"
    if order.payment_method != "cod":
        return "not_cod"
    if parcel.collection_amount <= 0:
        return "not_collected"
    if _settled(conn, parcel.trade_no):
        return "already_settled"
    if line["amount_minor"] != parcel.collection_amount * 100:
        return "amount_differs"
    if line["amount_minor"] > order.total_minor - order.paid_minor:
        return "over_balance"
    return "matched"


def _settle_line(
    conn: Connection, actor: Actor, reference: str, line: dict[str, Any]
) -> PayoutLineView:
    parcel = _parcel(conn, line)
    order = None
    if parcel is not None:
        order = conn.execute(
            select(Order).where(Order.id == parcel.order_id).with_for_update()
        ).first()
    outcome = _outcome(conn, line, parcel, order)
    if outcome == "matched" and order is not None:
        settle_cod(conn, actor, order, line["amount_minor"], reference)
    conn.execute(
        insert(CodPayoutLine).values(
            report=reference,
            row=line["row"],
            trade_no=line["trade_no"],
            logistics_id=line["logistics_id"],
            amount_minor=line["amount_minor"],
            expected_minor=None if parcel is None else parcel.collection_amount * 100,
            payout_date=line["payout_date"],
            order_id=None if order is None else order.id,
            outcome=outcome,
            settled_key=parcel.trade_no if outcome == "matched" else None,
            actor=actor.name,
        )
    )
    return {
        "row": line["row"],
        "order": None if order is None else order.number,
        "trade_no": line["trade_no"] or (parcel.trade_no if parcel is not None else None),
        "amount": format_amount(line["amount_minor"], "TWD"),
        "outcome": outcome,
    }


def import_report(
    db: Database, actor: Actor, filename: Any, data: bytes, reference: Any = None
) -> PayoutReportView:
    """The report's rows matched and the matching ones paid, in one transaction: ``reference``
    (default: the file's name) names the payments and the report, imported once."""
    rows = imports.read_upload(filename, data)
    _check_header(rows)
    lines = _rows(rows)
    ref = reference if isinstance(reference, str) and reference.strip() else Path(filename).stem
    ref = str(ref).strip()
    if len(ref) > 200 or any(ord(ch) < 32 for ch in ref):
        raise ValidationFailed.on("reference", "too_long", max=200)

    def work(conn: Connection) -> PayoutReportView:
        seen = conn.execute(select(CodPayoutLine.id).where(CodPayoutLine.report == ref)).first()
        if seen is not None:
            raise Conflict(detail=f"The COD payout report {ref!r} was imported before.")
        done = [_settle_line(conn, actor, ref, line) for line in lines]
        counts = {o: sum(1 for d in done if d["outcome"] == o) for o in OUTCOMES}
        audit(conn, actor, "import", "cod_payout", ref, after=counts)
        return {
            "reference": ref,
            "matched": counts["matched"],
            "differences": len(done) - counts["matched"],
            "lines": done,
        }

    return db.write(work)


def differences(db: Database, limit: int = 500) -> PayoutDifferences:
    """Lines of the imported reports that paid nothing, newest first."""

    def work(conn: Connection) -> list[Any]:
        return list(
            conn.execute(
                select(CodPayoutLine, Order.number)
                .outerjoin(Order, Order.id == CodPayoutLine.order_id)
                .where(CodPayoutLine.outcome != "matched")
                .order_by(CodPayoutLine.id.desc())
                .limit(limit)
            ).all()
        )

    items: list[PayoutDifferenceView] = [
        {
            "report": r.report,
            "row": r.row,
            "order": r.number,
            "trade_no": r.trade_no,
            "logistics_id": r.logistics_id,
            "amount": format_amount(r.amount_minor, "TWD"),
            "expected": None
            if r.expected_minor is None
            else format_amount(r.expected_minor, "TWD"),
            "payout_date": r.payout_date,
            "outcome": r.outcome,
            "at": iso(r.created_at),
        }
        for r in db.read(work)
    ]
    return {"items": items, "next_cursor": None}
