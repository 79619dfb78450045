"""Security headers on every response, and the session middleware's settings.

Every answer but the static files is ``Cache-Control: no-store`` unless its route says
otherwise: pages and API answers carry customers' names, addresses and phones, which no
browser or proxy cache should keep (a shared computer's back button, a proxy's disk).

The Content-Security-Policy allows no inline script (every script is a file under
/static), and no framing. The API documentation pages of fastapi-offline need their inline
bootstrap script, so /docs and /redoc get the same headers without a script rule; the
reports' charts (plotly.js) need style attributes, allowed on /reports/ only.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
DOCS_CSP = "frame-ancestors 'none'; object-src 'none'; base-uri 'none'"
# The reports' pages draw with plotly.js, which positions its layers with style attributes
# and writes its own <style> element: inline styles are allowed there (only there, and
# only styles: scripts stay files).
REPORTS_CSP = CSP.replace("style-src 'self'", "style-src 'self' 'unsafe-inline'")
REPORTS_PATHS = ("/reports/",)
DOCS_PATHS = ("/docs", "/redoc")
CACHEABLE_PATHS = ("/static/",)
# A page that hands the browser on to an outside service's form (ECPay's checkout, its store
# map and label pages take a POST) names that origin in this response header (``hand_off``);
# it is added to ``form-action`` for that response only and not sent on. It is the one way
# a page widens ``form-action``: Chromium applies form-action to the redirects that follow a
# form's submission too, so a form posted to us and answered by a redirect elsewhere is
# blocked; such a hand-off answers a page instead (a form posted on, or a link).
FORM_ACTION_HEADER = b"x-dingdan-form-action"
_ORIGIN = re.compile(rb"https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?")

SESSION_COOKIE = "dingdan_session"


def hand_off(response: Response, url: str) -> Response:
    """Let ``response``'s page post a form to the origin of ``url`` (an outside service's
    address from our settings, never from the request)."""
    parts = urlsplit(url)
    response.headers[FORM_ACTION_HEADER.decode()] = f"{parts.scheme}://{parts.netloc}"
    return response


def session_options(secret_key: str) -> dict[str, Any]:
    """Keyword arguments for Starlette's SessionMiddleware: HttpOnly (always, in Starlette),
    SameSite=Lax, and no Max-Age so the cookie ends with the browser session (the pages
    also end a session 12 hours after sign-in). ``Secure`` is added by SecurityHeaders
    whenever the request came over HTTPS."""
    return {
        "secret_key": secret_key,
        "session_cookie": SESSION_COOKIE,
        "same_site": "lax",
        "https_only": False,
        "max_age": None,
    }


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        https = scope.get("scheme") == "https"
        csp = DOCS_CSP if path.startswith(DOCS_PATHS) else CSP
        if path.startswith(REPORTS_PATHS):
            csp = REPORTS_CSP
        referrer = b"no-referrer" if path.startswith(("/track/", "/pay/")) else b"same-origin"
        no_store = not path.startswith(CACHEABLE_PATHS)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                page_csp = csp
                for k, v in message.get("headers", []):
                    if k.lower() == FORM_ACTION_HEADER and _ORIGIN.fullmatch(v):
                        origin = v.decode("ascii")
                        page_csp = csp.replace("form-action 'self'", f"form-action 'self' {origin}")
                headers = [
                    (k, v)
                    for k, v in message.get("headers", [])
                    if k.lower() not in (b"set-cookie", FORM_ACTION_HEADER)
                ]
                for k, v in message.get("headers", []):
                    if k.lower() == b"set-cookie":
                        if https and b"secure" not in v.lower():
                            v += b"; Secure"
                        headers.append((k, v))
                ours = [
                    (b"content-security-policy", page_csp.encode()),
                    (b"x-content-type-options", b"nosniff"),
                    (b"x-frame-options", b"DENY"),
                    (b"referrer-policy", referrer),
                    (b"cross-origin-opener-policy", b"same-origin"),
                ]
                # Ours replace a route's own copy (a header sent twice reads "nosniff, nosniff").
                names = {k for k, _ in ours}
                headers = [(k, v) for k, v in headers if k.lower() not in names] + ours
                if https:
                    headers.append((b"strict-transport-security", b"max-age=31536000"))
                if no_store and not any(k.lower() == b"cache-control" for k, _ in headers):
                    headers.append((b"cache-control", b"no-store"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)
