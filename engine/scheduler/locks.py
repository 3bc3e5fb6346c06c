"""The single-scheduler lock: a PostgreSQL session advisory lock, or an exclusive file lock beside an SQLite file.

Whoever holds it runs the scheduler; a second process waits and takes over within seconds when the holder dies
(PostgreSQL releases a dead session's advisory locks; the kernel releases a dead process's file locks).
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from typing import IO, Any

from sqlalchemy import text

from engine.store.db import Database

# An arbitrary, fixed key: "eco-claims scheduler".
ADVISORY_KEY = 0x6563_6F5F_7363_6864 & 0x7FFF_FFFF_FFFF_FFFF


class SchedulerLock:
    def __init__(self, db: Database) -> None:
        self.db = db
        self._conn: Any = None
        self._file: IO[str] | None = None

    def try_acquire(self) -> bool:
        if self.held:
            return self._still_alive()
        if self.db.is_sqlite:
            return self._try_file()
        conn = self.db.sql_engine.connect()
        got = bool(conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": ADVISORY_KEY}).scalar())
        conn.commit()
        if got:
            self._conn = conn
        else:
            conn.close()
        return got

    @property
    def held(self) -> bool:
        return self._conn is not None or self._file is not None

    def _still_alive(self) -> bool:
        if self._conn is None:
            return True
        try:
            self._conn.execute(text("SELECT 1"))
            self._conn.commit()
            return True
        except Exception:  # the session (and with it the lock) is gone; let the caller stop and retry
            self._conn = None
            return False

    def _try_file(self) -> bool:
        path = Path(self.db.url.removeprefix("sqlite:///") + ".scheduler.lock")
        handle = open(path, "a+")  # noqa: SIM115  (kept open while the lock is held)
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            return False
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        self._file = handle
        return True

    def release(self) -> None:
        if self._conn is not None:
            try:
                self._conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": ADVISORY_KEY})
                self._conn.commit()
                self._conn.close()
            except Exception:  # the connection may already be gone, which releases the lock anyway
                pass
            self._conn = None
        if self._file is not None:
            fcntl.flock(self._file.fileno(), fcntl.LOCK_UN)
            self._file.close()
            self._file = None
