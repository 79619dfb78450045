"""A report as a file (shared/CONTRACT.md, "Reports": every report also as ``format=csv|xlsx``):
its items as rows under a header, through the exports' CSV and XLSX writers (formula
neutralising, BOM, text cells)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from dingdan.domain.shared.errors import ValidationFailed
from dingdan.services.reports.export_files import MEDIA_TYPES, csv_chunks, xlsx_chunks
from dingdan.services.reports.shapes import ReportView


@dataclass(frozen=True)
class ReportFile:
    filename: str
    media_type: str
    chunks: Iterator[bytes]


COLUMNS: dict[str, tuple[str, ...]] = {
    "sales": ("key", "label", "orders", "units", "revenue", "average_order_value"),
    "top": ("key", "label", "value"),
    "heatmap": ("weekday", "hour", "orders", "units", "revenue"),
    "carriers": (
        "carrier", "shipments", "units", "delivered", "median_transit_days",
        "p90_transit_days", "on_time_rate", "exception_rate", "loss_rate", "return_rate",
    ),
    "stockouts": (
        "sku", "name", "stockout_days", "backordered_units", "backordered_revenue",
        "lost_units", "lost_revenue",
    ),
}  # fmt: skip
KPI_NAMES = (
    "orders", "revenue", "average_order_value", "cancel_rate", "return_rate", "fill_rate",
    "backorder_rate", "on_time_ship_rate", "median_hours_to_ship", "p90_hours_to_ship",
    "perfect_order_rate", "inventory_turnover", "days_of_supply", "csat", "average_rating",
    "ratings",
)  # fmt: skip


def check_format(fmt: str | None) -> str | None:
    if fmt in (None, "", "json"):
        return None
    if fmt not in MEDIA_TYPES:
        raise ValidationFailed.on("format", "unknown_value")
    return fmt


def _cell(value: Any) -> Any:
    return str(value) if isinstance(value, float) else value


def _rows(kind: str, report: Mapping[str, Any]) -> tuple[Sequence[str], list[list[Any]]]:
    """The header and rows; every row leads with the range and currency (``report`` read
    by the names of ``kind``'s columns)."""
    lead = [str(report["from"]), str(report["to"]), report.get("currency") or ""]
    head = ("from", "to", "currency")
    if kind == "kpis":
        return (*head, "kpi", "value", "previous"), [
            [*lead, name, _cell(report.get(name)), _cell(report["previous"].get(name))]
            for name in KPI_NAMES
        ]
    cols = COLUMNS[kind]
    items = report["cells"] if kind == "heatmap" else report["items"]
    return (*head, *cols), [[*lead, *(_cell(it.get(c)) for c in cols)] for it in items]


def report_file(kind: str, fmt: str, report: ReportView) -> ReportFile:
    header, rows = _rows(kind, report)
    name = f"{kind}-{report['from']}-{report['to']}.{fmt}"
    chunks = csv_chunks(header, rows) if fmt == "csv" else xlsx_chunks(header, rows, kind)
    return ReportFile(name, MEDIA_TYPES[fmt], chunks)
