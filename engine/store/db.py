"""The database connection and the unit of work: every use case runs in one transaction."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine as SqlEngine
from sqlalchemy import create_engine, event
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from engine.common.errors import Conflict


def make_engine(url: str) -> SqlEngine:
    if url.startswith("sqlite"):
        sql_engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(sql_engine, "connect")
        def _sqlite_connect(dbapi_conn: Any, _record: Any) -> None:
            # Autocommit at the driver level so that BEGIN below is ours: IMMEDIATE takes the write lock at
            # the start, so two writers queue instead of one failing on a stale snapshot.
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        @event.listens_for(sql_engine, "begin")
        def _sqlite_begin(conn: Any) -> None:
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return sql_engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


class Database:
    """Owns the connection pool and hands out units of work."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.sql_engine = make_engine(url)
        self.sessions = sessionmaker(self.sql_engine, expire_on_commit=False)

    @property
    def is_sqlite(self) -> bool:
        return self.url.startswith("sqlite")

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """One unit of work: commit on success, roll back on any error; stale writes become Conflict."""
        session = self.sessions()
        try:
            with session.begin():
                yield session
        except StaleDataError as exc:
            raise Conflict("数据已被他人修改，请刷新后重试") from exc
        except OperationalError as exc:
            text = str(exc).lower()
            if "locked" in text or "could not serialize" in text or "deadlock detected" in text:
                raise Conflict("数据正被他人修改，请稍后重试") from exc
            raise
        except IntegrityError as exc:
            # Two writers inserting the same key at once (the loser of a race), not bad input: retry later.
            if "unique" in str(exc).lower() or "duplicate key" in str(exc).lower():
                raise Conflict("数据正被他人同时修改，请稍后重试") from exc
            raise
        finally:
            session.close()

    def dispose(self) -> None:
        self.sql_engine.dispose()
