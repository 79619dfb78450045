"""Bulk imports from CSV and XLSX: products (upsert by SKU) and stock (receipts or counts).

Every bad row is reported with its spreadsheet row number (the header is row 1). Nothing is
written unless every row is good; with ``skip_bad`` the good rows are written. One import is
ONE transaction of bulk statements with one audit entry. An empty cell means "not given": a
new product gets the default, an existing one keeps its value.

The back office uploads a file (``read_upload``), shows ``preview_products`` (what each row
would create or update, and each bad row), keeps the file staged (``stage_upload``) until the
person confirms, then imports it all or nothing.
"""

from __future__ import annotations

import csv
import io
import re
import time as clock
import zipfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, bindparam, insert, select, update

from dingdan.db import stock as stock_sql
from dingdan.db.engine import Database
from dingdan.db.order_tables import Order, OrderLine
from dingdan.db.tables import Location, Product, StockLevel
from dingdan.domain.inventory.stock import MovementKind
from dingdan.domain.shared.errors import FieldError, FieldErrors, ValidationFailed
from dingdan.domain.shared.numbers import ascii_text, plain_decimal
from dingdan.domain.shared.text import from_spreadsheet
from dingdan.services.catalog import import_styles
from dingdan.services.catalog import products as catalog
from dingdan.services.orders import backorders
from dingdan.services.shared.common import Actor, audit

Row = dict[str, str | None]
Progress = Callable[[int], Any]
ROW_KEY = "#row"  # the spreadsheet row number read_rows adds to each row
_CHUNK = 500
MAX_UPLOAD_ROWS = 20_000  # rows of one file imported from the back office
_MAX_INT = 2_147_483_647
# What one file may make the server do, whatever it declares: an .xlsx is a zip of XML, and a
# sheet that declares A1:XFD1048576 (or a member that inflates a thousandfold) would have
# openpyxl walk millions of empty cells or fill memory from a small upload.
MAX_COLUMNS = 64  # the importers know 16 columns; room for notes beside them
MAX_BLANK_ROWS = 1_000  # empty rows read beyond the row limit before the sheet is deemed done
MAX_XLSX_BYTES = 100 * 1024 * 1024  # all members of the zip, uncompressed
MAX_XLSX_RATIO = 100  # uncompressed bytes per compressed byte, for members over 1 MB
MAX_READ_SECONDS = 30.0  # reading one file's rows
_RATIO_FROM = 1024 * 1024
_DIGITS = re.compile(r"^[0-9]+$")
_TRUE, _FALSE = {"true", "yes", "1", "是"}, {"false", "no", "0", "否"}

PRODUCT_REQUIRED = ("sku", "name", "price", "currency")
_PRODUCT_TEXT = ("barcode", "category", "brand", "tax_class")
_PRODUCT_INTS = ("weight_grams", "length_mm", "width_mm", "height_mm", "low_stock_threshold")
_PRODUCT_BOOLS = ("active", "allow_backorder")
# A variant's style (its code and name) and option values, "尺寸=M; 顏色=紅" (issue 21, part 9).
STYLE_COLUMNS = ("style", "style_name", "options")
PRODUCT_COLUMNS = PRODUCT_REQUIRED + _PRODUCT_TEXT + _PRODUCT_INTS + _PRODUCT_BOOLS + STYLE_COLUMNS
STOCK_REQUIRED = ("sku", "location", "quantity")
STOCK_COLUMNS = STOCK_REQUIRED + ("reference", "reason")


@dataclass(frozen=True)
class RowError:
    row: int
    message: str  # "column: what is wrong"
    code: str = field(default="", compare=False)  # of ``error_codes.FIELD_ERRORS``
    params: dict[str, Any] = field(default_factory=dict, compare=False)

    @classmethod
    def of(cls, row: int, error: FieldError) -> RowError:
        return cls(row, f"{error.field}: {error.message}", error.code, error.params)

    @property
    def field(self) -> str:
        """The column the message is about (the part before the first ``": "``)."""
        head, sep, _ = self.message.partition(": ")
        return head if sep else ""

    @property
    def text(self) -> str:
        """What is wrong, without the column."""
        head, sep, rest = self.message.partition(": ")
        return rest if sep else self.message


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    skipped: int = 0  # bad rows left out with skip_bad
    unchanged: int = 0  # stock counts that matched what was on hand
    errors: list[RowError] = field(default_factory=list)

    @property
    def imported(self) -> int:
        return self.created + self.updated + self.unchanged

    def counts(self) -> dict[str, int]:
        names = ("created", "updated", "skipped", "unchanged")
        return {n: getattr(self, n) for n in names}


def _bad_file(code: str, **params: Any) -> ValidationFailed:
    return ValidationFailed(
        detail="The file cannot be imported.", errors=[FieldError.of("file", code, **params)]
    )


def _extension(name: str) -> str:
    ext = Path(name).suffix.lower()
    if ext not in (".csv", ".xlsx"):
        raise _bad_file("not_csv_or_xlsx", name=Path(name).name)
    return ext


def read_rows(path: str | Path) -> list[Row]:
    """The data rows of a ``.csv`` (UTF-8) or ``.xlsx`` (first sheet) file, keyed by header."""
    p = Path(path)
    ext = _extension(p.name)
    try:
        data = p.read_bytes()
    except FileNotFoundError:
        raise _bad_file("file_not_found", name=str(p)) from None
    except OSError as exc:
        raise _bad_file("unreadable_file", name=str(p), reason=exc.strerror or exc) from None
    return _parse(p.name, ext, data)


def read_upload(filename: Any, data: bytes, max_rows: int = MAX_UPLOAD_ROWS) -> list[Row]:
    """The data rows of an uploaded ``.csv`` or ``.xlsx`` file, as ``read_rows`` reads a path;
    refused when larger than the upload limit or longer than ``max_rows``."""
    from dingdan.services.shared.uploads import max_upload_bytes

    name = Path(filename).name if isinstance(filename, str) and filename.strip() else ""
    if not name or len(name) > 255:
        raise _bad_file("file_name")
    ext = _extension(name)
    limit = max_upload_bytes()
    if not data:
        raise _bad_file("empty_file")
    if len(data) > limit:
        raise _bad_file("file_too_large", max=limit)
    return _parse(name, ext, data, max_rows)


def _parse(name: str, ext: str, data: bytes, max_rows: int | None = None) -> list[Row]:
    try:
        if ext == ".csv":
            records: Iterable[Sequence[Any]] = _csv_records(name, data)
        else:
            records = _xlsx_records(name, data, max_rows)
        return _keyed(records, max_rows)
    except OSError as exc:
        raise _bad_file("unreadable_file", name=name, reason=exc.strerror or exc) from None


def _csv_records(name: str, data: bytes) -> list[list[Any]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _bad_file("not_utf8", name=name, position=exc.start) from None
    if "\x00" in text:
        raise _bad_file("invalid_csv", name=name, reason="it holds NUL bytes")
    try:
        return list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as exc:
        raise _bad_file("invalid_csv", name=name, reason=exc) from None


def _check_zip(name: str, data: bytes | Path) -> None:
    """Refuse, before openpyxl opens it, a workbook whose members inflate beyond
    MAX_XLSX_BYTES in all or by more than MAX_XLSX_RATIO each (sizes from the zip's
    directory; zipfile itself stops reading a member at its declared size)."""
    try:
        source = data if isinstance(data, Path) else io.BytesIO(data)
        with zipfile.ZipFile(source) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise _bad_file("invalid_xlsx", name=name, reason=exc) from None
    total = sum(m.file_size for m in members)
    inflating = any(
        m.file_size > _RATIO_FROM and m.file_size > MAX_XLSX_RATIO * max(m.compress_size, 1)
        for m in members
    )
    if total > MAX_XLSX_BYTES or inflating:
        raise _bad_file("xlsx_too_large", name=name, max=MAX_XLSX_BYTES // (1024 * 1024))


def _xlsx_records(
    name: str, data: bytes | Path, max_rows: int | None = None
) -> Iterator[Sequence[Any]]:
    """The first sheet's rows, at most MAX_COLUMNS + 1 cells each (a value beyond is refused
    in ``_keyed``), and no row past ``max_rows`` + header + MAX_BLANK_ROWS: the sheet's
    declared dimension is not trusted."""
    import openpyxl
    from openpyxl.utils.exceptions import InvalidFileException

    _check_zip(name, data)
    try:
        source = data if isinstance(data, Path) else io.BytesIO(data)
        wb = openpyxl.load_workbook(source, read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, ValueError, OSError) as exc:
        raise _bad_file("invalid_xlsx", name=name, reason=exc) from None
    last = None if max_rows is None else max_rows + 1 + MAX_BLANK_ROWS
    try:
        sheet = wb.worksheets[0]
        # The sheet's <dimension> (None when it has none): a sheet says how far its cells
        # go, and cells beyond what may be read are refused rather than left unread.
        rows, columns = sheet.max_row, sheet.max_column
        if isinstance(columns, int) and columns > MAX_COLUMNS:
            raise _bad_file("too_many_columns", max=MAX_COLUMNS)
        if last is not None and isinstance(rows, int) and rows > last:
            raise _bad_file("too_many_rows", max=max_rows)
        yield from sheet.iter_rows(
            min_row=1, max_row=last, max_col=MAX_COLUMNS + 1, values_only=True
        )
    finally:
        wb.close()


def _cell(value: Any) -> str | None:
    """A cell as trimmed text; whole numbers without ``.0``; empty as None. A leading
    apostrophe is dropped (an export writes one before text a spreadsheet would run as a
    formula: shared/CONTRACT.md, "Order import and export")."""
    if value is None:
        return None
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, float):
        text = str(int(value)) if value.is_integer() else repr(value)
    elif isinstance(value, datetime | date | time):
        text = value.isoformat()
    else:
        text = from_spreadsheet(str(value).strip())
    return text.strip() or None


def _keyed(records: Iterable[Sequence[Any]], max_rows: int | None = None) -> list[Row]:
    return list(_keyed_rows(records, max_rows, MAX_READ_SECONDS))


def _keyed_rows(
    records: Iterable[Sequence[Any]], max_rows: int | None, seconds: float | None
) -> Iterator[Row]:
    """The data rows one by one, keyed by the header; ``seconds``: the most reading may take
    (None: a file streamed by the CLI, read while it is imported)."""
    header: list[str] | None = None
    count = 0
    deadline = None if seconds is None else clock.monotonic() + seconds
    for number, record in enumerate(records, start=1):
        if deadline is not None and number % 256 == 0 and clock.monotonic() > deadline:
            raise _bad_file("file_too_slow", seconds=int(MAX_READ_SECONDS))
        if any(_cell(v) for v in record[MAX_COLUMNS:]):
            raise _bad_file("too_many_columns", max=MAX_COLUMNS)
        cells = [_cell(v) for v in record[:MAX_COLUMNS]]
        if not any(cells):
            continue
        if max_rows is not None and count >= max_rows:
            raise _bad_file("too_many_rows", max=max_rows)
        if header is None:
            header = [re.sub(r"[\s-]+", "_", (c or "").lower()) for c in cells]
            twice = sorted({h for h in header if h and header.count(h) > 1})
            if twice:
                raise _bad_file("duplicate_column", columns=", ".join(twice))
            continue
        row: Row = {h: v for h, v in zip(header, cells, strict=False) if h}
        row[ROW_KEY] = str(number)
        count += 1
        yield row


def stream_rows(path: str | Path) -> Iterator[Row]:
    """The data rows of a ``.csv`` (UTF-8, with or without BOM) or ``.xlsx`` file as
    ``read_rows`` reads them, one at a time: memory does not grow with the file."""
    p = Path(path)
    ext = _extension(p.name)
    if not p.is_file():
        raise _bad_file("file_not_found", name=str(p))
    try:
        if ext == ".csv":
            yield from _keyed_rows(_csv_stream(p), None, None)
        else:
            yield from _keyed_rows(_xlsx_records(p.name, p), None, None)
    except OSError as exc:
        raise _bad_file("unreadable_file", name=p.name, reason=exc.strerror or exc) from None


def _csv_stream(p: Path) -> Iterator[list[str]]:
    with p.open(encoding="utf-8-sig", newline="") as fh:
        lines = _checked_lines(fh, p.name)
        try:
            yield from csv.reader(lines)
        except UnicodeDecodeError as exc:
            raise _bad_file("not_utf8", name=p.name, position=exc.start) from None
        except csv.Error as exc:
            raise _bad_file("invalid_csv", name=p.name, reason=exc) from None


def _checked_lines(fh: Iterable[str], name: str) -> Iterator[str]:
    for line in fh:
        if "\x00" in line:
            raise _bad_file("invalid_csv", name=name, reason="it holds NUL bytes")
        yield line


def _check_columns(rows: Sequence[Row], required: Sequence[str], known: Sequence[str]) -> None:
    if not rows:
        raise _bad_file("no_data_rows")
    seen = {k for r in rows for k in r if k != ROW_KEY}
    errors = FieldErrors()
    if missing := [c for c in required if c not in seen]:
        errors.add("file", "missing_columns", columns=", ".join(missing))
    if unknown := sorted(seen - set(known)):
        listed, expected = ", ".join(unknown), ", ".join(known)
        errors.add("file", "unknown_columns", columns=listed, expected=expected)
    errors.raise_if_any("The file's columns are not the ones expected.")


def _whole(text: str, name: str, errors: FieldErrors, minimum: int = 0) -> int | None:
    text = ascii_text(text)  # full-width digits are digits
    if not _DIGITS.match(text) or int(text) < minimum:
        errors.add(name, "below_one" if minimum else "below_zero")
    elif int(text) > _MAX_INT:
        errors.add(name, "too_large")
    else:
        return int(text)
    return None


def _flag(text: str, name: str, errors: FieldErrors) -> bool | None:
    if text.lower() in _TRUE | _FALSE:
        return text.lower() in _TRUE
    errors.add(name, "not_a_yes_no")
    return None


class _Ticker:
    """Calls ``progress`` once per row; a transaction retried whole does not count twice."""

    def __init__(self, progress: Progress | None) -> None:
        self.progress, self.done, self.reported = progress, 0, 0

    def restart(self) -> None:
        self.done = 0

    def tick(self, n: int = 1) -> None:
        self.done += n
        if self.progress and self.done > self.reported:
            self.progress(self.done - self.reported)
            self.reported = self.done


Check = Callable[[Row, int], tuple[Any, str | None, FieldErrors]]
Checked = tuple[list[Any], list[RowError]]


def _check_rows(rows: Sequence[Row], check: Check, ticker: _Ticker | None = None) -> Checked:
    """Run ``check(row, number) -> (value, key, errors)`` over every row. A key already
    seen on an earlier row makes the later row bad."""
    good: list[Any] = []
    bad: list[RowError] = []
    first: dict[str, int] = {}
    for i, row in enumerate(rows):
        given = row.get(ROW_KEY)
        number = int(given) if given and given.isdecimal() else i + 2
        value, key, errors = check(row, number)
        if key is not None and key in first:
            errors.add("sku", "appears_again", key=key, row=first[key])
        elif key is not None:
            first[key] = number
        if errors:
            bad += [RowError.of(number, e) for e in errors.items]
        else:
            good.append(value)
        if ticker:
            ticker.tick()
    return good, bad


def _source(source: str | None) -> str:
    return (Path(source).name if source else "import")[:100]


def _chunks(items: Sequence[Any]) -> Iterator[Sequence[Any]]:
    for i in range(0, len(items), _CHUNK):
        yield items[i : i + _CHUNK]


def _product_row(row: Row, _number: int) -> tuple[Any, str | None, FieldErrors]:
    errors = FieldErrors()
    data: dict[str, Any] = {k: row[k] for k in PRODUCT_REQUIRED + _PRODUCT_TEXT if row.get(k)}
    if "currency" in data:
        data["currency"] = str(data["currency"]).upper()
    if "price" in data:  # as spreadsheets write it: "1,320"
        data["price"] = plain_decimal(data["price"])
    for name in _PRODUCT_INTS:
        if (text := row.get(name)) is not None and (n := _whole(text, name, errors)) is not None:
            data[name] = n
    for name in _PRODUCT_BOOLS:
        if (text := row.get(name)) is not None and (b := _flag(text, name, errors)) is not None:
            data[name] = b
    cols = None
    try:
        cols = catalog._columns(data, creating=True)
    except ValidationFailed as exc:
        errors.items.extend(exc.errors)
    return cols, row.get("sku"), errors


def _barcode_owners(db: Database, rows: Sequence[Row]) -> dict[str, str]:
    """The SKU holding each barcode the rows name, in the database."""
    codes = sorted({b for r in rows if (b := (r.get("barcode") or "").strip())})

    def work(conn: Connection) -> dict[str, str]:
        found: dict[str, str] = {}
        for chunk in _chunks(codes):
            stmt = select(Product.barcode, Product.sku).where(Product.barcode.in_(chunk))
            found.update((str(b), str(s)) for b, s in conn.execute(stmt))
        return found

    return db.read(work) if codes else {}


def _product_checker(owners: dict[str, str], styles: import_styles.Known) -> Check:
    """``_product_row``, and a barcode is one product's: one another SKU holds (in the
    database, or on an earlier row) makes the row bad; a style's columns agree with the
    style's options (import_styles.py)."""
    held = dict(owners)

    def check(row: Row, number: int) -> tuple[Any, str | None, FieldErrors]:
        cols, key, errors = _product_row(row, number)
        barcode = (cols or {}).get("barcode")
        if barcode and held.setdefault(barcode, str(key)) != key:
            errors.add("barcode", "barcode_taken")
        style = styles.check(row, errors)
        if cols is not None and style is not None:
            cols[import_styles.KEY] = style
        return cols, key, errors

    return check


def _grouped(rows: Iterable[dict[str, Any]]) -> Iterable[list[dict[str, Any]]]:
    """Rows by their set of columns, so each group is one executemany."""
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for r in rows:
        groups.setdefault(tuple(sorted(r)), []).append(r)
    return groups.values()


def _existing(conn: Connection, skus: Iterable[str]) -> set[str]:
    found: set[str] = set()
    for chunk in _chunks(sorted(set(skus))):
        found.update(conn.execute(select(Product.sku).where(Product.sku.in_(chunk))).scalars())
    return found


def _write_products(conn: Connection, good: list[dict[str, Any]]) -> tuple[int, int]:
    # Not popped: a transaction retried whole writes the same rows again.
    styled = [(c["sku"], c[import_styles.KEY]) for c in good if import_styles.KEY in c]
    plain = [{k: v for k, v in c.items() if k != import_styles.KEY} for c in good]
    created, updated = _write_product_rows(conn, plain)
    import_styles.write(conn, styled)
    return created, updated


def _write_product_rows(conn: Connection, good: list[dict[str, Any]]) -> tuple[int, int]:
    existing = _existing(conn, (c["sku"] for c in good))
    new = [c for c in good if c["sku"] not in existing]
    for group in _grouped(new):
        conn.execute(insert(Product), group)
    for group in _grouped(c for c in good if c["sku"] in existing):
        sets: dict[str, Any] = {k: bindparam(f"v_{k}") for k in group[0] if k != "sku"}
        stmt = update(Product).where(Product.sku == bindparam("v_sku")).values(sets)
        conn.execute(stmt, [{f"v_{k}": v for k, v in r.items()} for r in group])
    return len(new), len(good) - len(new)


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
    check = _product_checker(_barcode_owners(db, rows), import_styles.known(db, rows))
    good, bad = _check_rows(rows, check, _Ticker(progress))
    if bad and (not skip_bad or not good):
        return ImportResult(errors=bad)

    def work(conn: Connection) -> ImportResult:
        created, updated = _write_products(conn, good)
        result = ImportResult(created, updated, len({e.row for e in bad}), errors=bad)
        name = _source(source)
        after = {"file": name, "rows": len(rows), **result.counts()}
        audit(conn, actor, "import", "product", name, after=after)
        return result

    return db.write(work)


@dataclass(frozen=True)
class PreviewRow:
    """What importing one row would do: ``action`` is ``create``, ``update`` or ``error``."""

    row: int
    sku: str | None
    name: str | None
    price: str | None
    currency: str | None
    action: str
    errors: tuple[RowError, ...] = ()


@dataclass
class Preview:
    rows: list[PreviewRow]

    @property
    def errors(self) -> list[RowError]:
        return [e for r in self.rows for e in r.errors]

    def count(self, action: str) -> int:
        return sum(1 for r in self.rows if r.action == action)


def preview_products(db: Database, rows: Sequence[Row]) -> Preview:
    """What ``import_products`` would do with these rows, without writing anything."""
    _check_columns(rows, PRODUCT_REQUIRED, PRODUCT_COLUMNS)
    check = _product_checker(_barcode_owners(db, rows), import_styles.known(db, rows))
    _, bad = _check_rows(rows, check)
    by_row: dict[int, list[RowError]] = {}
    for e in bad:
        by_row.setdefault(e.row, []).append(e)
    skus = [sku for r in rows if (sku := r.get("sku"))]
    existing = db.read(lambda conn: _existing(conn, skus))
    out = []
    for i, row in enumerate(rows):
        given = row.get(ROW_KEY)
        number = int(given) if given and given.isdecimal() else i + 2
        errors = tuple(by_row.get(number, ()))
        sku = row.get("sku")
        action = "error" if errors else ("update" if sku in existing else "create")
        currency = (row.get("currency") or "").upper() or None
        out.append(
            PreviewRow(number, sku, row.get("name"), row.get("price"), currency, action, errors)
        )
    return Preview(out)


@dataclass(frozen=True)
class _StockLine:
    row: int
    product_id: int
    location_id: int
    quantity: int
    reference: str | None
    reason: str | None


Moves = list[tuple[_StockLine, stock_sql.Move]]


def _ids(conn: Connection, key: Any, column: Any, values: set[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for chunk in _chunks(sorted(values)):
        stmt = select(key, column).where(key.in_(chunk))
        found.update((str(k), int(v)) for k, v in conn.execute(stmt))
    return found


def _levels(conn: Connection, product_ids: set[int]) -> dict[tuple[int, int], tuple[int, int]]:
    """On hand and reserved of every level of these products, locked until commit."""
    lv = StockLevel.__table__.c
    out: dict[tuple[int, int], tuple[int, int]] = {}
    for chunk in _chunks(sorted(product_ids)):
        stmt = select(lv.product_id, lv.location_id, lv.on_hand, lv.reserved)
        stmt = stmt.where(lv.product_id.in_(chunk)).order_by(lv.product_id, lv.location_id)
        stmt = stmt.with_for_update()
        for p, loc, oh, rs in conn.execute(stmt):
            out[(int(p), int(loc))] = (int(oh), int(rs))
    return out


def _stock_checker(conn: Connection, rows: Sequence[Row], mode: str) -> Check:
    products = _ids(conn, Product.sku, Product.id, {r.get("sku") or "" for r in rows})
    locations = _ids(conn, Location.code, Location.id, {r.get("location") or "" for r in rows})
    least = 1 if mode == "receive" else 0
    # Stock is not received into a deactivated location (a count there may still be set).
    closed: set[str] = set()
    if mode == "receive":
        closed = set(
            conn.execute(select(Location.code).where(Location.active.is_(False))).scalars()
        )

    def check(row: Row, number: int) -> tuple[Any, str | None, FieldErrors]:
        errors = FieldErrors()
        sku, code, qty_text = row.get("sku"), row.get("location"), row.get("quantity")
        if (pid := products.get(sku or "")) is None:
            errors.add("sku", "unknown_sku" if sku else "required", sku=sku)
        if (loc := locations.get(code or "")) is None:
            errors.add("location", "unknown_location" if code else "required", location=code)
        elif code in closed:
            errors.add("location", "inactive_location", location=code)
        if qty_text is None:
            errors.add("quantity", "required")
        qty = _whole(qty_text, "quantity", errors, least) if qty_text is not None else None
        for name in ("reference", "reason"):
            if len(row.get(name) or "") > 200:
                errors.add(name, "at_most_characters", max=200)
        if errors or pid is None or loc is None or qty is None:
            return None, (f"{sku} at {code}" if sku and code else None), errors
        line = _StockLine(number, pid, loc, qty, row.get("reference"), row.get("reason"))
        return line, f"{sku} at {code}", errors

    return check


def _stock_moves(
    lines: list[_StockLine], conn: Connection, mode: str, result: ImportResult
) -> Moves:
    """The movement of each line; a count below what is reserved becomes a bad row."""
    levels = _levels(conn, {ln.product_id for ln in lines})
    moves = []
    for ln in lines:
        level = levels.get((ln.product_id, ln.location_id))
        on_hand, reserved = level or (0, 0)
        delta = ln.quantity if mode == "receive" else ln.quantity - on_hand
        if mode == "set" and ln.quantity < reserved:
            error = FieldError.of(
                "quantity", "below_reserved", count=ln.quantity, reserved=reserved
            )
            result.errors.append(RowError.of(ln.row, error))
        elif delta == 0:
            result.unchanged += 1
        else:
            kind = MovementKind.RECEIPT if mode == "receive" else MovementKind.ADJUSTMENT
            moves.append((ln, stock_sql.Move(ln.product_id, ln.location_id, kind, delta)))
            result.created += level is None
            result.updated += level is not None
    result.errors.sort(key=lambda e: e.row)
    return moves


def _apply_moves(
    conn: Connection, actor: Actor, moves: Moves, mode: str, source: str, ticker: _Ticker
) -> None:
    """Write the moves in lock order, in batches per (reference, reason) that drive the
    progress bar, then allocate waiting backorders."""
    default_reason = "receipt" if mode == "receive" else "cycle_count"
    batches: dict[tuple[str, str], list[stock_sql.Move]] = {}
    for ln, move in sorted(moves, key=lambda lm: (lm[1].product_id, lm[1].location_id)):
        key = (ln.reference or f"import:{source}", ln.reason or default_reason)
        batches.setdefault(key, []).append(move)
    for (reference, reason), batch in batches.items():
        for chunk in _chunks(batch):
            stock_sql.apply(conn, chunk, actor=actor.name, reason=reason, reference=reference)
            ticker.tick(len(chunk))
    # Only products with open backorders can allocate anything: skip a query pair per row.
    open_lines = select(OrderLine.product_id).join(Order, Order.id == OrderLine.order_id)
    open_lines = open_lines.where(OrderLine.backordered > 0, Order.status == "open")
    waiting = set(conn.execute(open_lines.distinct()).scalars())
    pairs = [(m.product_id, m.location_id) for _, m in moves if m.on_hand_delta > 0]
    backorders.allocate(conn, actor, [p for p in pairs if p[0] in waiting])


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
        raise ValidationFailed.on("mode", "not_one_of", choices="receive, set")
    _check_columns(rows, STOCK_REQUIRED, STOCK_COLUMNS)
    ticker = _Ticker(progress)

    def work(conn: Connection) -> ImportResult:
        ticker.restart()
        lines, bad = _check_rows(rows, _stock_checker(conn, rows, mode))
        result = ImportResult(errors=bad)
        moves = _stock_moves(lines, conn, mode, result)
        if result.errors and (not skip_bad or not result.imported):
            ticker.tick(len(rows))
            return ImportResult(errors=result.errors)
        result.skipped = len({e.row for e in result.errors})
        ticker.tick(len(rows) - len(moves))  # bad and unchanged rows need no writing
        _apply_moves(conn, actor, moves, mode, _source(source), ticker)
        name = _source(source)
        after = {"file": name, "mode": mode, "rows": len(rows), **result.counts()}
        audit(conn, actor, "import", "stock", name, after=after)
        return result

    return db.write(work)
