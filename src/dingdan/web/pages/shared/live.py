"""Live pages: ``GET /live``, a Server-Sent Events stream telling a signed-in screen which
of its names changed (services/shared/live_changes.py; docs/architecture.md, "Live pages").

One ``Broker`` per application in each process: one thread reads the counters when woken
(PostgreSQL's NOTIFY, SQLite's timer) and hands the names that changed to every open
stream on the event loop, so a hundred screens cost one read, not a hundred. The thread
runs only while a stream is open. A stream carries names only, never data: the page fetches
its own fragment again through htmx, with the reader's permissions.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
import weakref
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response, StreamingResponse
from starlette.concurrency import run_in_threadpool

from dingdan.domain.shared.errors import DomainError
from dingdan.services.shared import live_changes
from dingdan.web.pages.shared.core import Page, language_of, session_user

log = logging.getLogger("dingdan.live")
router = APIRouter(include_in_schema=False)

HEARTBEAT_SECONDS = 20.0  # a comment line, and the session checked again
RETRY_MS = 2000  # how soon a browser reconnects by itself after a drop
LISTEN_WAIT_SECONDS = 5.0  # at most, for the broker's first read (the database is slow)


class Busy(Exception):  # noqa: N818 - a signal: the process holds its limit of streams
    pass


class Subscription:
    """One open stream: the names it may hear, and those heard and not yet sent. It lives
    on its event loop; the broker's thread reaches it through ``call_soon_threadsafe``."""

    def __init__(self, loop: asyncio.AbstractEventLoop, names: frozenset[str]) -> None:
        self.loop, self.names = loop, names
        self.pending: set[str] = set()
        self.closed = False
        self.ready = asyncio.Event()

    def deliver(self, changed: frozenset[str]) -> None:
        hit = changed & self.names
        if hit:
            self.pending |= hit
            self.ready.set()

    def close(self) -> None:
        self.closed = True
        self.ready.set()

    async def next(self, timeout: float) -> set[str] | None:
        """The names heard since the last call; None when ``timeout`` passed first."""
        try:
            await asyncio.wait_for(self.ready.wait(), timeout)
        except TimeoutError:
            return None
        self.ready.clear()
        names, self.pending = self.pending, set()
        return names


class Broker:
    def __init__(self, db: Any, max_streams: int) -> None:
        self.db, self.max_streams = db, max_streams
        self._lock = threading.Lock()
        self._subs: set[Subscription] = set()
        self._thread: threading.Thread | None = None
        self._closed = False
        self._stopping = threading.Event()  # cuts the thread's pause after a failure short
        # Set once the thread listens and has read the counters: a change committed after
        # that is heard (the stream's first byte waits for it).
        self.listening = threading.Event()

    @property
    def streams(self) -> int:
        return len(self._subs)

    def subscribe(self, names: frozenset[str]) -> Subscription:
        """A subscription on the running event loop; ``Busy`` past the limit or once closed."""
        sub = Subscription(asyncio.get_running_loop(), names)
        with self._lock:
            if self._closed or len(self._subs) >= self.max_streams:
                raise Busy()
            self._subs.add(sub)
            if self._thread is None:
                self.listening.clear()
                self._thread = threading.Thread(target=self._run, name="dingdan-live", daemon=True)
                self._thread.start()
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        with self._lock:
            self._subs.discard(sub)

    def close(self) -> None:
        """End every stream (the server is stopping) and refuse new ones; the thread stops
        at its next wake-up."""
        with self._lock:
            self._closed = True
            subs, self._subs = list(self._subs), set()
        self._stopping.set()
        for sub in subs:
            _call(sub, sub.close)

    def stop(self, timeout: float = 10.0) -> bool:
        """``close``, then wait for the thread to end (it wakes at least once a second):
        the app is stopping, and its database may be gone next (a test's is dropped). True
        when no thread is left."""
        with self._lock:
            thread = self._thread
        self.close()
        if thread is not None:
            thread.join(timeout)
            return not thread.is_alive()
        return True

    def _keep_running(self) -> bool:
        with self._lock:
            if self._subs and not self._closed:
                return True
            self._thread = None
            return False

    def _run(self) -> None:
        waiter: live_changes.Waiter | None = None
        seen: dict[str, int] = {}
        read_at = 0.0
        try:
            while self._keep_running():
                try:
                    if waiter is None:  # listen first, then read: nothing falls between
                        waiter = live_changes.waiter(self.db)
                        seen, read_at = live_changes.marks(self.db), time.monotonic()
                        self.listening.set()
                    heard = waiter.wait(1.0)
                    if not heard and time.monotonic() - read_at < live_changes.PG_SAFETY_SECONDS:
                        continue
                    now, read_at = live_changes.marks(self.db), time.monotonic()
                    changed, seen = live_changes.changed(seen, now), now
                    if changed:
                        self._fan_out(changed)
                except Exception as exc:  # noqa: BLE001 - the database went away: try again
                    log.warning("live changes: %s", exc)
                    if waiter is not None:
                        _close_quietly(waiter)
                    waiter = None
                    self._stopping.wait(1.0)
        finally:
            if waiter is not None:
                _close_quietly(waiter)

    def _fan_out(self, changed: frozenset[str]) -> None:
        with self._lock:
            subs = list(self._subs)
        for sub in subs:
            if not _call(sub, sub.deliver, changed):
                self.unsubscribe(sub)


def _call(sub: Subscription, fn: Any, *args: Any) -> bool:
    try:
        sub.loop.call_soon_threadsafe(fn, *args)
    except RuntimeError:  # its loop is closed: the stream is gone
        return False
    return True


def _close_quietly(waiter: live_changes.Waiter) -> None:
    with contextlib.suppress(Exception):  # a connection already lost
        waiter.close()


_BROKERS: weakref.WeakSet[Broker] = weakref.WeakSet()
_BROKERS_LOCK = threading.Lock()


def broker_of(app: Any) -> Broker:
    with _BROKERS_LOCK:
        broker = getattr(app.state, "live_broker", None)
        if broker is None:
            broker = Broker(app.state.db, app.state.settings.live_max_streams)
            app.state.live_broker = broker
            _BROKERS.add(broker)
        return broker


def stop_broker(app: Any) -> None:
    """The app is stopping (its lifespan's end): its broker's streams end and its thread is
    waited for, so no listener outlives the app (and its database)."""
    with _BROKERS_LOCK:  # an app started again gets a broker of its own
        broker = getattr(app.state, "live_broker", None)
        app.state.live_broker = None
    if broker is not None and not broker.stop():
        log.warning("live changes: the listener thread did not stop")


def end_streams() -> None:
    """The server is shutting down: every live stream of this process ends now, so that
    uvicorn's graceful shutdown, which waits for open responses, is not kept waiting
    (web/http_protocol.py calls this)."""
    for broker in list(_BROKERS):
        broker.close()


def _reader(request: Request) -> frozenset[str] | None:
    """The names the signed-in reader may hear of; None without a session."""
    user = session_user(request)
    if user is None:
        return None
    page = Page(request, language_of(request, user), user)
    return live_changes.allowed_names(page.may)


async def _still_signed_in(request: Request) -> bool:
    try:
        return await run_in_threadpool(session_user, request) is not None
    except DomainError:  # the database is unreachable: end; the browser tries again
        return False


async def _events(request: Request, sub: Subscription) -> AsyncIterator[bytes]:
    yield f"retry: {RETRY_MS}\n: live\n\n".encode()
    while not sub.closed:
        names = await sub.next(HEARTBEAT_SECONDS)
        if sub.closed:
            break
        if names is None:
            if not await _still_signed_in(request):
                break
            yield b": heartbeat\n\n"
            continue
        # The name twice (event and data), nothing else: no number, no person.
        yield "".join(f"event: {n}\ndata: {n}\n\n" for n in sorted(names)).encode()


class _Stream(StreamingResponse):
    """The stream, letting go of its subscription however it ends (also when it never
    started: a client gone before the first byte)."""

    def __init__(self, request: Request, broker: Broker, sub: Subscription) -> None:
        super().__init__(
            _events(request, sub),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
        )
        self._broker, self._sub = broker, sub

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            self._broker.unsubscribe(self._sub)


@router.get("/live")
async def live(request: Request) -> Response:
    """``?names=orders returns``: what the page shows; only those the reader may see are
    sent. 401 without a session, 503 past ``DINGDAN_LIVE_MAX_STREAMS``."""
    try:
        allowed = await run_in_threadpool(_reader, request)
    except DomainError:
        return Response("Unavailable.", status_code=503, media_type="text/plain")
    if allowed is None:
        return Response("Sign in first.", status_code=401, media_type="text/plain")
    asked = frozenset((request.query_params.get("names") or "").split())
    names = (asked & allowed) if asked else allowed
    broker = broker_of(request.app)
    try:
        sub = broker.subscribe(names)
    except Busy:
        return Response(
            "Too many live screens.",
            status_code=503,
            media_type="text/plain",
            headers={"Retry-After": "30"},
        )
    # Listening before the first byte: a page that saw its stream open misses no change.
    await run_in_threadpool(broker.listening.wait, LISTEN_WAIT_SECONDS)
    return _Stream(request, broker, sub)
