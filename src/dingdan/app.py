"""create_app(): the FastAPI application (API + back office)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi_offline import FastAPIOffline

from dingdan import bootstrap
from dingdan.config import Settings, get_settings
from dingdan.web.api import access, catalog, errors, inventory, orders
from dingdan.web.api.middleware import BodyLimit


def create_app(settings: Settings | None = None, db: Any = None) -> FastAPI:
    settings = settings or get_settings()
    database = db or bootstrap.database(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        if db is None:
            database.dispose()

    app = FastAPIOffline(
        title="Dingdan",
        version="1.0.0",
        description="Order management for small and mid-sized online sellers.",
        lifespan=lifespan,
    )
    app.state.db = database
    app.state.settings = settings
    errors.install(app)
    for module in (catalog, inventory, orders, access):
        app.include_router(module.router)

    @app.get("/healthz", tags=["health"])
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    return app
