"""SQLite across processes (db/engine.py): a process waiting to write waits on the writer
lock file for as long as another process's transaction takes, instead of failing once its
busy timeout and retries run out."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, insert, select

from dingdan.db.engine import Database
from dingdan.db.order_tables import Channel

# Many threads (or processes) against one database: one such module at a time, on one
# pytest-xdist worker, beside the ordinary tests of the other.
pytestmark = pytest.mark.xdist_group("threads")

HOLDER = """
import sys, time
from pathlib import Path
from sqlalchemy import insert
from dingdan.db.engine import Database
from dingdan.db.order_tables import Channel

db = Database(sys.argv[1], sqlite_busy_timeout=0.05)

def work(conn):
    conn.execute(insert(Channel).values(code="holder", name="holder", active=True))
    Path(sys.argv[2]).write_text("inside")
    time.sleep(float(sys.argv[3]))

db.write(work)
print(time.time())
"""


def test_a_writer_waits_out_another_processs_long_transaction(db_url: str, tmp_path: Path):
    if not db_url.startswith("sqlite"):
        pytest.skip("SQLite only: PostgreSQL has row locks and no single writer")
    signal = tmp_path / "inside"
    hold = 3.0  # longer than the engine's retries with a 50 ms busy timeout (about 2 s)
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, db_url, str(signal), str(hold)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while not signal.exists():
            assert holder.poll() is None, "the holding process ended early"
            assert time.monotonic() < deadline, "the holding process never started writing"
            time.sleep(0.02)
        db = Database(db_url, sqlite_busy_timeout=0.05)
        try:
            db.write(
                lambda conn: conn.execute(
                    insert(Channel).values(code="waiter", name="waiter", active=True)
                )
            )
            wrote_at = time.time()
            codes = db.read(
                lambda conn: conn.execute(
                    select(func.count()).where(Channel.code.in_(["holder", "waiter"]))
                ).scalar_one()
            )
        finally:
            db.dispose()
        out, _ = holder.communicate(timeout=30)
    finally:
        if holder.poll() is None:
            holder.kill()
    assert holder.returncode == 0
    assert codes == 2  # both stored: neither write failed
    assert wrote_at >= float(out.strip())  # the waiter wrote after the holder committed
