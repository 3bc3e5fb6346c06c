"""Schema migrations: they build exactly the models' schema on SQLite and PostgreSQL, a database made before
migrations existed (``create_all`` only) upgrades without losing a row, and a database that is behind is refused
at start with what to do."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, select, text

from engine.auth.users import get_actor
from engine.services import tasks
from engine.services.demo import load_demo
from engine.services.startup import start
from engine.store import schema
from engine.store.db import Database
from engine.store.models import AuditEvent, Base, Case, HumanTask
from engine.store.runtime import Config, Runtime
from engine.store.schema import include_object

from .driver import LEAD
from .driver import Case as CaseDriver

ROOT = Path(__file__).resolve().parents[2]


def differences(db: Database) -> list[object]:
    with db.sql_engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"include_object": include_object, "compare_type": True})
        return list(compare_metadata(context, Base.metadata))


def test_migrations_build_exactly_the_models_schema(db_url: str) -> None:
    db = Database(db_url)
    try:
        assert schema.current(db) is None
        before, after = schema.upgrade(db)
        assert (before, after) == (None, schema.head())
        assert differences(db) == []
        assert schema.current(db) == schema.head()
    finally:
        db.dispose()


def test_a_new_database_made_at_start_matches_the_migrations(runtime: Runtime) -> None:
    assert schema.current(runtime.db) == schema.head()
    assert differences(runtime.db) == []


def test_a_database_from_before_migrations_upgrades_without_loss(db_url: str) -> None:
    # Today's main made its schema with create_all and no alembic_version table: the baseline revision.
    runtime = Runtime(Config(database_url=db_url, demo=True))
    start(runtime)
    assert load_demo(runtime)  # users, departments and five cases at several stages
    case = CaseDriver(runtime)
    case.do("screen_lead", {"screening_result": "start_claim", "screening_reason": "损害事实清楚，符合索赔启动情形"})
    with runtime.db.sql_engine.begin() as conn:
        conn.execute(text("DROP TABLE alembic_version"))
    counts = _counts(runtime)
    assert schema.current(runtime.db) == schema.BASELINE
    runtime.close()

    db = Database(db_url)
    before, after = schema.upgrade(db)
    assert (before, after) == (schema.BASELINE, schema.head())
    assert differences(db) == []
    db.dispose()

    upgraded = Runtime(Config(database_url=db_url, demo=True))
    start(upgraded)
    assert _counts(upgraded) == counts
    with upgraded.db.transaction() as s:
        task = s.execute(select(HumanTask).where(HumanTask.case_id == case.id, HumanTask.state == "open")).scalar_one()
    assert task.bpmn_id == "register_claim_start"
    tasks.claim(upgraded, get_actor(upgraded, "officer1"), task.id)  # the case goes on after the upgrade
    upgraded.close()


def _counts(runtime: Runtime) -> dict[str, int]:
    with runtime.db.transaction() as s:
        tables = [t for t in inspect(s.connection()).get_table_names() if t not in ("alembic_version",)]
        counts = {t: int(s.execute(text(f'SELECT COUNT(*) FROM "{t}"')).scalar_one()) for t in tables}
        counts["cases_with_title"] = len(s.execute(select(Case.id).where(Case.title == LEAD["title"])).all())
        counts["audit_chain"] = len(s.execute(select(AuditEvent.hash)).all())
    return counts


def test_a_database_behind_is_refused_at_start(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    runtime = Runtime(Config(database_url=db_url, demo=True))
    start(runtime)
    monkeypatch.setattr(schema, "head", lambda: "9999")
    with pytest.raises(schema.SchemaBehind, match="eco-claims db upgrade"):
        start(runtime)
    runtime.close()


def test_db_commands(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.sqlite'}"
    run = [sys.executable, "-m", "cli", "--database", url, "db"]
    empty = subprocess.run([*run, "status"], capture_output=True, text=True, cwd=ROOT, check=False)
    assert empty.returncode == 1 and "空库" in empty.stdout
    upgraded = subprocess.run([*run, "upgrade"], capture_output=True, text=True, cwd=ROOT, check=True)
    assert f"→ {schema.head()}" in upgraded.stdout
    status = subprocess.run([*run, "status"], capture_output=True, text=True, cwd=ROOT, check=False)
    assert status.returncode == 0 and "最新" in status.stdout
