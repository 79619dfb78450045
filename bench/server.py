"""A fresh database and `dingdan serve --workers N` on a free loopback port, as in production.

PostgreSQL: a new database on the local server (127.0.0.1:5432, user postgres, trust auth),
dropped afterwards. SQLite: a file in a temporary directory.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx

PG_BASE = os.environ.get(
    "DINGDAN_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
BIN = Path(sys.executable).parent


def dingdan_bin() -> str:
    exe = BIN / "dingdan"
    return str(exe) if exe.exists() else (shutil.which("dingdan") or "dingdan")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _pg_dsn(url: str) -> str:
    """psycopg's own DSN from a SQLAlchemy URL."""
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def pg_available() -> bool:
    try:
        import psycopg

        with psycopg.connect(_pg_dsn(PG_BASE), connect_timeout=3):
            return True
    except Exception:  # noqa: BLE001 - any failure means "not available"
        return False


@dataclass
class FreshDatabase:
    backend: str
    url: str
    name: str
    _tmp: str | None = None

    def drop(self) -> None:
        if self.backend == "sqlite":
            if self._tmp:
                shutil.rmtree(self._tmp, ignore_errors=True)
            return
        import psycopg

        with psycopg.connect(_pg_dsn(PG_BASE), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')

    @property
    def dsn(self) -> str:
        return _pg_dsn(self.url)


def fresh_database(backend: str, prefix: str = "ddbench") -> FreshDatabase:
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    if backend == "sqlite":
        tmp = tempfile.mkdtemp(prefix=f"{prefix}-")
        return FreshDatabase("sqlite", f"sqlite:///{tmp}/dingdan.db", name, tmp)
    import psycopg

    with psycopg.connect(_pg_dsn(PG_BASE), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = PG_BASE.rsplit("/", 1)[0]
    return FreshDatabase("postgresql", f"{base}/{name}", name)


@contextlib.contextmanager
def database(backend: str, prefix: str = "ddbench", keep: bool = False) -> Iterator[FreshDatabase]:
    fresh = fresh_database(backend, prefix)
    try:
        yield fresh
    finally:
        if not keep:
            fresh.drop()


def env_for(url: str, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env["DINGDAN_DATABASE_URL"] = url
    env.update(extra)
    return env


def cli(
    url: str, *args: str, check: bool = True, timeout: float = 120
) -> subprocess.CompletedProcess:
    """Run a `dingdan` command against ``url``."""
    return subprocess.run(
        [dingdan_bin(), *args],
        env=env_for(url),
        capture_output=True,
        text=True,
        check=check,
        timeout=timeout,
    )


def create_token(url: str, role: str = "admin", name: str = "bench") -> str:
    done = cli(url, "token", "create", "--name", name, "--role", role)
    return done.stdout.strip().splitlines()[-1].strip()


LISTEN, ESTABLISHED = "0A", "01"  # TCP states as /proc/net/tcp writes them


def socket_inodes(pid: int) -> set[str]:
    """The inodes of the sockets process ``pid`` holds (from /proc)."""
    inodes: set[str] = set()
    try:
        fds = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return inodes
    for fd in fds:
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    return inodes


def tcp_sockets(port: int, state: str) -> set[str]:
    """Inodes of the IPv4 TCP sockets on local ``port`` in ``state`` (from /proc)."""
    found = set()
    with open("/proc/net/tcp") as f:
        next(f)
        for line in f:
            parts = line.split()
            if int(parts[1].split(":")[1], 16) == port and parts[3] == state:
                found.add(parts[9])
    return found


def _children(pid: int) -> list[int]:
    """Direct and indirect children of ``pid`` (from /proc)."""
    by_parent: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        by_parent.setdefault(ppid, []).append(int(entry))
    out, todo = [], [pid]
    while todo:
        for c in by_parent.get(todo.pop(), []):
            out.append(c)
            todo.append(c)
    return out


def _cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def memory_kb(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM (peak RSS) of a process, in kB (psutil has no peak RSS on Linux)."""
    out = {}
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(("VmRSS:", "VmHWM:")):
                    key, value = line.split(":", 1)
                    out[key] = int(value.split()[0])
    except OSError:
        pass
    return out


@dataclass
class Server:
    """`dingdan serve` as a subprocess; ``url`` is its base URL."""

    db_url: str
    workers: int = 1
    port: int = 0
    extra_env: dict[str, str] = field(default_factory=dict)
    proc: subprocess.Popen | None = None
    log_path: str | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60) -> Server:
        self.port = self.port or free_port()
        fd, self.log_path = tempfile.mkstemp(prefix="dingdan-serve-", suffix=".log")
        log = os.fdopen(fd, "wb")
        self.proc = subprocess.Popen(
            [
                dingdan_bin(),
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--workers",
                str(self.workers),
            ],
            env=env_for(self.db_url, **self.extra_env),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"dingdan serve exited {self.proc.returncode}:\n{self.log()}")
            try:
                r = httpx.get(f"{self.base_url}/healthz", timeout=1)
                if r.status_code == 200 and self._all_workers_up():
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"dingdan serve did not answer within {timeout}s:\n{self.log()}")

    def _all_workers_up(self) -> bool:
        """Every worker is running and, where /proc tells, listening on the port (each
        worker has its own socket: until it listens, the others take its connections)."""
        if self.workers == 1:
            return True
        pids = self.worker_pids()
        if len(pids) < self.workers:
            return False
        if not os.path.exists("/proc/net/tcp"):
            return True
        listening = tcp_sockets(self.port, LISTEN)
        return all(socket_inodes(pid) & listening for pid in pids)

    def log(self) -> str:
        if not self.log_path:
            return ""
        with open(self.log_path, errors="replace") as f:
            return f.read()[-4000:]

    def worker_pids(self) -> list[int]:
        """The processes that serve requests: the server itself with one worker, otherwise
        uvicorn's spawned children (not multiprocessing's resource tracker)."""
        assert self.proc is not None
        if self.workers == 1:
            return [self.proc.pid]
        return [
            p
            for p in _children(self.proc.pid)
            if "multiprocessing" in _cmdline(p) and "resource_tracker" not in _cmdline(p)
        ]

    def memory(self) -> dict[int, dict[str, int]]:
        return {pid: memory_kb(pid) for pid in self.worker_pids()}

    def kill(self) -> None:
        """kill -9 of the whole process group (server and workers), as a crash would."""
        if self.proc and self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()
        if self.log_path:
            with contextlib.suppress(OSError):
                os.unlink(self.log_path)
            self.log_path = None

    def __enter__(self) -> Server:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of a process so far (None when it is gone)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / _TICKS


def pg_backends(dbname: str) -> list[int]:
    """PostgreSQL backends connected to ``dbname`` (their process title names it)."""
    out = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        title = _cmdline(int(entry))  # "postgres: 15/main: postgres DB 127.0.0.1(port) idle"
        if title.startswith("postgres: ") and f" postgres {dbname} " in title:
            out.append(int(entry))
    return out


class CpuSampler:
    """CPU seconds used by a changing set of processes between start() and stop(), sampled
    every ``interval`` (a process that exits loses at most its last interval)."""

    def __init__(self, pids: Callable[[], list[int]], interval: float = 0.2) -> None:
        self.pids = pids
        self.interval = interval
        self.base: dict[int, float] = {}
        self.last: dict[int, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _sample(self) -> None:
        for pid in self.pids():
            t = cpu_seconds(pid)
            if t is not None:
                self.last[pid] = t

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self._sample()

    def start(self) -> CpuSampler:
        self._sample()
        self.base = dict(self.last)
        self._thread.start()
        return self

    def stop(self) -> float:
        self._stop.set()
        self._thread.join()
        self._sample()
        return sum(t - self.base.get(pid, 0.0) for pid, t in self.last.items())
