"""``dingdan serve``: uvicorn, with each worker process listening on its own socket.

uvicorn's workers share one listening socket, and uvloop accepts every connection waiting
on it when it wakes. Keep-alive clients that connect together (a proxy opening its upstream
connections, a load test) then often all land in ONE worker while the others idle: on this
2-core machine the same load ran at 465 or at 680 orders/s depending on which way the burst
fell. Here every worker binds its own socket with ``SO_REUSEPORT`` and the kernel spreads
new connections over them, as nginx's ``listen ... reuseport`` does. Where the option does
not exist (not Linux or BSD), the shared socket is used.

Before the workers bind, the address is bound once without the option, so a port that
another program (or another Dingdan) is listening on fails at start with a clear error
instead of being silently shared.
"""

from __future__ import annotations

import errno
import ipaddress
import socket
from typing import Any

import uvicorn
from uvicorn.supervisors.multiprocess import Multiprocess

from dingdan.config import DEFAULT_SECRET_KEY, Settings

# uvicorn's httptools protocol sending a response's head and body in one write.
HTTP_PROTOCOL = "dingdan.web.http_protocol:GatheringHttpToolsProtocol"
# How long an idle keep-alive connection stays open. uvicorn's default, 5 s, is also the
# idle expiry of common clients (httpx, and so many Python integrations): a client that
# reuses a connection just as the server closes it gets a reset for a request the server
# never read (likely the one "transport ReadError" the bench's httpx client met in 2,000
# requests at 64 clients; not reproduced in 8,000 more). A server should keep idle
# connections longer than its clients and proxies do; 75 s is nginx's default.
KEEP_ALIVE_SECONDS = 75


def _options(host: str, port: int, workers: int) -> dict[str, Any]:
    return dict(
        app="dingdan.app:served_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        loop="uvloop",
        http=HTTP_PROTOCOL,
        timeout_keep_alive=KEEP_ALIVE_SECONDS,
        # Forwarded headers are read by the app, from DINGDAN_FORWARDED_ALLOW_IPS only
        # (app.py); uvicorn's own default believed any client on 127.0.0.1.
        proxy_headers=False,
        log_level="warning",
        access_log=False,
    )


def is_loopback(host: str) -> bool:
    """Whether ``host`` is reachable from this machine only."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def refusal(host: str, port: int, settings: Settings) -> str | None:
    """Why ``dingdan serve`` must not start on ``host`` with these settings, or None. The
    defaults are for a machine's own use (`make run`): anywhere else the session key must be
    the seller's own and the public address known."""
    if is_loopback(host):
        return None
    if settings.secret_key == DEFAULT_SECRET_KEY:
        return (
            f"DINGDAN_SECRET_KEY is the default; set it to a long random value before serving "
            f"on {host} (only a loopback address may use the default)."
        )
    if not settings.public_url:
        return (
            f"DINGDAN_PUBLIC_URL is not set; set it to the address customers reach this "
            f"server at (such as https://shop.example.com) before serving on {host}."
        )
    return None


def local_public_url(host: str, port: int) -> str:
    """What DINGDAN_PUBLIC_URL means on a loopback address when it is not set."""
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}"


def spreads_connections() -> bool:
    return hasattr(socket, "SO_REUSEPORT")


def _family(host: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def port_in_use(host: str, port: int) -> bool:
    """Whether something already holds ``host:port`` (bound without SO_REUSEPORT, so a
    listener that has the option counts too)."""
    probe = socket.socket(_family(host), socket.SOCK_STREAM)
    try:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind((host, port))
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            return True
        raise
    finally:
        probe.close()
    return False


def reuseport_socket(host: str, port: int) -> socket.socket:
    """A socket bound to ``host:port`` with SO_REUSEPORT, not yet listening (the worker's
    server listens on it), inheritable by the worker process."""
    sock = socket.socket(_family(host), socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((host, port))
    except BaseException:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


class SpreadingMultiprocess(Multiprocess):
    """uvicorn's supervisor (start, health checks, restarts, signals), except that each
    worker it starts gets a new socket of its own: ``sockets`` is read once per worker
    started. The parent closes its copy once the worker has it, so when a worker exits its
    socket goes with it and the kernel stops sending connections there."""

    def __init__(self, config: uvicorn.Config) -> None:
        self._handed: list[socket.socket] = []
        super().__init__(config, sockets=[])

    @property  # type: ignore[override]
    def sockets(self) -> list[socket.socket]:
        sock = reuseport_socket(self.config.host, self.config.port)
        self._handed.append(sock)
        return [sock]

    @sockets.setter
    def sockets(self, value: Any) -> None:
        pass  # the base class stores the shared socket here; each worker gets its own

    def _close_handed(self) -> None:
        # Every use of ``sockets`` in the base class starts its process at once, which
        # passes the descriptor to the child: the parent's copy is no longer needed.
        for sock in self._handed:
            sock.close()
        self._handed.clear()

    def init_processes(self) -> None:
        try:
            super().init_processes()
        finally:
            self._close_handed()

    def restart_all(self) -> None:
        try:
            super().restart_all()
        finally:
            self._close_handed()

    def keep_subprocess_alive(self) -> None:
        try:
            super().keep_subprocess_alive()
        finally:
            self._close_handed()


def serve(host: str, port: int, workers: int) -> None:
    """Run until interrupted. With several workers the caller (``dingdan serve``) has
    checked ``port_in_use`` first."""
    options = _options(host, port, workers)
    if workers > 1 and spreads_connections():
        SpreadingMultiprocess(uvicorn.Config(**options)).run()
    else:
        uvicorn.run(**options)
