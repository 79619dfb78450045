"""Mainland China fapiao (发票) requests: kept on the order, exported for the seller's tax
system (issue 22, part 6).

Dingdan issues no fapiao: the seller's tax-control system (税控 / the 数电 platform) does.
A CN order's request (the buyer's title, a company's unified social credit code, the email
the fapiao goes to) is checked with ``domain.invoicing.fapiao`` and kept as the order's
newest ``fapiao_request`` event; ``export`` lists the requests of the orders placed in a
range of days as rows the seller uploads (CSV with a byte-order mark, so that Excel opens
the Chinese as UTF-8, or XLSX).
"""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Connection, select

from dingdan.db.engine import Database
from dingdan.db.order_tables import Order, OrderEvent
from dingdan.domain.invoicing.fapiao import check_fapiao_request
from dingdan.domain.shared.errors import Conflict, FieldErrors, NotFound, ValidationFailed
from dingdan.domain.shared.money import format_amount
from dingdan.domain.shared.time_zone import SELLER_TIMEZONE
from dingdan.services.invoicing.building import refunds_kept_off
from dingdan.services.invoicing.shapes import FapiaoCommand, FapiaoView
from dingdan.services.orders.events import event
from dingdan.services.shared.common import Actor, audit

EVENT = "fapiao_request"
FORMATS = ("csv", "xlsx")
MAX_DAYS = 366
# The export's columns: (key, the header the seller's import reads).
COLUMNS = (
    ("order", "订单号"),
    ("ordered_at", "下单日期"),
    ("currency", "币种"),
    ("amount", "金额"),
    ("buyer_type", "抬头类型"),
    ("title", "发票抬头"),
    ("tax_id", "纳税人识别号"),
    ("email", "接收邮箱"),
)


def set_request(db: Database, actor: Actor, number: str, body: FapiaoCommand | None) -> FapiaoView:
    """Keep the order's fapiao request, checked (the USCC with its check character); an
    order not shipped to mainland China takes none (422), a cancelled one neither (409)."""

    def work(conn: Connection) -> FapiaoView:
        order = conn.execute(
            select(Order.id, Order.status, Order.shipping_address).where(Order.number == number)
        ).first()
        if order is None:
            raise NotFound(detail=f"Order {number} not found.")
        if order.status == "cancelled":
            raise Conflict(detail=f"Order {number} is cancelled.")
        errors = FieldErrors()
        country = (order.shipping_address or {}).get("country")
        checked = check_fapiao_request(body, "fapiao", errors, country=country)
        if body is None:
            errors.add("fapiao", "required")
        errors.raise_if_any()
        assert checked is not None
        data: FapiaoView = {
            "buyer_type": checked.buyer_type,
            "title": checked.title,
            "tax_id": checked.tax_id,
            "email": checked.email,
        }
        event(conn, int(order.id), EVENT, actor.name, "Fapiao request", dict(data))
        audit(conn, actor, "update", "order", number, None, {"fapiao_request": True})
        return data

    return db.write(work)


def _day(value: str | None, field: str, default: date) -> date:
    if value is None:
        return default
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValidationFailed.on(field, "not_a_date") from None


def rows(db: Database, start: str | None, end: str | None) -> list[dict[str, str]]:
    """The newest request of each order placed from ``start`` to ``end`` (days, inclusive,
    in the seller's time zone; default: the last 31 days), oldest order first."""
    today = datetime.now(SELLER_TIMEZONE).date()
    last = _day(end, "to", today)
    first = _day(start, "from", last - timedelta(days=30))
    if first > last:
        raise ValidationFailed.on("to", "before_start")
    if (last - first).days >= MAX_DAYS:
        raise ValidationFailed.on("from", "range_too_long", days=MAX_DAYS)
    since = datetime.combine(first, time.min, SELLER_TIMEZONE)
    until = datetime.combine(last + timedelta(days=1), time.min, SELLER_TIMEZONE)

    def work(conn: Connection) -> list[dict[str, str]]:
        found = conn.execute(
            select(
                Order.number,
                Order.created_at,
                Order.currency,
                Order.total_minor,
                Order.refunded_minor,
                Order.paid_minor,
                Order.status,
                OrderEvent.id,
                OrderEvent.data,
            )
            .join(OrderEvent, OrderEvent.order_id == Order.id)
            .where(
                OrderEvent.kind == EVENT,
                Order.created_at >= since,
                Order.created_at < until,
            )
            .order_by(Order.created_at, Order.id, OrderEvent.id)
        ).all()
        newest: dict[str, Any] = {}
        for r in found:
            newest[r.number] = r  # the last of each order wins
        return [_row(r) for r in newest.values() if r.status != "cancelled"]

    return db.read(work)


def _row(r: Any) -> dict[str, str]:
    data = r.data or {}
    kept = int(r.total_minor) - refunds_kept_off(r)
    return {
        "order": r.number,
        "ordered_at": r.created_at.astimezone(SELLER_TIMEZONE).date().isoformat(),
        "currency": r.currency,
        "amount": format_amount(max(kept, 0), r.currency),
        "buyer_type": "企业" if data.get("buyer_type") == "company" else "个人",
        "title": str(data.get("title") or ""),
        "tax_id": str(data.get("tax_id") or ""),
        "email": str(data.get("email") or ""),
    }


def export(
    db: Database, actor: Actor, start: str | None, end: str | None, fmt: str
) -> tuple[bytes, str, str]:
    """(the file, its media type, its name); the export is in the audit trail (it holds
    buyers' names and emails)."""
    if fmt not in FORMATS:
        raise ValidationFailed.on("format", "not_one_of", choices=", ".join(FORMATS))
    found = rows(db, start, end)
    db.write(lambda conn: audit(conn, actor, "export", "fapiao_requests", fmt))
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow([title for _, title in COLUMNS])
        for row in found:
            writer.writerow([_cell(row[key]) for key, _ in COLUMNS])
        return ("\ufeff" + out.getvalue()).encode(), "text/csv; charset=utf-8", "fapiao.csv"
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "fapiao"
    sheet.append([title for _, title in COLUMNS])
    for row in found:
        sheet.append([_cell(row[key]) for key, _ in COLUMNS])
    buf = io.BytesIO()
    book.save(buf)
    media = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return buf.getvalue(), media, "fapiao.xlsx"


def _cell(value: str) -> str:
    """A cell a spreadsheet will not run as a formula (a title starting with ``=``)."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value
