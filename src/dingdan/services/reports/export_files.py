"""The files an export streams: CSV (UTF-8 with a BOM, so that Excel reads Chinese right) and
XLSX (openpyxl's write-only workbook, a sheet of at most ``ROWS_PER_SHEET`` rows, continued
on further sheets, each with the header).

Every text goes through ``export_cell``: a text a spreadsheet would run as a formula gets a
leading apostrophe (shared/CONTRACT.md, "Order import and export"), and in XLSX every text
is a text cell, never a formula. Whole numbers stay numbers; money is a decimal string, as
the API shows it.

Memory stays flat however long the export: rows come from an iterator (read in batches by
``exports``), the CSV is handed out in chunks of about ``CHUNK_BYTES``, and openpyxl's
write-only sheets are written to temporary files, zipped into one temporary file at the end
and read back in chunks (an XLSX is a zip whose directory comes last: its first byte can
only be sent once the last row is in).
"""

from __future__ import annotations

import csv
import io
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from dingdan.domain.shared.text import export_cell

ROWS_PER_SHEET = 1_048_576  # Excel's rows per sheet, the header included
CHUNK_BYTES = 64 * 1024
CSV_TYPE = "text/csv; charset=utf-8"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MEDIA_TYPES = {"csv": CSV_TYPE, "xlsx": XLSX_TYPE}

Rows = Iterable[Sequence[Any]]


def _text(value: Any) -> Any:
    """A cell's value: None empty, booleans as the importers read them, whole numbers as
    numbers, everything else as neutralised text."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return value
    return export_cell(str(value))


def csv_chunks(header: Sequence[str], rows: Rows) -> Iterator[bytes]:
    """The CSV's bytes: a BOM, the header, the rows (CRLF line ends, as Excel writes)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    buffer.write("\ufeff")
    writer.writerow(header)
    for row in rows:
        writer.writerow([_text(v) for v in row])
        if buffer.tell() >= CHUNK_BYTES:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode("utf-8")


def _sheet_title(base: str, number: int) -> str:
    title = base[:25]
    return title if number == 1 else f"{title} {number}"


def xlsx_chunks(header: Sequence[str], rows: Rows, title: str) -> Iterator[bytes]:
    """The workbook's bytes; the rows fill sheets ``title``, ``title 2``, ... of at most
    ``ROWS_PER_SHEET`` rows each, the header first on each."""
    from openpyxl import Workbook
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    def cell(value: Any) -> Any:
        text = _text(value)
        # XML cannot hold most control characters; openpyxl refuses them.
        return ILLEGAL_CHARACTERS_RE.sub("", text) if isinstance(text, str) else text

    workbook = Workbook(write_only=True)
    sheet: Any = None
    used = 0
    sheets = 0
    per_sheet = max(2, ROWS_PER_SHEET)
    for row in rows:
        if sheet is None or used >= per_sheet:
            sheets += 1
            sheet = workbook.create_sheet(_sheet_title(title, sheets))
            sheet.append(list(header))
            used = 1
        sheet.append([cell(v) for v in row])
        used += 1
    if sheet is None:
        workbook.create_sheet(_sheet_title(title, 1)).append(list(header))
    with tempfile.TemporaryFile() as out:
        workbook.save(out)
        out.seek(0)
        while chunk := out.read(CHUNK_BYTES):
            yield chunk
