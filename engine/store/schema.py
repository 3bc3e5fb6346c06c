"""The database schema's version: create it on an empty database, upgrade an older one, refuse to run on one
that is behind. Alembic does the work (``engine/store/migrations``); databases made before migrations existed
(``create_all`` only, no ``alembic_version`` table) are recognised and stamped at the baseline."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from engine.common.errors import DomainError
from engine.store.db import Database
from engine.store.models import Base

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
#: the revision that describes the schema of the databases made before migrations existed
BASELINE = "0001"


# Tables that belong to a library, not to our models: APScheduler creates and migrates its own job table.
FOREIGN_TABLES = {"apscheduler_jobs"}


def include_object(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    """Alembic's filter: compare and migrate our tables only."""
    return not (type_ == "table" and name in FOREIGN_TABLES)


class SchemaBehind(DomainError):
    code = "schema_behind"


def _config(connection: object | None = None) -> AlembicConfig:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = connection
    return cfg


def head() -> str:
    revision = ScriptDirectory.from_config(_config()).get_current_head()
    assert revision is not None
    return revision


def current(db: Database) -> str | None:
    """The database's revision; ``BASELINE`` for a pre-migration database; None for an empty one."""
    with db.sql_engine.connect() as conn:
        revision = MigrationContext.configure(conn).get_current_revision()
        if revision is None and _has_our_tables(conn):
            return BASELINE
    return revision


def _has_our_tables(conn: object) -> bool:
    return "cases" in inspect(conn).get_table_names()


def upgrade(db: Database, target: str = "head") -> tuple[str | None, str]:
    """Bring the schema to ``target``; returns (revision before, revision after)."""
    before = current(db)
    with db.sql_engine.begin() as conn:
        cfg = _config(conn)
        if MigrationContext.configure(conn).get_current_revision() is None and _has_our_tables(conn):
            command.stamp(cfg, BASELINE)  # made by create_all before migrations: it is the baseline schema
        command.upgrade(cfg, target)
    after = current(db)
    assert after is not None
    return before, after


def create(db: Database) -> None:
    """The schema of an empty database, as the models declare it, stamped at the latest revision (Alembic's
    recipe for new databases; ``tests/integration/test_migrations.py`` proves the migrations build the same)."""
    with db.sql_engine.begin() as conn:
        Base.metadata.create_all(conn)
        command.stamp(_config(conn), "head")


def ensure_current(db: Database) -> None:
    """Create the schema on an empty database; refuse, with what to do, a database whose schema is behind."""
    revision = current(db)
    if revision is None:
        create(db)
        return
    latest = head()
    if revision != latest:
        raise SchemaBehind(f"数据库结构版本为 {revision}，程序需要 {latest}：请先备份数据库，再运行 "
                           f"“eco-claims db upgrade”升级后启动", {"database": f"{revision} → {latest}"})
