"""Is this process healthy: the database answers, and whether it runs the scheduler (for /healthz and monitors)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from engine.store.runtime import Runtime


def health(runtime: Runtime) -> dict[str, Any]:
    """``db``: "ok" or "error"; ``scheduler``: "ok" (this process runs it), "standby" (another process holds the
    lock) or "off" (none here)."""
    try:
        with runtime.db.transaction() as s:
            s.execute(text("SELECT 1"))
        db = "ok"
    except (SQLAlchemyError, OSError):  # health must answer, not raise
        db = "error"
    scheduler = runtime.scheduler.status() if runtime.scheduler is not None else "off"
    return {"db": db, "scheduler": scheduler}
