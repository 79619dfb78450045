"""Bulk imports from CSV and XLSX: products (upsert by SKU) and stock (receipts or counts).

Every row is checked first and every bad one is reported with its spreadsheet row number
(the header is row 1). Nothing is written unless every row is good, or, with ``skip_bad``,
the good rows are written and the bad ones reported. All writes of one import happen in
ONE transaction, as bulk statements, with one audit entry summarising it.

An empty cell means "not given": a new product gets the default, an existing one keeps
its value.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, bindparam, insert, select, update

from dingdan.db import stock as stock_sql
from dingdan.db.engine import Database
from dingdan.db.tables import Location, Product, StockLevel
from dingdan.domain.errors import FieldErrors, ValidationFailed
from dingdan.domain.stock import MovementKind
from dingdan.services import backorders, catalog
from dingdan.services.common import Actor, audit

Row = dict[str, str | None]
Progress = Callable[[int], Any]
ROW_KEY = "#row"  # the spreadsheet row number read_rows adds to each row
_CHUNK = 500
_MAX_INT = 2_147_483_647
_DIGITS = re.compile(r"^[0-9]+$")
_TRUE = {"true", "yes", "1", "是", "y"}
_FALSE = {"false", "no", "0", "否", "n"}

PRODUCT_REQUIRED = ("sku", "name", "price", "currency")
_PRODUCT_TEXT = ("barcode", "category", "brand", "tax_class")
_PRODUCT_INTS = ("weight_grams", "length_mm", "width_mm", "height_mm", "low_stock_threshold")
_PRODUCT_BOOLS = ("active", "allow_backorder")
PRODUCT_COLUMNS = PRODUCT_REQUIRED + _PRODUCT_TEXT + _PRODUCT_INTS + _PRODUCT_BOOLS
STOCK_REQUIRED = ("sku", "location", "quantity")
STOCK_COLUMNS = STOCK_REQUIRED + ("reference", "reason")


@dataclass(frozen=True)
class RowError:
    row: int
    message: str


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    skipped: int = 0
    unchanged: int = 0  # stock counts that matched what was on hand
    errors: list[RowError] = field(default_factory=list)

    @property
    def imported(self) -> int:
        return self.created + self.updated + self.unchanged


# --- reading files -------------------------------------------------------------------------


def read_rows(path: str | Path) -> list[Row]:
    """The data rows of a ``.csv`` (UTF-8) or ``.xlsx`` (first sheet) file, keyed by header."""
    p = Path(path)
    ext = p.suffix.lower()
    if ext not in (".csv", ".xlsx"):
        raise ValidationFailed.on("file", f"must be a .csv or .xlsx file, not {p.name!r}")
    try:
        records = _csv_records(p) if ext == ".csv" else _xlsx_records(p)
        return _keyed(records)
    except FileNotFoundError:
        raise ValidationFailed.on("file", f"{p} does not exist") from None
    except IsADirectoryError:
        raise ValidationFailed.on("file", f"{p} is a directory, not a file") from None
    except OSError as exc:
        raise ValidationFailed.on("file", f"{p} cannot be read: {exc.strerror or exc}") from None


def _csv_records(p: Path) -> list[list[Any]]:
    raw = p.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValidationFailed.on(
            "file",
            f"{p.name} is not UTF-8 text (bad byte at position {exc.start}); save the CSV as UTF-8",
        ) from None
    try:
        return list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as exc:
        raise ValidationFailed.on("file", f"{p.name} is not valid CSV: {exc}") from None


def _xlsx_records(p: Path) -> Iterator[Sequence[Any]]:
    import zipfile

    import openpyxl
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        wb = openpyxl.load_workbook(p, read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, ValueError) as exc:
        raise ValidationFailed.on(
            "file", f"{p.name} is not a readable .xlsx workbook: {exc}"
        ) from None
    try:
        yield from wb.worksheets[0].iter_rows(min_row=1, values_only=True)
    finally:
        wb.close()


def _cell(value: Any) -> str | None:
    """A cell as trimmed text; whole numbers without ``.0``; empty as None."""
    if value is None:
        return None
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, float):
        text = str(int(value)) if value.is_integer() else repr(value)
    elif isinstance(value, datetime | date | time):
        text = value.isoformat()
    else:
        text = str(value)
    text = text.strip()
    return text or None


def _header_name(value: Any) -> str:
    return re.sub(r"[\s-]+", "_", (_cell(value) or "").lower())


def _keyed(records: Iterable[Sequence[Any]]) -> list[Row]:
    header: list[str] | None = None
    rows: list[Row] = []
    for number, record in enumerate(records, start=1):
        cells = [_cell(v) for v in record]
        if not any(cells):
            continue
        if header is None:
            header = [_header_name(v) for v in record]
            named = [h for h in header if h]
            twice = sorted({h for h in named if named.count(h) > 1})
            if twice:
                raise ValidationFailed.on("file", f"column {', '.join(twice)} appears twice")
            continue
        row: Row = {h: v for h, v in zip(header, cells, strict=False) if h}
        row[ROW_KEY] = str(number)
        rows.append(row)
    return rows


# --- shared row checks ---------------------------------------------------------------------


def _check_columns(rows: Sequence[Row], required: Sequence[str], known: Sequence[str]) -> None:
    if not rows:
        raise ValidationFailed.on("file", "has no data rows")
    seen = {k for r in rows for k in r if k != ROW_KEY}
    errors = FieldErrors()
    missing = [c for c in required if c not in seen]
    if missing:
        errors.add("file", f"is missing the column(s) {', '.join(missing)}")
    unknown = sorted(seen - set(known))
    if unknown:
        errors.add(
            "file",
            f"has unknown column(s) {', '.join(unknown)}; the columns are {', '.join(known)}",
        )
    errors.raise_if_any("The file's columns are not the ones expected.")


def _row_number(row: Row, index: int) -> int:
    given = row.get(ROW_KEY)
    return int(given) if given and given.isdigit() else index + 2


def _whole(text: str, name: str, errors: FieldErrors, minimum: int = 0) -> int | None:
    if not _DIGITS.match(text) or int(text) < minimum:
        errors.add(
            name,
            f"must be a whole number, {minimum} or more"
            if minimum
            else "must be a whole number, zero or more",
        )
        return None
    if int(text) > _MAX_INT:
        errors.add(name, "is too large")
        return None
    return int(text)


def _flag(text: str, name: str, errors: FieldErrors) -> bool | None:
    low = text.lower()
    if low in _TRUE or low in _FALSE:
        return low in _TRUE
    errors.add(name, "must be true/false, yes/no, 1/0 or 是/否")
    return None


def _row_errors(number: int, errors: Iterable[Any]) -> list[RowError]:
    return [RowError(number, f"{e.field}: {e.message}") for e in errors]


class _Ticker:
    """Calls ``progress`` once per row; a transaction retried from the start does not
    advance it twice."""

    def __init__(self, progress: Progress | None) -> None:
        self.progress, self.done, self.reported = progress, 0, 0

    def restart(self) -> None:
        self.done = 0

    def tick(self, n: int = 1) -> None:
        self.done += n
        if self.progress and self.done > self.reported:
            self.progress(self.done - self.reported)
            self.reported = self.done


def _source(source: str | None) -> str:
    return (Path(source).name if source else "import")[:100]


def _chunks(items: Sequence[Any]) -> Iterator[Sequence[Any]]:
    for i in range(0, len(items), _CHUNK):
        yield items[i : i + _CHUNK]


# --- products ------------------------------------------------------------------------------


def _product_data(row: Row) -> tuple[dict[str, Any], FieldErrors]:
    errors = FieldErrors()
    data: dict[str, Any] = {}
    for name in PRODUCT_REQUIRED + _PRODUCT_TEXT:
        if row.get(name) is not None:
            data[name] = row[name]
    if "currency" in data:
        data["currency"] = str(data["currency"]).upper()
    for name in _PRODUCT_INTS:
        if (text := row.get(name)) is not None and (n := _whole(text, name, errors)) is not None:
            data[name] = n
    for name in _PRODUCT_BOOLS:
        if (text := row.get(name)) is not None and (b := _flag(text, name, errors)) is not None:
            data[name] = b
    return data, errors


def _product_columns(rows: Sequence[Row], ticker: _Ticker) -> tuple[list[Any], list[RowError]]:
    """Column values of each good row, and every problem of the bad ones."""
    good: list[dict[str, Any]] = []
    bad: list[RowError] = []
    first_row: dict[str, int] = {}
    for i, row in enumerate(rows):
        number = _row_number(row, i)
        data, errors = _product_data(row)
        try:
            cols = catalog._columns(data, creating=True)
        except ValidationFailed as exc:
            errors.items.extend(exc.errors)
        sku = data.get("sku")
        if isinstance(sku, str) and sku in first_row:
            errors.add("sku", f"{sku} appears again (first on row {first_row[sku]})")
        elif isinstance(sku, str):
            first_row[sku] = number
        if errors:
            bad += _row_errors(number, errors.items)
        else:
            good.append(cols)
        ticker.tick()
    return good, bad


def _grouped(rows: Iterable[dict[str, Any]]) -> dict[tuple[str, ...], list[dict[str, Any]]]:
    """Rows by their set of columns, so each group is one executemany."""
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for r in rows:
        groups.setdefault(tuple(sorted(r)), []).append(r)
    return groups


def _write_products(conn: Connection, good: list[dict[str, Any]]) -> tuple[int, int]:
    skus = [c["sku"] for c in good]
    existing: set[str] = set()
    for chunk in _chunks(skus):
        existing.update(conn.execute(select(Product.sku).where(Product.sku.in_(chunk))).scalars())
    new = [c for c in good if c["sku"] not in existing]
    old = [c for c in good if c["sku"] in existing]
    for group in _grouped(new).values():
        conn.execute(insert(Product), group)
    for keys, group in _grouped(old).items():
        sets: dict[str, Any] = {k: bindparam(f"v_{k}") for k in keys if k != "sku"}
        stmt = update(Product).where(Product.sku == bindparam("v_sku")).values(sets)
        conn.execute(stmt, [{f"v_{k}": v for k, v in r.items()} for r in group])
    return len(new), len(old)


def import_products(
    db: Database,
    actor: Actor,
    rows: Sequence[Row],
    *,
    skip_bad: bool = False,
    progress: Progress | None = None,
    source: str | None = None,
) -> ImportResult:
    """Create new SKUs and update existing ones; all or nothing unless ``skip_bad``."""
    _check_columns(rows, PRODUCT_REQUIRED, PRODUCT_COLUMNS)
    good, bad = _product_columns(rows, _Ticker(progress))
    bad_rows = len({e.row for e in bad})
    if bad and (not skip_bad or not good):
        return ImportResult(errors=bad)

    def work(conn: Connection) -> ImportResult:
        created, updated = _write_products(conn, good)
        result = ImportResult(created, updated, bad_rows, errors=bad)
        audit(
            conn,
            actor,
            "import",
            "product",
            _source(source),
            after={
                "file": _source(source),
                "rows": len(rows),
                "created": created,
                "updated": updated,
                "skipped": bad_rows,
            },
        )
        return result

    return db.write(work)


# --- stock ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _StockLine:
    row: int
    product_id: int
    location_id: int
    quantity: int
    reference: str | None
    reason: str | None


def _ids(conn: Connection, column: Any, key: Any, values: set[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for chunk in _chunks(sorted(values)):
        found.update(
            (str(k), int(v)) for k, v in conn.execute(select(key, column).where(key.in_(chunk)))
        )
    return found


def _levels(conn: Connection, product_ids: set[int]) -> dict[tuple[int, int], tuple[int, int]]:
    """On hand and reserved of every level of these products, locked until commit."""
    lv = StockLevel.__table__.c
    out: dict[tuple[int, int], tuple[int, int]] = {}
    for chunk in _chunks(sorted(product_ids)):
        stmt = (
            select(lv.product_id, lv.location_id, lv.on_hand, lv.reserved)
            .where(lv.product_id.in_(chunk))
            .order_by(lv.product_id, lv.location_id)
            .with_for_update()
        )
        for p, loc, oh, rs in conn.execute(stmt):
            out[(int(p), int(loc))] = (int(oh), int(rs))
    return out


def _stock_line(
    row: Row, number: int, mode: str, products: dict[str, int], locations: dict[str, int]
) -> tuple[_StockLine | None, FieldErrors]:
    errors = FieldErrors()
    sku, code, qty_text = row.get("sku"), row.get("location"), row.get("quantity")
    pid = products.get(sku or "")
    loc = locations.get(code or "")
    if pid is None:
        errors.add("sku", f"no product with SKU {sku!r}" if sku else "is required")
    if loc is None:
        errors.add("location", f"no location with code {code!r}" if code else "is required")
    qty = None
    if qty_text is None:
        errors.add("quantity", "is required")
    else:
        qty = _whole(qty_text, "quantity", errors, 1 if mode == "receive" else 0)
    for name in ("reference", "reason"):
        if len(row.get(name) or "") > 200:
            errors.add(name, "must be at most 200 characters")
    if errors or pid is None or loc is None or qty is None:
        return None, errors
    return _StockLine(number, pid, loc, qty, row.get("reference"), row.get("reason")), errors


def _stock_lines(
    conn: Connection, rows: Sequence[Row], mode: str, ticker: _Ticker
) -> tuple[list[_StockLine], list[RowError]]:
    products = _ids(conn, Product.id, Product.sku, {r.get("sku") or "" for r in rows})
    locations = _ids(conn, Location.id, Location.code, {r.get("location") or "" for r in rows})
    good: list[_StockLine] = []
    bad: list[RowError] = []
    first_row: dict[tuple[int, int], int] = {}
    for i, row in enumerate(rows):
        number = _row_number(row, i)
        line, errors = _stock_line(row, number, mode, products, locations)
        if line and (line.product_id, line.location_id) in first_row:
            errors.add(
                "sku",
                f"{row['sku']} at {row['location']} appears again "
                f"(first on row {first_row[(line.product_id, line.location_id)]})",
            )
        elif line:
            first_row[(line.product_id, line.location_id)] = number
        if errors:
            bad += _row_errors(number, errors.items)
        elif line:
            good.append(line)
        ticker.tick()
    return good, bad


def _stock_moves(
    lines: list[_StockLine],
    levels: dict[tuple[int, int], tuple[int, int]],
    mode: str,
    result: ImportResult,
) -> list[tuple[_StockLine, stock_sql.Move]]:
    """The movement of each line; a count below what is reserved becomes a bad row."""
    moves = []
    for ln in lines:
        level = levels.get((ln.product_id, ln.location_id))
        on_hand, reserved = level or (0, 0)
        if mode == "receive":
            delta, kind = ln.quantity, MovementKind.RECEIPT
        elif ln.quantity < reserved:
            result.errors.append(
                RowError(
                    ln.row,
                    f"quantity: the count {ln.quantity} is below "
                    f"the {reserved} reserved there for orders",
                )
            )
            continue
        else:
            delta, kind = ln.quantity - on_hand, MovementKind.ADJUSTMENT
        if delta == 0:
            result.unchanged += 1
            continue
        moves.append((ln, stock_sql.Move(ln.product_id, ln.location_id, kind, delta)))
        if level is None:
            result.created += 1
        else:
            result.updated += 1
    return moves


def _apply_moves(
    conn: Connection,
    actor: Actor,
    moves: list[tuple[_StockLine, stock_sql.Move]],
    mode: str,
    source: str,
) -> None:
    default_reason = "receipt" if mode == "receive" else "cycle_count"
    batches: dict[tuple[str | None, str], list[stock_sql.Move]] = {}
    for ln, move in moves:
        key = (ln.reference or f"import:{source}", ln.reason or default_reason)
        batches.setdefault(key, []).append(move)
    for (reference, reason), batch in batches.items():
        stock_sql.apply(conn, batch, actor=actor.name, reason=reason, reference=reference)
    backorders.allocate(
        conn, actor, [(m.product_id, m.location_id) for _, m in moves if m.on_hand_delta > 0]
    )


def import_inventory(
    db: Database,
    actor: Actor,
    rows: Sequence[Row],
    *,
    mode: str = "receive",
    skip_bad: bool = False,
    progress: Progress | None = None,
    source: str | None = None,
) -> ImportResult:
    """Receive stock (``mode="receive"``) or record counted quantities (``mode="set"``)."""
    if mode not in ("receive", "set"):
        raise ValidationFailed.on("mode", "must be receive or set")
    _check_columns(rows, STOCK_REQUIRED, STOCK_COLUMNS)
    ticker = _Ticker(progress)

    def work(conn: Connection) -> ImportResult:
        ticker.restart()
        lines, bad = _stock_lines(conn, rows, mode, ticker)
        result = ImportResult(errors=bad)
        moves = _stock_moves(lines, _levels(conn, {ln.product_id for ln in lines}), mode, result)
        result.errors.sort(key=lambda e: e.row)
        if result.errors and (not skip_bad or not result.imported):
            return ImportResult(errors=result.errors)
        result.skipped = len({e.row for e in result.errors})
        _apply_moves(conn, actor, moves, mode, _source(source))
        audit(
            conn,
            actor,
            "import",
            "stock",
            _source(source),
            after={
                "file": _source(source),
                "mode": mode,
                "rows": len(rows),
                "new_levels": result.created,
                "updated_levels": result.updated,
                "unchanged": result.unchanged,
                "skipped": result.skipped,
            },
        )
        return result

    return db.write(work)
