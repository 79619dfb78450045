"""Fixtures: a fresh, migrated database per test, on SQLite or (when
DINGDAN_TEST_BACKEND=postgresql) on the PostgreSQL server of DINGDAN_TEST_DATABASE_URL.

Migrations run once per session into a template; each test gets a copy (a file copy on
SQLite; on PostgreSQL a database made with CREATE DATABASE ... TEMPLATE once, then given back
the template's contents after each test and used again: ``Reset``), so every test starts
empty and fast.
"""

from __future__ import annotations

import os
import shutil
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import NullPool

from dingdan import bootstrap
from dingdan.config import Settings
from dingdan.db.engine import Database
from dingdan.domain.access.roles import Role
from dingdan.services.access import accounts, sign_in
from dingdan.services.shared.common import Actor
from tests import shared_routes

# Each test's application would build FastAPI's routes again (most of the suite's time):
# they are built once per process instead (tests/shared_routes.py says why that is safe).
SHARED_ROUTES = shared_routes.install()

# Passwords in tests are hashed with argon2 at its cheapest: the recommended parameters
# take 0.1 s a hash on purpose, and the page tests make a user per role and sign in for
# almost every test (minutes of the suite on two databases). The code paths are the same;
# only the cost parameters written in each hash differ.
_CHEAP_HASHER = PasswordHash((Argon2Hasher(time_cost=1, memory_cost=64, parallelism=1),))
accounts._hasher = _CHEAP_HASHER
sign_in._hasher = _CHEAP_HASHER
sign_in._DUMMY_HASH = _CHEAP_HASHER.hash("dingdan-no-such-user")

BACKEND = os.environ.get("DINGDAN_TEST_BACKEND", "sqlite")
PG_URL = os.environ.get("DINGDAN_TEST_DATABASE_URL")
ADMIN = Actor("test:admin", Role.ADMIN)


def pytest_report_header(config: Any) -> str:
    return f"dingdan test database: {BACKEND}"


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Give each test of an ``xdist_group`` its group in its id, as pytest-xdist's
    ``--dist loadgroup`` expects: xdist 3.8 writes it into ``Node._nodeid``, which pytest 9.2
    no longer reads (the id lives in ``Node._id``), so every group's tests were spread over
    both workers (the thread-heavy modules ran beside each other; two workers started the
    replica of test_reports_replica.py at once in one directory). Done the same way in every
    worker, so their collections still agree."""
    if not getattr(config.option, "loadgroup", False):  # set in xdist's workers
        return
    from _pytest.nodeid import coerce_node_id

    for item in items:
        names = {
            str(m.args[0] if m.args else m.kwargs.get("name", "default"))
            for m in item.iter_markers("xdist_group")
        }
        if names and "@" not in item.nodeid:
            item._id = coerce_node_id(f"{item.nodeid}@{'_'.join(sorted(names))}")


def pytest_runtest_setup(item: pytest.Item) -> None:
    mark = item.get_closest_marker("shared_data_missing")
    if mark is not None:
        from tests.helpers import missing_shared_data

        missing_shared_data(mark.args[0])


def _pg_admin() -> Any:
    assert PG_URL
    # No pool: a connection kept across a server restart (the fault tests) would be dead.
    return create_engine(
        make_url(PG_URL).set(database="postgres"), isolation_level="AUTOCOMMIT", poolclass=NullPool
    )


@pytest.fixture(scope="session")
def template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if BACKEND == "sqlite":
        path = tmp_path_factory.mktemp("template") / "template.db"
        url = f"sqlite:///{path}"
        bootstrap.migrate(url)
        yield str(path)
        return
    if not PG_URL:
        pytest.skip("DINGDAN_TEST_BACKEND=postgresql needs DINGDAN_TEST_DATABASE_URL")
    name = f"dd_tmpl_{uuid.uuid4().hex[:10]}"
    admin = _pg_admin()
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    bootstrap.migrate(url)
    _RESETS[name] = Reset(name)
    yield name
    while _FREE:
        _DROPS.append(_DROPPER.submit(_drop, _FREE.pop()))
    for dropping in _DROPS:
        dropping.result()
    _DROPPER.shutdown()
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


# DROP DATABASE makes PostgreSQL checkpoint (a second or more on a busy machine): a database
# that cannot be reused is dropped by this thread while the next tests run, and all are gone
# before the template is.
_DROPPER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="drop-test-database")
_DROPS: list[Future[None]] = []


def _drop(name: str) -> None:
    """Drop one test's database; while the fault tests have the server restarting, try
    again for up to a minute."""
    deadline = time.monotonic() + 60
    while True:
        admin = _pg_admin()
        try:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            return
        except OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)
        finally:
            admin.dispose()


def _make(template: str) -> str:
    name = f"dd_t_{uuid.uuid4().hex[:12]}"
    admin = _pg_admin()
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    finally:
        admin.dispose()
    return name


def _pg_url(name: str) -> Any:
    assert PG_URL
    return make_url(PG_URL).set(database=name)


# What a database made from the template holds besides its schema: the rows the migrations
# write and where each sequence stands. Compared over the catalogue, so that a test that
# changed the schema (a trigger disabled, a table altered) leaves a database never reused.
_SCHEMA = """
SELECT md5(string_agg(item, ',' ORDER BY item)) FROM (
  SELECT concat_ws(':', 'rel', c.relname, c.relkind, c.relnatts, c.relpersistence)
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
   WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
  UNION ALL
  SELECT concat_ws(':', 'col', a.attrelid::regclass, a.attname, a.atttypid, a.attnotnull,
                   a.atthasdef, a.attgenerated)
    FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
   WHERE c.relnamespace = 'public'::regnamespace AND a.attnum > 0 AND NOT a.attisdropped
  UNION ALL
  SELECT concat_ws(':', 'fn', p.proname, md5(p.prosrc))
    FROM pg_proc p WHERE p.pronamespace = 'public'::regnamespace
  UNION ALL
  SELECT concat_ws(':', 'con', conname, pg_get_constraintdef(oid))
    FROM pg_constraint WHERE connamespace = 'public'::regnamespace
  UNION ALL
  SELECT concat_ws(':', 'tg', tgname, tgenabled) FROM pg_trigger WHERE NOT tgisinternal
  UNION ALL
  SELECT concat_ws(':', 'ext', extname) FROM pg_extension
  UNION ALL
  SELECT concat_ws(':', 'set', array_to_string(setconfig, ' ')) FROM pg_db_role_setting
   WHERE setdatabase = (SELECT oid FROM pg_database WHERE datname = current_database())
) AS catalogue(item)
"""
# A table that ever held a row has a page: every other one is as the template left it.
_WRITTEN = """
SELECT c.relname FROM pg_class c
 WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p')
   AND pg_relation_size(c.oid) > 0
"""


class Reset:
    """Gives a test's database back what the template holds, so that the next test can use
    it: a few tens of milliseconds, where ``CREATE DATABASE ... TEMPLATE`` took 0.4 s and the
    ``DROP DATABASE`` after it a checkpoint (the PostgreSQL suite made and dropped 3,000
    databases and spent minutes on it). Only the tables that were written are truncated (with
    the triggers off: the audit trail refuses TRUNCATE), the migrations' rows are put back as
    they were, every sequence is set back, and the catalogue is compared with the template's:
    when it differs, or anything fails, the database is not reused."""

    def __init__(self, template: str) -> None:
        engine = create_engine(_pg_url(template), poolclass=NullPool)
        with engine.connect() as conn:
            self.schema = conn.execute(text(_SCHEMA)).scalar_one()
            self.rows: dict[str, tuple[str, str]] = {}
            for table in conn.execute(text(_WRITTEN)).scalars():
                columns = ", ".join(
                    f'"{c}"'
                    for c in conn.execute(
                        text(
                            "SELECT attname FROM pg_attribute WHERE attrelid = CAST(:t AS regclass)"
                            " AND attnum > 0 AND NOT attisdropped AND attgenerated = ''"
                            " ORDER BY attnum"
                        ),
                        {"t": f'"{table}"'},
                    ).scalars()
                )
                rows = conn.execute(
                    text(f"SELECT coalesce(json_agg(t), '[]')::text FROM \"{table}\" t")
                ).scalar_one()
                self.rows[table] = (columns, rows)
            sequences = conn.execute(
                text(
                    "SELECT format('%I.%I', schemaname, sequencename),"
                    " coalesce(last_value, start_value), last_value IS NOT NULL"
                    " FROM pg_sequences"
                )
            ).all()
        engine.dispose()
        self.sequences = (
            "SELECT "
            + ", ".join(f"setval('{name}', {value}, {called})" for name, value, called in sequences)
            if sequences
            else None
        )

    def __call__(self, name: str) -> bool:
        engine = create_engine(_pg_url(name), poolclass=NullPool)
        try:
            with engine.begin() as conn:
                # Whatever the test left connected (a server thread, a worker) goes first.
                conn.execute(
                    text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                        " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                    )
                )
                conn.execute(text("SET LOCAL lock_timeout = '10s'"))
                conn.execute(text("SET LOCAL session_replication_role = replica"))
                written = set(conn.execute(text(_WRITTEN)).scalars()) | set(self.rows)
                if written:
                    listed = ", ".join(f'"{t}"' for t in sorted(written))
                    conn.execute(text(f"TRUNCATE {listed} RESTART IDENTITY CASCADE"))
                for table, (columns, rows) in self.rows.items():
                    conn.execute(
                        text(
                            f'INSERT INTO "{table}" ({columns}) OVERRIDING SYSTEM VALUE'
                            f' SELECT {columns} FROM json_populate_recordset(NULL::"{table}",'
                            " CAST(:rows AS json))"
                        ),
                        {"rows": rows},
                    )
                if self.sequences:
                    conn.execute(text(self.sequences))
                return bool(conn.execute(text(_SCHEMA)).scalar_one() == self.schema)
        except Exception:  # noqa: BLE001 - e.g. the server was restarting: made anew instead
            return False
        finally:
            engine.dispose()


_RESETS: dict[str, Reset] = {}
# This process's databases that a reset gave back the template's contents, ready for a test.
_FREE: list[str] = []


# A test's commit need not wait for its WAL to reach the disk: nothing in a test outlives an
# operating-system crash, and a server stopped by the fault tests (a clean stop) writes what
# was committed first. The application's own settings are untouched.
_TEST_COMMIT_OPTIONS = os.environ.get("DINGDAN_TEST_PG_OPTIONS", "-csynchronous_commit=off")


@pytest.fixture
def db_url(template: str, tmp_path: Path) -> Iterator[str]:
    if BACKEND == "sqlite":
        target = tmp_path / "dingdan.db"
        shutil.copy(template, target)
        yield f"sqlite:///{target}"
        return
    name = _FREE.pop() if _FREE else _make(template)
    url = _pg_url(name)
    if _TEST_COMMIT_OPTIONS:
        url = url.update_query_dict({"options": _TEST_COMMIT_OPTIONS})
    yield url.render_as_string(hide_password=False)
    if _RESETS[template](name):
        _FREE.append(name)
    else:
        _DROPS.append(_DROPPER.submit(_drop, name))


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    database = Database(db_url, pool_size=20)
    yield database
    database.dispose()


@pytest.fixture
def settings(db_url: str) -> Settings:
    return Settings(database_url=db_url, run_worker=False, max_body_bytes=1024 * 1024)


@pytest.fixture
def app(settings: Settings, db: Database) -> Any:
    from dingdan.app import create_app

    return create_app(settings, db=db)


class Api:
    """A test client that signs its requests with a token of one role."""

    def __init__(self, client: TestClient, db: Database) -> None:
        self.client = client
        self.db = db
        self._tokens: dict[str, str] = {}

    def token(self, role: str) -> str:
        if role not in self._tokens:
            secret, _ = accounts.create_token(self.db, ADMIN, f"test-{role}", role)
            self._tokens[role] = secret
        return self._tokens[role]

    def request(self, method: str, url: str, *, role: str = "admin", **kw: Any) -> Any:
        headers = {"Authorization": f"Bearer {self.token(role)}", **kw.pop("headers", {})}
        return self.client.request(method, url, headers=headers, **kw)

    def get(self, url: str, **kw: Any) -> Any:
        return self.request("GET", url, **kw)

    def post(self, url: str, **kw: Any) -> Any:
        return self.request("POST", url, **kw)

    def patch(self, url: str, **kw: Any) -> Any:
        return self.request("PATCH", url, **kw)


@pytest.fixture
def client(app: Any) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


@pytest.fixture
def api(client: TestClient, db: Database) -> Api:
    return Api(client, db)
