"""Product photos (issue 21, part 9): uploaded for a SKU or a style (shown for its variants
that have none), checked by their bytes (JPEG, PNG or WebP, at most the upload limit),
decoded by Pillow only when their declared size is at most ``MAX_PIXELS`` (a decompression
bomb is refused, not decoded), turned upright by their EXIF orientation, then written as
JPEG in ``SIZES`` (their EXIF, with any GPS position, left behind) under the upload
directory, named by their SHA-256, before the row that names them is committed.

A photo removed takes its files with it, after the commit (a removal rolled back keeps
them) and only those no other photo names (the same picture on two SKUs shares its files).
Removing and adding the same files are serialised by a lock file beside them, and an upload
writes again, after its commit, any file a removal took meanwhile: between an upload's
writing its files and committing its row, a removal may see no row naming them.

Dingdan serves them at ``/product-photos/<key>/<size>.jpg``, where ``key`` is the SHA-256
of the uploaded bytes: the address changes with the picture, so it is cached for a year;
they are the shop's catalogue pictures, served without signing in (as the logo is), for the
back office's ``<img>`` and a channel's listing alike.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import hashlib
import io
import logging
from collections.abc import Iterator
from typing import Any

from sqlalchemy import Connection, String, cast, delete, func, insert, select, update

from dingdan.db.engine import Database
from dingdan.db.style_tables import ProductPhoto, ProductStyle, ProductVariant
from dingdan.db.tables import Product
from dingdan.domain.shared.errors import Conflict, NotFound, ValidationFailed
from dingdan.services.catalog.shapes import PhotoView
from dingdan.services.shared import uploads
from dingdan.services.shared.common import Actor, audit, iso

PHOTO_TYPES = {"image/jpeg": ".jpg", "image/png": ".png", "image/webp": ".webp"}
SIZES = {"thumb": 96, "medium": 480, "large": 1200}  # longest side, in pixels
MAX_PIXELS = 40_000_000
MAX_PHOTOS = 12  # of one SKU or style
PHOTO_DIR = "product-photos"
_QUALITY = 85
log = logging.getLogger("dingdan.photos")


def photo_url(key: str, size: str = "thumb") -> str:
    return f"/product-photos/{key}/{size}.jpg"


def _decode(data: bytes) -> Any:
    """The image upright, RGB (transparency on white); ValidationFailed on ``file`` for what
    is not a whole image or is larger than ``MAX_PIXELS``."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as probe:  # reads the header only
            if probe.width * probe.height > MAX_PIXELS:
                raise ValidationFailed.on("file", "image_too_large", max=MAX_PIXELS)
            probe.verify()
        with Image.open(io.BytesIO(data)) as img:
            img.load()
            upright = ImageOps.exif_transpose(img) or img
            if upright.mode in ("RGBA", "LA", "P"):
                rgba = upright.convert("RGBA")
                flat = Image.new("RGB", rgba.size, (255, 255, 255))
                flat.paste(rgba, mask=rgba.getchannel("A"))
                return flat
            return upright.convert("RGB")
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise ValidationFailed.on("file", "not_an_image") from None


def resized(data: bytes) -> dict[str, tuple[bytes, int, int]]:
    """Size name → (JPEG bytes, width, height), each at most its size a side (never
    enlarged)."""
    from PIL import Image

    image = _decode(data)
    out = {}
    for name, box in SIZES.items():
        copy = image.copy()
        copy.thumbnail((box, box), Image.Resampling.LANCZOS)
        buf = io.BytesIO()
        copy.save(buf, format="JPEG", quality=_QUALITY, optimize=True, progressive=True)
        out[name] = (buf.getvalue(), copy.width, copy.height)
    return out


def _owner(conn: Connection, sku: str | None, style: str | None) -> dict[str, int]:
    if sku is not None:
        pid = conn.execute(select(Product.id).where(Product.sku == sku)).scalar()
        if pid is None:
            raise NotFound(detail=f"No product with SKU {sku!r}.")
        return {"product_id": int(pid)}
    sid = conn.execute(select(ProductStyle.id).where(ProductStyle.code == style)).scalar()
    if sid is None:
        raise NotFound(detail=f"No style with code {style!r}.")
    return {"style_id": int(sid)}


def _where(owner: dict[str, int]) -> Any:
    if "product_id" in owner:
        return ProductPhoto.product_id == owner["product_id"]
    return ProductPhoto.style_id == owner["style_id"]


def _view(r: Any) -> PhotoView:
    files = r.files or {}
    return {
        "id": str(r.id),
        "key": r.key,
        "position": r.position,
        "urls": {name: photo_url(r.key, name) for name in SIZES if name in files},
        "width": (files.get("large") or {}).get("width"),
        "height": (files.get("large") or {}).get("height"),
        "created_at": iso(r.created_at),
    }


def _list(conn: Connection, owner: dict[str, int]) -> list[PhotoView]:
    rows = conn.execute(
        select(ProductPhoto).where(_where(owner)).order_by(ProductPhoto.position, ProductPhoto.id)
    )
    return [_view(r) for r in rows]


def photos_of(db: Database, *, sku: str | None = None, style: str | None = None) -> list[PhotoView]:
    """The photos of a SKU (or of a style), first first."""
    return db.read(lambda conn: _list(conn, _owner(conn, sku, style)))


def add_photo(
    db: Database,
    actor: Actor,
    filename: Any,
    data: bytes,
    *,
    sku: str | None = None,
    style: str | None = None,
) -> list[PhotoView]:
    """Checks, resizes and stores the upload; it becomes the owner's last photo. Returns
    the owner's photos."""
    uploads.check_file(filename, data, "file", PHOTO_TYPES, detail="The photo was refused.")
    db.read(lambda conn: _owner(conn, sku, style))  # a wrong SKU is said before the work
    key = hashlib.sha256(data).hexdigest()
    files = {}
    sized = resized(data)
    for name, (jpeg, width, height) in sized.items():
        sha, path = uploads.store(PHOTO_DIR, jpeg, "image/jpeg")
        files[name] = {"path": path, "sha256": sha, "width": width, "height": height}

    def work(conn: Connection) -> list[PhotoView]:
        owner = _owner(conn, sku, style)
        where = _where(owner)
        count, last = conn.execute(
            select(func.count(), func.max(ProductPhoto.position)).where(where)
        ).one()
        if count >= MAX_PHOTOS:
            raise ValidationFailed.on("file", "too_many_items", max=MAX_PHOTOS)
        conn.execute(
            insert(ProductPhoto).values(
                **owner,
                key=key,
                files=files,
                position=(last if last is not None else -1) + 1,
                created_by=actor.name,
            )
        )
        audit(conn, actor, "create", "product_photo", sku or f"style:{style}", after={"key": key})
        return _list(conn, owner)

    out = db.write(work)
    with _files_lock():
        for jpeg, _w, _h in sized.values():
            uploads.store(PHOTO_DIR, jpeg, "image/jpeg")  # written again if a removal took it
    return out


@contextlib.contextmanager
def _files_lock() -> Iterator[None]:
    """Held while photo files are removed, or written again after an upload's commit."""
    folder = uploads.upload_dir() / PHOTO_DIR
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / ".lock", "a+b") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def _paths(files: Any) -> list[tuple[str, str]]:
    """(relative path, SHA-256) of each stored size."""
    return [
        (str(e["path"]), str(e["sha256"]))
        for e in (files or {}).values()
        if isinstance(e, dict) and e.get("path") and e.get("sha256")
    ]


def _discard(db: Database, files: list[tuple[str, str]]) -> None:
    """Removes the files no photo names any more; called after the commit that removed the
    photo. A file already gone is no error; one that cannot be removed is logged and left."""
    if not files:
        return

    def named(sha: str) -> bool:
        stmt = select(ProductPhoto.id).where(cast(ProductPhoto.files, String).contains(sha))
        return db.read(lambda conn: conn.execute(stmt.limit(1)).first() is not None)

    with _files_lock():
        for path, sha in files:
            if not path.startswith(f"{PHOTO_DIR}/") or ".." in path or named(sha):
                continue
            try:
                (uploads.upload_dir() / path).unlink(missing_ok=True)
            except OSError as exc:
                log.warning("photo file %s not removed: %s", path, exc)


def _photo(conn: Connection, photo_id: Any) -> Any:
    try:
        pid = int(photo_id)
    except (TypeError, ValueError):
        pid = -1
    row = conn.execute(select(ProductPhoto).where(ProductPhoto.id == pid)).first()
    if row is None:
        raise NotFound(detail=f"No photo {photo_id!r}.")
    return row


def _owner_of(row: Any) -> dict[str, int]:
    if row.product_id is not None:
        return {"product_id": int(row.product_id)}
    return {"style_id": int(row.style_id)}


def delete_photo(db: Database, actor: Actor, photo_id: Any) -> list[PhotoView]:
    """Removes the photo from its SKU or style; after the commit, its files unless another
    photo names them."""

    def work(conn: Connection) -> tuple[list[PhotoView], list[tuple[str, str]]]:
        row = _photo(conn, photo_id)
        conn.execute(delete(ProductPhoto).where(ProductPhoto.id == row.id))
        audit(conn, actor, "delete", "product_photo", str(row.id), before={"key": row.key})
        return _list(conn, _owner_of(row)), _paths(row.files)

    left, files = db.write(work)
    _discard(db, files)
    return left


def make_first(db: Database, actor: Actor, photo_id: Any) -> list[PhotoView]:
    """The photo shown first (in order entry, on pick lists and the pack screen)."""

    def work(conn: Connection) -> list[PhotoView]:
        row = _photo(conn, photo_id)
        owner = _owner_of(row)
        ids = [p["id"] for p in _list(conn, owner)]
        ids.remove(str(row.id))
        for position, pid in enumerate([str(row.id), *ids]):
            conn.execute(
                update(ProductPhoto).where(ProductPhoto.id == int(pid)).values(position=position)
            )
        audit(conn, actor, "update", "product_photo", str(row.id), after={"position": 0})
        return _list(conn, owner)

    return db.write(work)


def thumbnails(db: Database, skus: list[str], size: str = "thumb") -> dict[str, str]:
    """SKU → the address of its first photo, else of its style's first photo (SKUs with
    neither are left out). Two queries, whatever the number of SKUs."""
    wanted = sorted({s for s in skus if isinstance(s, str)})[:1000]
    if not wanted:
        return {}
    keys = db.read(lambda conn: _first_keys(conn, wanted))
    return {sku: photo_url(key, size) for sku, key in keys.items()}


def thumbnail_data(db: Database, skus: list[str], size: str = "thumb") -> dict[str, str]:
    """SKU → its first photo (else its style's) as a ``data:`` URL of the JPEG, for a
    document that fetches nothing (a PDF made by the worker). A file missing or not matching
    its checksum is left out, as a SKU without a photo is."""
    wanted = sorted({s for s in skus if isinstance(s, str)})[:1000]
    if not wanted:
        return {}

    def work(conn: Connection) -> tuple[dict[str, str], dict[str, Any]]:
        keys = _first_keys(conn, wanted)
        rows = conn.execute(
            select(ProductPhoto.key, ProductPhoto.files).where(
                ProductPhoto.key.in_(sorted(set(keys.values())))
            )
        )
        return keys, {key: files for key, files in rows}

    keys, files = db.read(work)
    encoded: dict[str, str] = {}
    for key, entries in files.items():
        entry = (entries or {}).get(size)
        if not isinstance(entry, dict):
            continue
        try:
            jpeg = uploads.read(str(entry["path"]), str(entry["sha256"]))
        except (NotFound, Conflict):
            continue
        encoded[key] = "data:image/jpeg;base64," + base64.b64encode(jpeg).decode("ascii")
    return {sku: encoded[key] for sku, key in keys.items() if key in encoded}


def _first_keys(conn: Connection, wanted: list[str]) -> dict[str, str]:
    """SKU → the key of its first photo, else of its style's first photo."""
    out: dict[str, str] = {}
    own = (
        select(Product.sku, ProductPhoto.key)
        .join(ProductPhoto, ProductPhoto.product_id == Product.id)
        .where(Product.sku.in_(wanted))
        .order_by(Product.sku, ProductPhoto.position.desc(), ProductPhoto.id.desc())
    )
    for sku, key in conn.execute(own):
        out[sku] = key  # the last written is the first photo
    styled = (
        select(Product.sku, ProductPhoto.key)
        .join(ProductVariant, ProductVariant.product_id == Product.id)
        .join(ProductPhoto, ProductPhoto.style_id == ProductVariant.style_id)
        .where(Product.sku.in_([s for s in wanted if s not in out]))
        .order_by(Product.sku, ProductPhoto.position.desc(), ProductPhoto.id.desc())
    )
    for sku, key in conn.execute(styled):
        out[sku] = key
    return out


def photo_file(db: Database, key: str, size: str) -> tuple[bytes, str]:
    """The stored JPEG of one size of the photo ``key``, and its checksum; NotFound when no
    SKU or style has that photo now."""
    if size not in SIZES or len(key) != 64 or not all(c in "0123456789abcdef" for c in key):
        raise NotFound(detail="No such photo.")
    files = db.read(
        lambda conn: conn.execute(
            select(ProductPhoto.files).where(ProductPhoto.key == key).limit(1)
        ).scalar()
    )
    entry = (files or {}).get(size)
    if not isinstance(entry, dict):
        raise NotFound(detail="No such photo.")
    return uploads.read(str(entry["path"]), str(entry["sha256"])), str(entry["sha256"])
