"""create_app(): the FastAPI application (API + back office)."""

from __future__ import annotations

import asyncio
import gc
import importlib
import pkgutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from starlette.middleware.sessions import SessionMiddleware
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

import dingdan.web.api
import dingdan.web.pages
from dingdan import bootstrap
from dingdan.config import Settings, get_settings
from dingdan.web.api.orders.capture import OrderCapture
from dingdan.web.api.shared import docs, errors, openapi_links
from dingdan.web.api.shared.common_schemas import Health
from dingdan.web.api.shared.middleware import BodyLimit
from dingdan.web.api.shared.replays import Replays
from dingdan.web.pages.shared import live
from dingdan.web.pages.shared.security import SecurityHeaders, session_options


def _routers(package: Any) -> list[Any]:
    """Every ``router`` of the package's modules and of its context packages' modules, in
    module-name order: a new context registers itself by defining a router in a module of
    its folder, without editing this file."""
    found = []
    names = pkgutil.walk_packages(package.__path__, prefix=f"{package.__name__}.")
    for name in sorted(info.name for info in names):
        router = getattr(importlib.import_module(name), "router", None)
        if router is not None:
            found.append(router)
    return found


async def healthz() -> dict[str, str]:
    return {"status": "ok"}


def create_app(settings: Settings | None = None, db: Any = None) -> FastAPI:
    settings = settings or get_settings()
    bootstrap.wire()
    database = db or bootstrap.database(settings)
    reports_db = bootstrap.reports_database(settings, database)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        from dingdan.services.jobs.worker import WorkerThread

        worker = None
        if settings.run_worker:
            worker = WorkerThread(database, settings.bank_transfer_timeout_hours)
            worker.start()
        yield
        # Streams end and the live pages' listener stops with the app, before its database
        # is let go (a thread of its own: the listener wakes at least once a second).
        await asyncio.to_thread(live.stop_broker, app)
        if worker is not None:
            worker.stop()
        if reports_db is not database:
            reports_db.dispose()
        if db is None:
            database.dispose()

    app = FastAPI(
        title="Dingdan",
        version="1.0.0",
        description="Order management for small and mid-sized online sellers.",
        lifespan=lifespan,
        docs_url=None,  # served by web/api/shared/docs.py, from this package's files
        redoc_url=None,
    )
    docs.install(app)
    app.state.db = database
    # Reports and exports read here: the primary, or its replica (DINGDAN_REPORTS_DATABASE_URL).
    app.state.reports_db = reports_db
    app.state.settings = settings
    errors.install(app)
    for router in _routers(dingdan.web.api) + _routers(dingdan.web.pages):
        app.include_router(router)

    app.get("/healthz", tags=["health"], response_model=Health)(healthz)
    openapi_links.install(app)

    app.add_middleware(SessionMiddleware, **session_options(settings.secret_key))
    app.add_middleware(Replays)
    app.add_middleware(OrderCapture)
    app.add_middleware(SecurityHeaders)
    app.add_middleware(
        BodyLimit,
        max_bytes=settings.max_body_bytes,
        max_upload_bytes=settings.upload_max_bytes,
    )
    if settings.forwarded_allow_ips.strip():
        # Outermost: every layer sees the client's address that a configured proxy sent.
        # Forwarded headers from any other peer are ignored (uvicorn's own reading of them
        # is off, see cli/serving.py: it trusted 127.0.0.1 by default).
        app.add_middleware(
            ProxyHeadersMiddleware, trusted_hosts=settings.forwarded_allow_ips.strip()
        )
    return app


def served_app() -> FastAPI:
    """The application of a ``dingdan serve`` worker, with its startup heap frozen.

    Most of a worker's objects are made as it starts (modules, the tables, the routes,
    pydantic's validators) and live as long as it does. Python's cycle collector went through
    all of them at every full collection, the event loop stopped meanwhile: 190-210 ms in
    which none of the worker's requests moved (measured at 16 clients on PostgreSQL: in the
    half-seconds with such a pause the slowest 1% of orders took 250 ms, elsewhere 44-90).
    ``gc.freeze()`` puts them out of its reach; a full collection then took 20-35 ms. They
    are still freed as usual when nothing refers to them."""
    app = create_app()
    gc.collect()
    gc.freeze()
    return app
