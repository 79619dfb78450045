"""Reports and exports off the primary: their reads go to a PostgreSQL streaming replica (a
hot standby kept by PostgreSQL's own replication) while it keeps up, to the primary otherwise.

``ReportsDatabase`` stands in for ``Database`` in the report and export services: ``read``
runs on the replica or on the primary, ``write`` (an export's audit of the customers it
hands out, a kept model fit) always on the primary.

How far behind the replica is, measured from both servers' WAL positions rather than from
the time of its last replayed commit alone (a replica of a primary that has written nothing
for an hour is not an hour behind):

- the primary's WAL insert position is read first (inserted, not only written or flushed:
  a commit that did not wait for its flush is already visible on the primary before the
  WAL writer writes it), then the replica's replayed one: a replica that has replayed up to
  it is caught up (``caught_up``), its lag 0, however old its last commit;
- a replica short of it misses some of the primary's WAL. What it shows is complete up to
  its last replayed commit (``pg_last_xact_replay_timestamp``) and up to the last check
  that found it caught up, so it is stale by at most the smaller of "seconds since that
  commit" and "seconds since that check": that is the lag compared with the bound. It is
  never less than the truth, so a replica further behind than the bound is never read
  (between two checks the verdict stands). The first is read on the replica's clock against
  the primary's commit time: the two servers' clocks are taken to agree (NTP).

The lag is measured at most once every ``check_every`` seconds per process (two one-row
queries); reads in between use the last verdict. A replica beyond the bound, unreachable,
or not a standby at all (promoted, or the primary's own address) sends the reads to the
primary with a warning in the log, and a later check that finds it within the bound again
sends them back.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError

from dingdan.db.engine import Database
from dingdan.domain.shared.errors import DomainError, ServiceUnavailable

T = TypeVar("T")
log = logging.getLogger("dingdan.db.replica")

_PRIMARY_LSN = text("SELECT pg_current_wal_insert_lsn()::text")
_REPLICA_STATE = text(
    "SELECT pg_is_in_recovery(), pg_last_wal_replay_lsn()::text,"
    " EXTRACT(EPOCH FROM clock_timestamp() - pg_last_xact_replay_timestamp())"
)


def lsn(position: str) -> int:
    """A WAL position as PostgreSQL writes it (``16/B374D848``) as a byte offset."""
    high, _, low = position.partition("/")
    return (int(high, 16) << 32) | int(low, 16)


_WAL_PAGE = 8192
_PAGE_HEADERS = (24, 40)  # a page's short header; the long one that opens a WAL segment


def caught_up(replayed: str, inserted: str) -> bool:
    """Whether a replica that has replayed up to ``replayed`` has everything the primary had
    inserted at ``inserted`` (``pg_current_wal_insert_lsn``). The insert position is where
    the next record goes: when the last record ended on a page boundary, that is past the
    next page's header, which no record fills, while the replay position stops at the
    boundary."""
    at = lsn(inserted)
    offset = at % _WAL_PAGE
    if offset in _PAGE_HEADERS:
        at -= offset
    return lsn(replayed) >= at


@dataclass(frozen=True)
class Verdict:
    """Where reads go until the next check, and why."""

    replica: bool
    lag: float | None  # seconds behind the primary; None: could not be measured
    reason: str


class ReportsDatabase:
    """Reads from ``replica`` while it is within ``max_lag`` seconds of ``primary``, from
    ``primary`` otherwise; writes to ``primary``."""

    is_sqlite = False

    def __init__(
        self,
        primary: Database,
        replica: Database,
        *,
        max_lag: float,
        check_every: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.primary = primary
        self.replica = replica
        self.max_lag = max_lag
        self.check_every = check_every
        self.checks = 0  # lag measurements made (for tests and the curious)
        self._clock = clock
        self._lock = threading.Lock()
        self._verdict: Verdict | None = None
        self._checked_at = -math.inf
        self._caught_up_at: float | None = None

    @property
    def url(self) -> Any:
        return self.primary.url

    @property
    def dialect(self) -> str:
        return self.primary.dialect

    def read(self, work: Callable[[Connection], T]) -> T:
        if self.verdict().replica:
            try:
                return self.replica.read(work)
            except ServiceUnavailable as exc:
                self._replica_failed(exc)
        return self.primary.read(work)

    def write(self, work: Callable[[Connection], T]) -> T:
        return self.primary.write(work)

    def translate(self, exc: DBAPIError) -> DomainError | None:
        return self.primary.translate(exc)

    def dispose(self) -> None:
        """The replica's connections (the primary belongs to whoever made it)."""
        self.replica.dispose()

    def verdict(self) -> Verdict:
        """Where reads go now: the last verdict while it is younger than ``check_every``,
        else a new measurement. While one thread measures, the others keep the last one."""
        now = self._clock()
        last = self._verdict
        if last is not None and now - self._checked_at < self.check_every:
            return last
        if not self._lock.acquire(blocking=last is None):
            assert last is not None
            return last
        try:
            if self._verdict is not None and now - self._checked_at < self.check_every:
                return self._verdict  # measured by another thread while this one waited
            made = self._measure(now)
            self.checks += 1
            self._report(self._verdict, made)
            self._verdict, self._checked_at = made, now
            return made
        finally:
            self._lock.release()

    def _measure(self, now: float) -> Verdict:
        try:
            primary_at = self.primary.read(lambda c: c.execute(_PRIMARY_LSN).scalar_one())
            recovering, replayed, since_commit = self.replica.read(
                lambda c: c.execute(_REPLICA_STATE).one()
            )
        except (DomainError, DBAPIError) as exc:
            return Verdict(False, None, f"could not be measured ({_first_line(exc)})")
        if not recovering or replayed is None:
            return Verdict(False, None, "is not a standby (not in recovery)")
        if caught_up(replayed, primary_at):
            self._caught_up_at = now
            return Verdict(True, 0.0, "is caught up")
        bounds = [] if since_commit is None else [max(0.0, float(since_commit))]
        if self._caught_up_at is not None:
            bounds.append(now - self._caught_up_at)
        lag = min(bounds, default=math.inf)
        behind = f"is {lag:.1f} s behind (replayed {replayed}, primary at {primary_at})"
        return Verdict(lag <= self.max_lag, lag, behind)

    def _report(self, before: Verdict | None, now: Verdict) -> None:
        if not now.replica and (before is None or before.replica):
            log.warning(
                "reports read from the primary: the replica %s; bound %.1f s",
                now.reason,
                self.max_lag,
            )
        elif now.replica and before is not None and not before.replica:
            log.info("reports read from the replica again: it %s", now.reason)

    def _replica_failed(self, exc: ServiceUnavailable) -> None:
        """A read found the replica unreachable: the primary until the next check."""
        with self._lock:
            failed = Verdict(False, None, f"could not be read ({exc.detail})")
            self._report(self._verdict, failed)
            self._verdict, self._checked_at = failed, self._clock()


def _first_line(exc: BaseException) -> str:
    said = getattr(exc, "detail", None) or str(getattr(exc, "orig", None) or exc)
    return said.strip().splitlines()[0][:200] if said.strip() else type(exc).__name__
