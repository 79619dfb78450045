"""Reports as files (shared/CONTRACT.md, "Reports": every report is also available as
``format=csv|xlsx``): the OpenAPI description of such an answer, and the answer."""

from __future__ import annotations

from typing import Any

from fastapi.responses import StreamingResponse

from dingdan.services.reports.export_files import CSV_TYPE, XLSX_TYPE, csv_chunks, xlsx_chunks

FILES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The page as JSON, or every row as a file with format=csv|xlsx",
        "content": {
            CSV_TYPE: {"schema": {"type": "string"}},
            XLSX_TYPE: {"schema": {"type": "string", "format": "binary"}},
        },
    }
}


def file_answer(name: str, fmt: str, header: Any, rows: list[list[Any]]) -> StreamingResponse:
    """A report's rows as a CSV or XLSX attachment."""
    chunks = csv_chunks(header, rows) if fmt == "csv" else xlsx_chunks(header, rows, name)
    return StreamingResponse(
        chunks,
        media_type=CSV_TYPE if fmt == "csv" else XLSX_TYPE,
        headers={
            "Content-Disposition": f'attachment; filename="{name}.{fmt}"',
            "Cache-Control": "private, no-store",
        },
    )
