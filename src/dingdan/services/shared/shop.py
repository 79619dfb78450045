"""The shop's own face: its name, logo, colours, contact (email, phone, LINE ID), the return
policy and return address, and the bank account a bank transfer goes to. Customer messages,
the customer's tracking page and packing slips show them instead of Dingdan's name (issue
21, part 8). Kept as JSON in ``settings`` under the key ``shop``.

Here, below every context, so that orders (the tracking page), fulfilment (packing slips)
and messaging all read the same settings; ``services.messaging.shop`` re-exports them.

The logo is uploaded (PNG, JPEG or WebP), checked by its bytes, resized with Pillow to at
most ``LOGO_BOX`` pixels a side, stored as PNG under the upload directory (named by its
SHA-256) and served by Dingdan at ``/shop/logo``; an address of a logo elsewhere
(``logo_url``) is still accepted.
"""

from __future__ import annotations

import io
import re
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection, select
from sqlalchemy.dialects import postgresql, sqlite

from dingdan.db.engine import Database
from dingdan.db.tables import Setting
from dingdan.db.types import utcnow
from dingdan.domain.shared.errors import FieldErrors, NotFound, ValidationFailed
from dingdan.services.shared import uploads
from dingdan.services.shared.common import Actor, audit

KEY = "shop"
# Field → longest value. Every field is text, and may be empty.
FIELDS: dict[str, int] = {
    "name": 100,
    "logo_url": 500,
    "email": 254,
    "phone": 40,
    "line_id": 100,
    "address": 300,
    "color": 7,
    "accent_color": 7,
    "return_policy": 2000,
    "return_address": 300,
    "bank_name": 100,
    "bank_code": 10,
    "account_name": 100,
    "account_number": 40,
}
COLOR_FIELDS = ("color", "accent_color")
COLOR_RE = re.compile(r"^#[0-9a-fA-F]{6}$")
DEFAULT_NAME = "Dingdan"
LOGO_TYPES = {"image/png": ".png", "image/jpeg": ".jpg", "image/webp": ".webp"}
LOGO_MAX_BYTES = 2 * 1024 * 1024
LOGO_MAX_PIXELS = 40_000_000  # a decompression bomb is refused, not resized
LOGO_BOX = (512, 512)
LOGO_DIR = "shop"


def _stored(conn: Connection) -> dict[str, Any]:
    value = conn.execute(select(Setting.value).where(Setting.key == KEY)).scalar()
    return dict(value or {})


def logo_path(value: Mapping[str, object]) -> str:
    """Where Dingdan serves the uploaded logo (a new upload, a new address), or ""."""
    logo = value.get("logo_file") or {}
    sha = logo.get("sha256") if isinstance(logo, dict) else None
    return f"/shop/logo?v={sha[:12]}" if sha else ""


def load(conn: Connection) -> dict[str, str]:
    """Every field (text, "" when not set; the name defaults to Dingdan's), and ``logo``:
    the address of the uploaded logo on this server, or ""."""
    value = _stored(conn)
    shop = {k: str(value.get(k) or "") for k in FIELDS}
    shop["name"] = shop["name"] or DEFAULT_NAME
    shop["logo"] = logo_path(value)
    return shop


def get_shop(db: Database) -> dict[str, str]:
    return db.read(load)


def _save(conn: Connection, value: dict[str, Any]) -> None:
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(Setting).values(key=KEY, value=value, updated_at=utcnow())
    conn.execute(
        stmt.on_conflict_do_update(
            index_elements=["key"], set_={"value": value, "updated_at": utcnow()}
        )
    )


def _clean(body: Mapping[str, object]) -> dict[str, str]:
    errors = FieldErrors()
    clean: dict[str, str] = {}
    for k, most in FIELDS.items():
        v = body.get(k)
        if v is None:
            v = ""
        if not isinstance(v, str):
            errors.add(k, "not_text")
        elif len(v.strip()) > most:
            errors.add(k, "too_long", max=most)
        else:
            clean[k] = v.strip()
    if clean.get("logo_url") and not clean["logo_url"].startswith(("https://", "http://")):
        errors.add("logo_url", "invalid", reason="an http(s) address")
    for k in COLOR_FIELDS:
        if clean.get(k) and not COLOR_RE.match(clean[k]):
            errors.add(k, "invalid", reason="a colour such as #0f766e")
        elif clean.get(k):
            clean[k] = clean[k].lower()
    errors.raise_if_any()
    return clean


def put_shop(db: Database, actor: Actor, body: Mapping[str, object]) -> dict[str, str]:
    """Replaces the shop's settings; fields left out are empty. The uploaded logo stays
    (it is replaced by uploading another, or removed with ``remove_logo``)."""
    clean = _clean(body)

    def work(conn: Connection) -> dict[str, str]:
        before = load(conn)
        stored = _stored(conn)
        value: dict[str, Any] = dict(clean)
        if stored.get("logo_file"):
            value["logo_file"] = stored["logo_file"]
        _save(conn, value)
        audit(conn, actor, "update", "setting", KEY, before, clean)
        return load(conn)

    return db.write(work)


# ---- the logo ----------------------------------------------------------------------------


def resized_logo(data: bytes) -> bytes:
    """The image at most ``LOGO_BOX`` a side, as PNG (transparency kept); a file that is not
    a whole image Pillow can read is refused on the field ``logo``."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as probe:
            if probe.width * probe.height > LOGO_MAX_PIXELS:
                raise ValidationFailed.on("logo", "image_too_large", max=LOGO_MAX_PIXELS)
            probe.verify()
        with Image.open(io.BytesIO(data)) as img:
            img.load()
            rgba = img.convert("RGBA")
        rgba.thumbnail(LOGO_BOX, Image.Resampling.LANCZOS)
        out = io.BytesIO()
        rgba.save(out, format="PNG", optimize=True)
        return out.getvalue()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise ValidationFailed.on("logo", "not_an_image") from None


def _sniff(head: bytes) -> str | None:
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if len(head) >= 12 and head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    return None


def check_logo(filename: Any, data: bytes) -> None:
    """The upload's bytes say PNG, JPEG or WebP, and it is at most ``LOGO_MAX_BYTES``."""
    errors = FieldErrors()
    if not data:
        errors.add("logo", "empty_file")
    elif len(data) > LOGO_MAX_BYTES:
        errors.add("logo", "file_too_large", max=LOGO_MAX_BYTES)
    elif _sniff(data[:12]) not in LOGO_TYPES:
        errors.add("logo", "wrong_file_type", kinds="PNG, JPEG or WebP")
    if not isinstance(filename, str) or not filename or len(filename) > 255:
        errors.add("logo", "file_name")
    errors.raise_if_any("The logo was refused.")


def set_logo(db: Database, actor: Actor, filename: Any, data: bytes) -> dict[str, str]:
    """Checks, resizes and stores the logo (durable before the setting names it)."""
    check_logo(filename, data)
    png = resized_logo(data)
    sha, relative = uploads.store(LOGO_DIR, png, "image/png")

    def work(conn: Connection) -> dict[str, str]:
        value = _stored(conn)
        before = logo_path(value)
        value["logo_file"] = {"path": relative, "sha256": sha}
        _save(conn, value)
        audit(conn, actor, "update", "setting", f"{KEY}.logo", {"logo": before}, {"logo": sha})
        return load(conn)

    return db.write(work)


def remove_logo(db: Database, actor: Actor) -> dict[str, str]:
    def work(conn: Connection) -> dict[str, str]:
        value = _stored(conn)
        if value.pop("logo_file", None) is not None:
            _save(conn, value)
            audit(conn, actor, "delete", "setting", f"{KEY}.logo")
        return load(conn)

    return db.write(work)


def logo_bytes(db: Database) -> tuple[bytes, str]:
    """The uploaded logo (PNG) and its checksum; NotFound when none was uploaded."""
    value = db.read(_stored)
    logo = value.get("logo_file")
    if not isinstance(logo, dict) or not logo.get("sha256"):
        raise NotFound(detail="The shop has no logo.")
    return uploads.read(str(logo["path"]), str(logo["sha256"])), str(logo["sha256"])
