"""An application let go is freed: nothing module-level keeps it (with its database, its
templates and its routes) alive. FastAPI caches every endpoint it has classified; endpoints
that were closures over the app (the documentation pages of ``fastapi-offline``) kept each
app the tests made until the process ended, and test workers grew to several GB."""

from __future__ import annotations

import gc
import weakref
from typing import Any

from fastapi.testclient import TestClient


def test_an_app_that_served_requests_is_freed(settings: Any, db: Any) -> None:
    from dingdan.app import create_app

    app = create_app(settings, db=db)
    with TestClient(app, raise_server_exceptions=False) as client:
        assert client.get("/healthz").status_code == 200
        assert "swagger-ui-bundle.js" in client.get("/docs").text
        assert client.get("/static-offline-docs/swagger-ui.css").status_code == 200
        assert "redoc.standalone.js" in client.get("/redoc").text
        assert client.get("/login").status_code == 200
    freed = weakref.ref(app)
    del app, client
    gc.collect()
    assert freed() is None
