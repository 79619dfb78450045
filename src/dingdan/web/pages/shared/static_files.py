"""Static files of the back office: our CSS and JS, and htmx from its Python package
(``django-js-lib-htmx`` ships ``htmx.min.js`` as package data, ``plotly`` its
``plotly.min.js``; nothing from a CDN)."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse, Response

HERE = Path(__file__).parents[1] / "static"
VENDOR = {
    "htmx.min.js": Path(str(files("js_lib_htmx") / "static" / "htmx" / "htmx.min.js")),
    # The live pages' connection (sse-connect, reconnection): htmx's SSE extension from the
    # same package (docs/architecture.md, "Live pages", on which version it is).
    "sse.js": Path(str(files("js_lib_htmx") / "static" / "htmx" / "ext" / "sse.js")),
    # The reports' charts: plotly.js as the plotly package ships it (package_data).
    "plotly.min.js": Path(str(files("plotly") / "package_data" / "plotly.min.js")),
}
TYPES = {".css": "text/css", ".js": "text/javascript", ".svg": "image/svg+xml"}

router = APIRouter(include_in_schema=False)


def _serve(path: Path) -> Response:
    if not path.is_file():
        return Response("Not found", status_code=404, media_type="text/plain")
    return FileResponse(
        path,
        media_type=TYPES.get(path.suffix, "application/octet-stream"),
        headers={"Cache-Control": "public, max-age=3600"},
    )


@router.get("/favicon.ico")
def favicon() -> Response:
    return _serve(HERE / "favicon.svg")


@router.get("/static/vendor/{name}")
def vendor(name: str) -> Response:
    path = VENDOR.get(name)
    return _serve(path) if path else Response("Not found", status_code=404)


@router.get("/static/{name}")
def static(name: str) -> Response:
    # One flat directory: a name with a separator or a dot-dot never leaves it.
    if "/" in name or "\\" in name or name.startswith("."):
        return Response("Not found", status_code=404)
    return _serve(HERE / name)
