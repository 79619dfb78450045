"""ASGI middleware: a limit on request bodies, answered with 413 problem+json (API) or a
short page in the reader's language (back office: a person uploading a file)."""

from __future__ import annotations

import json
from html import escape
from typing import Any
from urllib.parse import urlsplit

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from dingdan.web import i18n


def N_(message: str) -> str:  # noqa: N802 - the marker Babel extracts
    return message


TOO_LARGE = N_("The file is too large: at most %(size)s MB can be uploaded.")
TOO_LARGE_TITLE = N_("Too large")
BACK = N_("Back")


class BodyLimit:
    def __init__(self, app: ASGIApp, max_bytes: int, max_upload_bytes: int = 0) -> None:
        self.app = app
        self.max_bytes = max_bytes
        # File uploads (multipart) may be as large as one file plus the form around it.
        self.max_upload = max(max_bytes, max_upload_bytes + 64 * 1024)
        self.file_bytes = max_upload_bytes or max_bytes  # what a person is told they may send

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        multipart = headers.get(b"content-type", b"").startswith(b"multipart/form-data")
        limit = self.max_upload if multipart else self.max_bytes
        declared = headers.get(b"content-length")
        if declared is not None:
            try:
                too_big = int(declared) > limit
            except ValueError:
                too_big = False
            if too_big:
                await _refuse(scope, send, limit, headers, self.file_bytes)
                return
        try:
            body = await read_body(receive, limit)
        except TooLarge:
            await _refuse(scope, send, limit, headers, self.file_bytes)
            return
        if body is not None:
            await self.app(scope, replaying(body, receive), send)


class TooLarge(Exception):  # noqa: N818 - a signal to the caller, which answers 413
    """The body grew past its limit while it was read."""


def replaying(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that gives the already read body once, then what the client sends."""
    replayed = False

    async def replay() -> Message:
        nonlocal replayed
        if not replayed:
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


async def read_body(receive: Receive, limit: int | None = None) -> bytes | None:
    """The whole request body, or None when the client went away; ``TooLarge`` as soon as
    it passes ``limit`` bytes."""
    body = bytearray()
    more = True
    while more:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        body += message.get("body", b"")
        more = message.get("more_body", False)
        if limit is not None and len(body) > limit:
            raise TooLarge
    return bytes(body)


async def _refuse(
    scope: Scope, send: Send, limit: int, headers: dict[bytes, bytes], file_bytes: int
) -> None:
    if not str(scope.get("path", "")).startswith("/api/"):
        await _refuse_page(send, file_bytes, headers)
        return
    body: dict[str, Any] = {
        "type": "https://dingdan.dev/problems/payload-too-large",
        "title": "Payload too large",
        "status": 413,
        "detail": f"The request body is larger than {limit} bytes.",
        "code": "payload_too_large",
        "errors": [],
    }
    await _send_413(send, b"application/problem+json", json.dumps(body).encode())


async def _refuse_page(send: Send, file_bytes: int, headers: dict[bytes, bytes]) -> None:
    """A person's upload was too large: a page in their language with a way back."""
    language = i18n.from_accept_language(headers.get(b"accept-language", b"").decode("latin-1"))
    _ = i18n.text_for(language)
    referer = urlsplit(headers.get(b"referer", b"").decode("latin-1"))
    back = (
        referer.path if referer.path.startswith("/") and not referer.path.startswith("//") else "/"
    )
    size = f"{file_bytes / 1_000_000:.3g}"
    title, message = escape(_(TOO_LARGE_TITLE)), escape(_(TOO_LARGE, size=size))
    raw = (
        f'<!doctype html><html lang="{language.replace("_", "-")}"><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{title}</title><main><h1>{title}</h1><p>{message}</p>"
        f'<p><a href="{escape(back)}">{escape(_(BACK))}</a></p></main></html>'
    ).encode()
    await _send_413(send, b"text/html; charset=utf-8", raw)


async def _send_413(send: Send, content_type: bytes, raw: bytes) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", content_type),
                (b"content-length", str(len(raw)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": raw})
