"""Files people upload (dispute evidence, return photos): checked by their first bytes and
size, written outside the database under the upload directory, named by SHA-256, durable
(fsync, then an atomic rename) before the row that names them is committed."""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path, PurePosixPath
from typing import Any

from dingdan.config import Settings
from dingdan.domain.after_sales.returns import EVIDENCE_TYPES, sniff_type
from dingdan.domain.shared.errors import FieldErrors, NotFound


def upload_dir() -> Path:
    # Read afresh: uploads are rare, and the setting may change without a restart in tests.
    return Path(Settings().upload_dir)


def max_upload_bytes() -> int:
    return Settings().upload_max_bytes


_NAMES = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WebP", "application/pdf": "PDF"}


_EXTENSIONS = {
    "image/jpeg": ".jpg",
    "image/png": ".png",
    "image/webp": ".webp",
    "application/pdf": ".pdf",
}


def download_name(filename: str, kind: str) -> str:
    """The name a stored file is downloaded under: the name it was uploaded with, its
    extension replaced by that of the type detected from its bytes (``invoice.html`` holding
    a PNG is served as ``invoice.png``), so that nothing opens it as what it is not."""
    name = PurePosixPath(filename.replace("\\", "/")).name
    stem = name.rsplit(".", 1)[0] if "." in name.lstrip(".") else name
    return (stem.strip(". ") or "file") + _EXTENSIONS.get(kind, ".bin")


def _kinds(types: dict[str, str]) -> str:
    """``JPEG, PNG, WebP or PDF``: the accepted kinds, for the message."""
    names = [_NAMES[t] for t in types]
    return ", ".join(names[:-1]) + " or " + names[-1] if len(names) > 1 else names[0]


def check_file(
    filename: Any,
    data: bytes,
    field: str = "file",
    types: dict[str, str] = EVIDENCE_TYPES,
    errors: FieldErrors | None = None,
    detail: str = "The file was refused.",
) -> str:
    """The file's content type, or ValidationFailed on ``field`` saying what is wrong."""
    errors = errors if errors is not None else FieldErrors()
    limit = max_upload_bytes()
    kind = sniff_type(data[:16])
    if not data:
        errors.add(field, "empty_file")
    elif len(data) > limit:
        errors.add(field, "file_too_large", max=limit)
    elif kind is None or kind not in types:
        errors.add(field, "wrong_file_type", kinds=_kinds(types))
    if not isinstance(filename, str) or not filename or len(filename) > 255:
        errors.add(field, "file_name")
    errors.raise_if_any(detail)
    assert kind is not None
    return kind


def store(subdir: str, data: bytes, kind: str) -> tuple[str, str]:
    """Write the file once (same content, same name); returns (sha256, relative path)."""
    digest = hashlib.sha256(data).hexdigest()
    relative = Path(subdir) / f"{digest}{EVIDENCE_TYPES[kind]}"
    target = upload_dir() / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    if not target.exists():
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".upload-")
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    return digest, relative.as_posix()


def read(relative: str, sha256: str) -> bytes:
    """The stored bytes, checked against their checksum."""
    path = upload_dir() / relative
    try:
        data = path.read_bytes()
    except OSError:
        raise NotFound(detail="The stored file is missing.") from None
    if hashlib.sha256(data).hexdigest() != sha256:
        from dingdan.domain.shared.errors import Conflict

        raise Conflict(detail="The stored file does not match its checksum.")
    return data
