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

from typing import Any

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
# The customer's pay page posts the signed checkout form to the payment service: its route
# sets its own policy (ours with that service's address in form-action), kept as it is.
PAY_PATHS = ("/pay/",)

# A page that hands the browser on to an outside service's form (ECPay's store map and label
# pages take a POST) names that origin in this response header; it is added to
# ``form-action`` for that response only and not sent on.
FORM_ACTION_HEADER = b"x-dingdan-form-action"

SESSION_COOKIE = "dingdan_session"


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
            nonlocal csp
            if message["type"] == "http.response.start":
                if path.startswith(PAY_PATHS):
                    own = [
                        v
                        for k, v in message.get("headers", [])
                        if k.lower() == b"content-security-policy"
                    ]
                    csp = own[0].decode() if own else csp
                page_csp = csp
                for k, v in message.get("headers", []):
                    if k.lower() == FORM_ACTION_HEADER and v.startswith(b"https://"):
                        origin = v.decode("latin-1").split()[0]
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
