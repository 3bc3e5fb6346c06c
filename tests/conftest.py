"""Shared fixtures: an engine per test on SQLite (a temp file) or on the PostgreSQL server of the test run."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from engine.auth.users import create_user, ensure_departments
from engine.common import clock
from engine.services.startup import start
from engine.store.runtime import Config, Runtime

START = datetime.fromisoformat("2026-06-01T09:00:00+08:00")
PG_URL = os.environ.get("ECO_TEST_POSTGRES")  # e.g. postgresql+psycopg://postgres@127.0.0.1:55432/postgres


def _databases() -> list[str]:
    return ["sqlite", "postgres"] if PG_URL else ["sqlite"]


@pytest.fixture(params=_databases())
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'test.sqlite'}"
        return
    assert PG_URL
    name = "t_" + uuid.uuid4().hex[:12]
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    base = PG_URL.rsplit("/", 1)[0]
    yield f"{base}/{name}"
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def runtime(db_url: str) -> Iterator[Runtime]:
    eng = Runtime(Config(database_url=db_url, demo=True, clock_start=START))
    start(eng)
    with eng.db.transaction() as s:
        ensure_departments(s)
    people = [("officer1", ["officer"], "eco_env", "王经办"), ("officer2", ["officer"], "water", "赵经办"),
              ("division1", ["division_head"], "eco_env", "李处长"), ("dept1", ["department_head"], "eco_env", "张厅长"),
              ("supervisor1", ["supervisor"], None, "陈督办"), ("admin1", ["admin"], None, "管理员"),
              ("analyst1", ["analyst"], None, "流程管理员")]
    for username, roles, dept, name in people:
        create_user(eng, username, None, roles, dept, name)
    yield eng
    eng.close()
    clock.use(clock.Clock())
