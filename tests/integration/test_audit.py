"""The audit trail: append-only through the service layer, hash-chained and keyed (an edit with recomputed plain
hashes is caught at its row), intact under concurrent writers; rows from before the key still verify."""

from __future__ import annotations

import hashlib
import json
import stat
import threading
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

import pytest
from sqlalchemy import JSON, Integer, String, column, insert, select, table, text, update

from engine.auth.users import get_actor
from engine.common import clock
from engine.common.errors import Forbidden
from engine.services import cases
from engine.services.startup import start
from engine.store import audit, schema
from engine.store.db import Database
from engine.store.models import AuditEvent, UTCDateTime
from engine.store.runtime import Config, Runtime

from .driver import LEAD


def test_concurrent_writers_keep_one_chain(runtime):
    officer = get_actor(runtime, "officer1")
    errors: list[BaseException] = []

    def register(i: int) -> None:
        try:
            cases.register_lead(runtime, officer, dict(LEAD, title=f"并发登记的线索{i}"))
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=register, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with runtime.db.transaction() as s:
        assert audit.verify(s) == []
        assert len(s.execute(select(AuditEvent.id)).all()) >= 16


def test_changing_an_event_through_the_service_layer_fails_and_tampering_is_detected(runtime):
    cases.register_lead(runtime, get_actor(runtime, "officer1"), dict(LEAD))
    with pytest.raises(Forbidden), runtime.db.transaction() as s:
        row = s.execute(select(AuditEvent).order_by(AuditEvent.id).limit(1)).scalar_one()
        row.title = "改过的"
    with runtime.db.sql_engine.begin() as conn:  # behind the application's back
        conn.execute(text("UPDATE audit_events SET who = 'mallory' WHERE id = (SELECT MIN(id) FROM audit_events)"))
    with runtime.db.transaction() as s:
        assert audit.verify(s) != []


# --- the keyed chain (issue 9 §4) ---


def _plain_digest(prev, at, row):
    """SHA-256 exactly as the unkeyed chain computes it: what an attacker with the database can recompute."""
    body = json.dumps([prev, row.case_id, at.isoformat(), row.who, row.event, row.task, row.title, row.detail],
                      ensure_ascii=False, sort_keys=True, default=str)
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def _rewrite_from(runtime, row_id, **changes):
    """Behind the application's back: change one row, then recompute the plain hashes of it and every later row."""
    with runtime.db.sql_engine.begin() as conn:
        if changes:
            conn.execute(update(AuditEvent).where(AuditEvent.id == row_id).values(**changes))
    with runtime.db.sessions() as s:
        rows = s.execute(select(AuditEvent).order_by(AuditEvent.id)).scalars().all()
        prev = audit.GENESIS
        fixed = []
        for row in rows:
            if row.id >= row_id:
                digest = _plain_digest(prev, row.at, row)
                fixed.append({"id": row.id, "prev_hash": prev, "hash": digest})
                prev = digest
            else:
                prev = row.hash
    with runtime.db.sql_engine.begin() as conn:
        for values in fixed:
            conn.execute(update(AuditEvent).where(AuditEvent.id == values["id"])
                         .values(prev_hash=values["prev_hash"], hash=values["hash"]))


def _rows(runtime):
    with runtime.db.transaction() as s:
        return s.execute(select(AuditEvent).order_by(AuditEvent.id)).scalars().all()


def test_an_edit_with_recomputed_plain_hashes_is_caught_at_that_row(runtime):
    cases.register_lead(runtime, get_actor(runtime, "officer1"), dict(LEAD))
    cases.register_lead(runtime, get_actor(runtime, "officer1"), dict(LEAD, title="第二条线索"))
    rows = _rows(runtime)
    target = rows[len(rows) // 2]
    with runtime.db.transaction() as s:
        report = audit.check(s)
    assert report.ok and report.rows == len(rows) and report.unkeyed == 0 and report.unchecked == 0

    _rewrite_from(runtime, target.id, title="改过的摘要")
    with runtime.db.transaction() as s:
        report = audit.check(s)
        assert audit.verify(s)[0] == target.id
    first = report.problems[0]
    assert (first.id, first.event, first.kind) == (target.id, target.event, audit.MAC)
    assert first.at == target.at
    assert {p.kind for p in report.problems} == {audit.MAC}  # the plain chain itself is consistent again
    assert [p.id for p in report.problems] == [r.id for r in rows if r.id >= target.id]


def test_the_right_key_verifies_and_a_wrong_key_fails(runtime):
    cases.register_lead(runtime, get_actor(runtime, "officer1"), dict(LEAD))
    key = audit.load_key(runtime.config.database_url)
    assert key is not None
    with runtime.db.transaction() as s:
        assert audit.check(s, key).ok
        wrong = audit.check(s, b"x" * 64)
        hash_only = audit.check(s, None)
    assert not wrong.ok and {p.kind for p in wrong.problems} == {audit.MAC}
    assert len(wrong.problems) == wrong.rows
    assert hash_only.ok and hash_only.unchecked == hash_only.rows


def test_a_downgraded_row_is_caught(runtime):
    cases.register_lead(runtime, get_actor(runtime, "officer1"), dict(LEAD))
    target = _rows(runtime)[-2]
    with runtime.db.sql_engine.begin() as conn:
        conn.execute(update(AuditEvent).where(AuditEvent.id == target.id).values(mac=None))
    _rewrite_from(runtime, target.id, title="改过的摘要")
    with runtime.db.transaction() as s:
        problems = audit.check(s).problems
    assert problems[0].id == target.id and problems[0].kind == audit.MAC and "缺少" in problems[0].reason


def test_verify_audit_command_names_the_row(runtime, capsys):
    from cli.main import main

    cases.register_lead(runtime, get_actor(runtime, "officer1"), dict(LEAD))
    url = runtime.config.database_url
    assert main(["--database", url, "verify-audit"]) == 0
    assert "审计链完整" in capsys.readouterr().out
    target = _rows(runtime)[3]
    _rewrite_from(runtime, target.id, title="改过的摘要")
    assert main(["--database", url, "verify-audit"]) == 1
    out = capsys.readouterr().out
    local = target.at.astimezone(clock.LOCAL_TZ).isoformat()
    assert f"记录 #{target.id}（{local}，事件 {target.event}）：MAC 校验失败" in out
    assert f"第一处问题在记录 #{target.id}" in out

    # a wrong key file: every keyed row fails, and the command says the key is likely wrong
    other = Path(audit.key_file(url)).with_name("wrong.key")
    other.write_text("y" * 64, encoding="utf-8")
    other.chmod(0o600)
    try:
        assert main(["--database", url, "verify-audit", "--key-file", str(other)]) == 1
        assert "很可能用错了密钥" in capsys.readouterr().out
    finally:
        other.unlink()


def test_a_broken_link_is_a_chain_failure(runtime):
    cases.register_lead(runtime, get_actor(runtime, "officer1"), dict(LEAD))
    rows = _rows(runtime)
    with runtime.db.sql_engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_events WHERE id = :id"), {"id": rows[2].id})
    with runtime.db.transaction() as s:
        problems = audit.check(s).problems
    assert [(p.id, p.kind) for p in problems] == [(rows[3].id, audit.CHAIN)]


# --- the key: outside the database ---


def test_the_key_file_is_made_next_to_the_sqlite_database_and_never_stored(runtime):
    if not runtime.db.is_sqlite:
        pytest.skip("the SQLite key file")
    database = Path(runtime.config.database_url.removeprefix("sqlite:///"))
    key_file = database.with_name(database.name + ".audit-key")
    assert audit.key_file(runtime.config.database_url) == key_file
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    key = key_file.read_text(encoding="utf-8").strip()
    assert len(key) == 64
    with runtime.db.sql_engine.connect() as conn:
        dump = "\n".join(str(row) for table in ("settings", "audit_events", "users")
                         for row in conn.execute(text(f"SELECT * FROM {table}")))
    files = [database, database.with_name(database.name + "-wal")]
    assert key not in dump and not any(key.encode() in f.read_bytes() for f in files if f.exists())


def test_the_environment_key_wins_and_no_file_is_made(db_url, monkeypatch, tmp_path):
    monkeypatch.setenv(audit.KEY_ENV, "k" * 40)
    monkeypatch.setenv(audit.KEY_FILE_ENV, str(tmp_path / "never.key"))
    eng = Runtime(Config(database_url=db_url, demo=True))
    try:
        start(eng)
        assert not (tmp_path / "never.key").exists()
        with eng.db.transaction() as s:
            assert audit.check(s).ok and audit.check(s, b"k" * 40).ok
            assert not audit.check(s, b"j" * 40).ok
        monkeypatch.setenv(audit.KEY_ENV, "too short")
        with pytest.raises(audit.AuditKeyError), eng.db.transaction() as s:
            audit.record(s, who="system", event_name="note", case_id=None, title="x")
    finally:
        eng.close()
        clock.use(clock.Clock())


def test_a_lost_key_stops_writing_instead_of_starting_a_second_key(runtime, monkeypatch, tmp_path):
    monkeypatch.delenv(audit.KEY_ENV, raising=False)
    monkeypatch.setenv(audit.KEY_FILE_ENV, str(tmp_path / "lost.key"))
    with pytest.raises(audit.AuditKeyError, match="审计密钥丢失"), runtime.db.transaction() as s:
        audit.record(s, who="system", event_name="note", case_id=None, title="x")
    assert not (tmp_path / "lost.key").exists()


def test_concurrent_first_starts_share_one_key(tmp_path):
    path = tmp_path / "shared.key"
    keys: list[bytes] = []
    threads = [threading.Thread(target=lambda: keys.append(audit._create_key_file(path))) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(keys)) == 1 and len(keys) == 8
    assert sorted(p.name for p in tmp_path.iterdir()) == ["shared.key"]


# --- rows from before the key ---


def test_a_database_from_before_the_key_upgrades_and_its_rows_still_verify(db_url):
    db = Database(db_url)
    schema.upgrade(db, "0001")
    legacy = table("audit_events", column("case_id", Integer), column("at", UTCDateTime()),
                   column("who", String), column("event", String), column("task", String), column("title", String),
                   column("detail", JSON), column("prev_hash", String), column("hash", String))
    prev = audit.GENESIS
    old_rows = []
    for i in range(3):
        row = SimpleNamespace(case_id=None, at=datetime(2026, 5, 1, 1, i, tzinfo=UTC), who="system", event="note",
                              task=None, title=f"旧记录{i}", detail={"n": i})
        digest = _plain_digest(prev, row.at, row)
        old_rows.append(dict(vars(row), prev_hash=prev, hash=digest))
        prev = digest
    with db.sql_engine.begin() as conn:
        conn.execute(insert(legacy), old_rows)
    schema.upgrade(db)
    db.dispose()

    eng = Runtime(Config(database_url=db_url, demo=True))
    try:
        start(eng)  # deploys the diagrams: keyed rows chained after the old ones
        with eng.db.transaction() as s:
            report = audit.check(s)
        assert report.ok and report.unkeyed == 3 and report.rows > 3
        rows = _rows(eng)
        assert [r.mac for r in rows[:3]] == [None] * 3 and all(r.mac for r in rows[3:])
        assert rows[3].prev_hash == old_rows[-1]["hash"]

        _rewrite_from(eng, rows[1].id, title="改过的旧记录")  # an unkeyed row: the first keyed row after it catches it
        with eng.db.transaction() as s:
            problems = audit.check(s).problems
        assert problems[0].id == rows[3].id and problems[0].kind == audit.MAC
    finally:
        eng.close()
        clock.use(clock.Clock())
