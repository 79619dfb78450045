"""The customer's tracking page, ``/track/{token}``: no sign-in, no personal details, and
rate-limited per client address (in memory: one process is enough to slow a guesser)."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict, deque

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from dingdan.domain.errors import NotFound
from dingdan.services import tracking
from dingdan.web.pages.core import Anon, PageRoute

router = APIRouter(route_class=PageRoute, include_in_schema=False)


class RateLimit:
    """At most ``limit`` requests per ``window`` seconds per key (sliding window)."""

    def __init__(self, limit: int = 30, window: float = 60.0, keys: int = 10_000) -> None:
        self.limit, self.window, self.max_keys = limit, window, keys
        self.hits: OrderedDict[str, deque[float]] = OrderedDict()
        self.lock = threading.Lock()

    def allow(self, key: str, now: float | None = None) -> bool:
        now = time.monotonic() if now is None else now
        with self.lock:
            q = self.hits.pop(key, None) or deque()
            while q and q[0] <= now - self.window:
                q.popleft()
            allowed = len(q) < self.limit
            if allowed:
                q.append(now)
            self.hits[key] = q
            while len(self.hits) > self.max_keys:
                self.hits.popitem(last=False)
            return allowed


def limiter_of(request: Request) -> RateLimit:
    """One limiter per application (so each app, and each test, counts on its own)."""
    state = request.app.state
    if getattr(state, "track_limiter", None) is None:
        state.track_limiter = RateLimit()
    return state.track_limiter  # type: ignore[no-any-return]


@router.get("/track/{token}")
def track(request: Request, token: str, page: Anon) -> Response:
    client = request.client.host if request.client else "unknown"
    if not limiter_of(request).allow(client):
        return HTMLResponse(
            str(page.gettext("Too many requests. Try again in a minute.")),
            status_code=429,
            headers={"Retry-After": "60"},
        )
    try:
        data = tracking.tracking_view(request.app.state.db, token)
    except NotFound:
        return page.render("track.html", status=404, t=None)
    return page.render("track.html", t=data)
