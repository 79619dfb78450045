"""Files uploaded in the back office for an import, kept between the preview and the
person's confirmation: named by their SHA-256 under the upload directory, removed once
imported or after a day."""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import time
from pathlib import Path
from typing import Any

from dingdan.services.catalog.imports import MAX_UPLOAD_ROWS, Row, _bad_file, _extension, _parse
from dingdan.services.shared.uploads import upload_dir

STAGED_HOURS = 24  # how long an uploaded file waits for its import to be confirmed


def _staged_dir() -> Path:
    return upload_dir() / "imports"


_TOKEN = re.compile(r"^[0-9a-f]{64}\.(csv|xlsx)$")


def stage_upload(filename: str, data: bytes) -> str:
    """Keep an uploaded file until its import is confirmed; returns its token (the content's
    SHA-256 and extension). Files staged longer than ``STAGED_HOURS`` ago are removed."""
    folder = _staged_dir()
    folder.mkdir(parents=True, exist_ok=True)
    old = time.time() - STAGED_HOURS * 3600
    for stale in folder.glob("*"):
        if stale.is_file() and stale.stat().st_mtime < old:
            stale.unlink(missing_ok=True)
    token = f"{hashlib.sha256(data).hexdigest()}{_extension(filename)}"
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".upload-")
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    os.replace(tmp, folder / token)
    return token


def staged_rows(token: Any, filename: str) -> list[Row]:
    """The rows of a staged file; ValidationFailed when the token is bad or the file gone."""
    if not isinstance(token, str) or not _TOKEN.match(token):
        raise _bad_file("not_uploaded")
    try:
        data = (_staged_dir() / token).read_bytes()
    except OSError:
        raise _bad_file("not_uploaded") from None
    return _parse(filename, Path(token).suffix, data, MAX_UPLOAD_ROWS)


def discard_staged(token: Any) -> None:
    if isinstance(token, str) and _TOKEN.match(token):
        (_staged_dir() / token).unlink(missing_ok=True)
