"""What the shop's customers load from Dingdan without signing in: the shop's logo and its
colours as a stylesheet (the pages' Content-Security-Policy allows no inline style), used by
the tracking page and the back office's printable slips (services/shared/shop.py)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from dingdan.domain.shared.errors import NotFound
from dingdan.services.shared import shop
from dingdan.web.pages.shared.core import PageRoute

router = APIRouter(route_class=PageRoute, include_in_schema=False)


@router.get("/shop/logo")
def logo(request: Request) -> Response:
    """The uploaded logo (PNG); ``?v=`` names the version, so it may be cached long."""
    try:
        data, sha = shop.logo_bytes(request.app.state.db)
    except NotFound:
        return Response(status_code=404)
    etag = f'"{sha[:32]}"'
    headers = {
        "ETag": etag,
        "Cache-Control": "public, max-age=86400" if request.query_params.get("v") else "no-cache",
        "X-Content-Type-Options": "nosniff",
    }
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    return Response(data, media_type="image/png", headers=headers)


def theme_css(face: dict[str, str]) -> str:
    """The shop's colours as CSS custom properties (each checked as #rrggbb when saved)."""
    rules = []
    for field, prop in (("color", "--brand"), ("accent_color", "--accent")):
        value = face.get(field) or ""
        if shop.COLOR_RE.match(value):
            rules.append(f"{prop}: {value};")
    css = ":root { " + " ".join(rules) + " }\n" if rules else ""
    if shop.COLOR_RE.match(face.get("color") or ""):  # the page's header in the shop's colour
        css += ".top { background: var(--brand); }\n"
    return css


@router.get("/shop/theme.css")
def theme(request: Request) -> Response:
    css = theme_css(shop.get_shop(request.app.state.db))
    return Response(css, media_type="text/css", headers={"Cache-Control": "no-cache"})
