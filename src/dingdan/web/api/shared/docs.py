"""The API's documentation pages (Swagger UI at ``/docs``, ReDoc at ``/redoc``), served
from the scripts and styles the ``fastapi-offline`` package ships: no CDN.

The package's own ``FastAPIOffline()`` defines these endpoints as closures over the app it
makes. FastAPI keeps every endpoint it has classified in a module-level cache of 4,096
entries, so each app made in one process (the tests make one per test) stayed reachable,
with its database and its templates, until the process ended: a test worker grew to
several GB and its later tests slowed down. These endpoints are module functions that read
the app from the request."""

from __future__ import annotations

from pathlib import Path

import fastapi_offline
from fastapi import APIRouter, FastAPI, Request
from fastapi.openapi.docs import (
    get_redoc_html,
    get_swagger_ui_html,
    get_swagger_ui_oauth2_redirect_html,
)
from fastapi.staticfiles import StaticFiles
from starlette.responses import HTMLResponse

STATIC_URL = "/static-offline-docs"
OAUTH2_REDIRECT_URL = "/docs/oauth2-redirect"

router = APIRouter(include_in_schema=False)


def install(app: FastAPI) -> None:
    """Serve the documentation pages' scripts and styles."""
    static = Path(fastapi_offline.__file__).parent / "static"
    app.mount(STATIC_URL, StaticFiles(directory=static), name="static-offline-docs")


def _root(request: Request) -> str:
    return str(request.scope.get("root_path", ""))


@router.get("/docs")
async def swagger_ui(request: Request) -> HTMLResponse:
    app: FastAPI = request.app
    root = _root(request)
    return get_swagger_ui_html(
        openapi_url=f"{root}{app.openapi_url}",
        title=f"{app.title} - Swagger UI",
        oauth2_redirect_url=OAUTH2_REDIRECT_URL,
        swagger_js_url=f"{root}{STATIC_URL}/swagger-ui-bundle.js",
        swagger_css_url=f"{root}{STATIC_URL}/swagger-ui.css",
        swagger_favicon_url=f"{root}{STATIC_URL}/favicon.png",
        swagger_ui_parameters=app.swagger_ui_parameters,
    )


@router.get(OAUTH2_REDIRECT_URL)
async def swagger_ui_redirect() -> HTMLResponse:
    return get_swagger_ui_oauth2_redirect_html()


@router.get("/redoc")
async def redoc(request: Request) -> HTMLResponse:
    app: FastAPI = request.app
    root = _root(request)
    return get_redoc_html(
        openapi_url=f"{root}{app.openapi_url}",
        title=f"{app.title} - ReDoc",
        redoc_js_url=f"{root}{STATIC_URL}/redoc.standalone.js",
        with_google_fonts=False,
        redoc_favicon_url=f"{root}{STATIC_URL}/favicon.png",
    )
