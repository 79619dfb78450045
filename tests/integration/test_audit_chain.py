"""The audit trail cannot be edited, and `dingdan audit verify` finds a row changed behind the
triggers' back (issue 26, part 4)."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select, text
from typer.testing import CliRunner

from dingdan.cli.main import app
from dingdan.config import get_settings
from dingdan.db.tables import AuditEntry, AuditSeal
from dingdan.domain.shared.errors import Conflict, DomainError
from dingdan.services.access import audit_chain, audit_log
from dingdan.services.jobs import worker
from tests.builders import ADMIN, location, product

runner = CliRunner()


def _entries(db, n: int, prefix: str = "DD") -> None:
    for i in range(n):
        audit_log.record_view(db, ADMIN, "order", f"{prefix}{i:06d}")


def _count(db, table) -> int:
    return db.read(lambda c: c.execute(select(func.count()).select_from(table)).scalar_one())


def _bypass_triggers(db, sql: str, params: dict) -> None:
    """What a superuser (or someone with the SQLite file) can do: change a row anyway."""

    def work(conn):
        if conn.dialect.name == "postgresql":
            conn.execute(text("ALTER TABLE audit_log DISABLE TRIGGER USER"))
            conn.execute(text(sql), params)
            conn.execute(text("ALTER TABLE audit_log ENABLE TRIGGER USER"))
        else:
            conn.execute(text("DROP TRIGGER IF EXISTS audit_log_no_update"))
            conn.execute(text("DROP TRIGGER IF EXISTS audit_log_no_delete"))
            conn.execute(text(sql), params)

    db.write(work)


def test_entries_are_sealed_once_each_and_the_chain_verifies(db):
    product(db, "TEA-001")
    location(db, "TPE")
    _entries(db, 5)
    entries = _count(db, AuditEntry)
    assert entries >= 7  # the product, the location and the five views
    assert audit_chain.verify(db).unsealed == entries
    assert worker.run_once(db, bank_transfer_hours=72)["audit_sealed"] == entries
    assert audit_chain.seal(db) == 0  # nothing sealed twice
    verdict = audit_chain.verify(db)
    assert verdict.intact and (verdict.sealed, verdict.unsealed) == (entries, 0)
    seals = db.read(lambda c: c.execute(select(AuditSeal).order_by(AuditSeal.seq)).all())
    assert [s.seq for s in seals] == list(range(1, entries + 1))
    # Each link is the hash of the previous link and its entry.
    first = db.read(
        lambda c: c.execute(select(AuditEntry).where(AuditEntry.id == seals[0].entry_id)).one()
    )
    assert seals[0].hash == audit_chain.link(audit_chain.GENESIS, first)


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_log SET actor = 'someone-else'",
        "DELETE FROM audit_log",
        "UPDATE audit_seals SET hash = 'x'",
        "DELETE FROM audit_seals",
    ],
)
def test_nobody_can_edit_or_remove_an_entry_or_a_link(db, statement):
    _entries(db, 3)
    audit_chain.seal_all(db)
    before = db.read(lambda c: c.execute(text("SELECT id, actor FROM audit_log ORDER BY id")).all())
    with pytest.raises(DomainError) as refused:
        db.write(lambda c: c.execute(text(statement)))
    assert isinstance(refused.value, Conflict), refused.value
    assert (
        db.read(lambda c: c.execute(text("SELECT id, actor FROM audit_log ORDER BY id")).all())
        == before
    )
    assert _count(db, AuditSeal) == 3
    assert audit_chain.verify(db).intact


def test_verify_names_a_changed_entry_and_a_removed_one(db):
    _entries(db, 6)
    audit_chain.seal_all(db)
    ids = db.read(
        lambda c: c.execute(select(AuditEntry.id).order_by(AuditEntry.id)).scalars().all()
    )
    _bypass_triggers(
        db, "UPDATE audit_log SET entity_id = 'DD999999' WHERE id = :id", {"id": ids[2]}
    )
    verdict = audit_chain.verify(db)
    assert not verdict.intact
    assert verdict.problems == [
        f"link 3: audit entry {ids[2]} was changed (or an earlier link was)"
    ]
    _bypass_triggers(db, "DELETE FROM audit_log WHERE id = :id", {"id": ids[4]})
    problems = audit_chain.verify(db).problems
    assert f"link 5: audit entry {ids[4]} was removed" in problems


def test_the_command_exits_non_zero_naming_the_break(db, db_url, monkeypatch):
    monkeypatch.setenv("DINGDAN_DATABASE_URL", db_url)
    get_settings.cache_clear()
    try:
        _entries(db, 4)
        sealed = runner.invoke(app, ["audit", "seal"])
        assert sealed.exit_code == 0 and "4 audit entries sealed" in sealed.output
        ok = runner.invoke(app, ["audit", "verify"])
        assert ok.exit_code == 0, ok.output
        assert "audit trail intact: 4 entries in the chain, 0 waiting" in ok.output
        first = db.read(lambda c: c.execute(select(func.min(AuditEntry.id))).scalar_one())
        _bypass_triggers(db, "UPDATE audit_log SET actor = 'mallory' WHERE id = :id", {"id": first})
        bad = runner.invoke(app, ["audit", "verify"])
        assert bad.exit_code == 1
        assert f"link 1: audit entry {first} was changed" in bad.output
    finally:
        get_settings.cache_clear()


def test_entries_written_while_sealers_run_are_each_sealed_once(db):
    """Writers and two sealers at once (threads; on PostgreSQL concurrent transactions)."""
    stop = threading.Event()
    errors: list[BaseException] = []

    def write(prefix: str) -> None:
        try:
            _entries(db, 40, prefix)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    def seal_loop() -> None:
        try:
            while not stop.is_set():
                audit_chain.seal(db, batch=7)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    sealers = [threading.Thread(target=seal_loop) for _ in range(2)]
    writers = [threading.Thread(target=write, args=(p,)) for p in ("DA", "DB", "DC")]
    for t in sealers + writers:
        t.start()
    for t in writers:
        t.join()
    stop.set()
    for t in sealers:
        t.join()
    assert errors == []
    audit_chain.seal_all(db)
    verdict = audit_chain.verify(db)
    assert verdict.intact, verdict.problems
    assert verdict.sealed == _count(db, AuditEntry) == 120
    assert (
        db.read(
            lambda c: c.execute(select(func.count(func.distinct(AuditSeal.entry_id)))).scalar_one()
        )
        == 120
    )
