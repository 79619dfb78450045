"""`dingdan serve --workers N` as in production: each worker listens on its own socket
(SO_REUSEPORT), connections are spread over the workers, a worker that dies is replaced
without a socket left behind that nobody accepts on, and a port already in use is refused
at start. Also the transport that sends a response's head and body in one write."""

from __future__ import annotations

import asyncio
import gc
import http.client
import os
import signal
import socket
import time

import pytest

from bench.server import ESTABLISHED, Server, cli, free_port, socket_inodes, tcp_sockets
from dingdan.app import served_app
from dingdan.cli import serving
from dingdan.config import get_settings
from dingdan.web.http_protocol import GatheringTransport

pytestmark = [
    pytest.mark.skipif(
        not serving.spreads_connections(), reason="SO_REUSEPORT is not available here"
    ),
    # Servers of two processes, connections counted per worker: alone, after the parallel run.
    pytest.mark.serial,
]


def _get(port: int, timeout: float = 5) -> tuple[socket.socket, bytes]:
    """A keep-alive connection that has had one answer (kept open)."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
    data = b""
    while b'"ok"' not in data:
        chunk = sock.recv(4096)
        if not chunk:
            break
        data += chunk
    return sock, data


def _established(pid: int, port: int) -> int:
    """Connections to ``port`` that process ``pid`` holds."""
    return len(socket_inodes(pid) & tcp_sockets(port, ESTABLISHED))


def test_connections_are_spread_over_the_workers(db_url):
    with Server(db_url, workers=2) as server:
        pids = server.worker_pids()
        assert len(pids) == 2
        socks = []
        try:
            for _ in range(32):
                sock, answer = _get(server.port)
                assert answer.startswith(b"HTTP/1.1 200"), answer
                socks.append(sock)
            held = [_established(pid, server.port) for pid in pids]
            assert sum(held) == 32
            # Hashing spreads 32 connections over 2 sockets; one shared socket gave all of a
            # burst to one worker. Fewer than 4 on one side has a chance of about 1e-6.
            assert min(held) >= 4, held
        finally:
            for sock in socks:
                sock.close()


def test_a_killed_worker_is_replaced_and_every_new_connection_is_answered(db_url):
    with Server(db_url, workers=2) as server:
        victim = server.worker_pids()[0]
        os.kill(victim, signal.SIGKILL)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            pids = server.worker_pids()
            if len(pids) == 2 and victim not in pids:
                break
            time.sleep(0.2)
        else:
            pytest.fail(f"the worker was not replaced: {server.worker_pids()}")
        time.sleep(1)  # the new worker's startup
        # Had the supervisor kept its copy of the dead worker's socket, it would still be
        # listening with nobody accepting: about half of these would hang.
        for _ in range(40):
            sock, answer = _get(server.port, timeout=5)
            sock.close()
            assert answer.startswith(b"HTTP/1.1 200"), answer


def test_an_idle_keep_alive_connection_outlives_the_clients_expiry(db_url):
    """Idle past 5 s (httpx's expiry, and uvicorn's default timeout) the connection is still
    open and answers: the client, not the server, is the one to close it."""
    with Server(db_url, workers=2) as server:
        sock, answer = _get(server.port, timeout=10)
        try:
            assert answer.startswith(b"HTTP/1.1 200"), answer
            time.sleep(6)
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
            assert sock.recv(4096).startswith(b"HTTP/1.1 200")
        finally:
            sock.close()


def test_a_port_in_use_is_refused_at_start(db_url):
    port = free_port()
    holder = socket.socket()
    holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    holder.bind(("127.0.0.1", port))
    holder.listen()
    try:
        done = cli(db_url, "serve", "--port", str(port), "--workers", "2", check=False, timeout=60)
    finally:
        holder.close()
    assert done.returncode == 1
    assert f"127.0.0.1:{port} is already in use" in done.stderr


def test_workers_below_one_are_refused(db_url):
    done = cli(db_url, "serve", "--workers", "0", check=False, timeout=60)
    assert done.returncode == 2 and "at least 1" in done.stderr


def test_the_default_secret_key_is_refused_off_loopback(db_url, monkeypatch):
    monkeypatch.delenv("DINGDAN_SECRET_KEY", raising=False)
    monkeypatch.delenv("DINGDAN_PUBLIC_URL", raising=False)
    port = str(free_port())
    done = cli(db_url, "serve", "--host", "0.0.0.0", "--port", port, check=False, timeout=60)
    assert done.returncode == 2 and "DINGDAN_SECRET_KEY" in done.stderr, done.stderr
    # A key of the seller's own, but nowhere to point printed links at: refused too.
    monkeypatch.setenv("DINGDAN_SECRET_KEY", "a-long-random-value-0123456789abcdef")
    done = cli(db_url, "serve", "--host", "0.0.0.0", "--port", port, check=False, timeout=60)
    assert done.returncode == 2 and "DINGDAN_PUBLIC_URL" in done.stderr, done.stderr


def test_a_local_client_cannot_pick_its_address_with_x_forwarded_for(db_url):
    """Served with no DINGDAN_FORWARDED_ALLOW_IPS, a client on 127.0.0.1 is 127.0.0.1 whatever
    X-Forwarded-For it sends: the tracking page's limit (30 a minute) still counts it."""
    with Server(db_url) as server:
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
        codes = []
        try:
            for i in range(32):
                conn.request(
                    "GET", "/track/" + "y" * 32, headers={"X-Forwarded-For": f"192.0.2.{i}"}
                )
                answer = conn.getresponse()
                answer.read()
                codes.append(answer.status)
        finally:
            conn.close()
    assert codes[:30] == [404] * 30 and codes[30:] == [429, 429]


# ------------------------------------------------------------------ one write per turn


class _Recorder:
    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.closed = False

    def write(self, data: bytes) -> None:
        assert not self.closed, "written after close"
        self.writes.append(data)

    def is_closing(self) -> bool:
        return self.closed

    def close(self) -> None:
        self.closed = True

    def get_extra_info(self, name: str) -> str:
        return f"info:{name}"


def test_the_writes_of_one_loop_turn_are_sent_as_one():
    async def scenario() -> list[bytes]:
        real = _Recorder()
        gathering = GatheringTransport(real, asyncio.get_running_loop())
        gathering.write(b"HTTP/1.1 200 OK\r\n\r\n")
        gathering.write(b"")
        gathering.write(memoryview(b'{"ok": 1}'))
        assert real.writes == []  # nothing sent inside the turn
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        first = list(real.writes)
        gathering.write(b"next")
        await asyncio.sleep(0)
        assert gathering.get_extra_info("peername") == "info:peername"
        return first + real.writes[1:]

    assert asyncio.run(scenario()) == [b'HTTP/1.1 200 OK\r\n\r\n{"ok": 1}', b"next"]


def test_closing_sends_what_was_gathered_first():
    async def scenario() -> _Recorder:
        real = _Recorder()
        gathering = GatheringTransport(real, asyncio.get_running_loop())
        gathering.write(b"head")
        gathering.write(b"body")
        gathering.close()
        await asyncio.sleep(0)  # the scheduled flush finds nothing left to send
        return real

    real = asyncio.run(scenario())
    assert real.writes == [b"headbody"] and real.closed


def test_a_served_worker_keeps_its_startup_heap_out_of_the_cycle_collector(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DINGDAN_DATABASE_URL", db_url)
    get_settings.cache_clear()
    try:
        app = served_app()
        try:
            # Still tracked (freed as usual), but in no generation a collection goes through.
            assert gc.is_tracked(app)
            assert all(o is not app for o in gc.get_objects())
            assert gc.get_freeze_count() > 10_000
        finally:
            gc.unfreeze()
            app.state.db.dispose()
        assert any(o is app for o in gc.get_objects())
    finally:
        get_settings.cache_clear()
