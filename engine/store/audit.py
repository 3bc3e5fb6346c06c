"""Append-only audit events; each row chains the hash of the previous one so tampering is detectable."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

from sqlalchemy import event, select, text
from sqlalchemy.orm import Session

from engine.common import clock
from engine.common.errors import Forbidden
from engine.store.models import AuditEvent

GENESIS = "0" * 64
CHAIN_LOCK = 0x6175_6469_745F_6368  # "audit_ch": the advisory-lock key of the chain


def _digest(prev: str, row: AuditEvent) -> str:
    body = json.dumps(
        [prev, row.case_id, row.at.isoformat(), row.who, row.event, row.task, row.title, row.detail],
        ensure_ascii=False, sort_keys=True, default=str)
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def record(session: Session, *, who: str, event_name: str, case_id: int | None, title: str,
           task: str | None = None, detail: dict[str, Any] | None = None, at: datetime | None = None) -> AuditEvent:
    """Append one event. The chain is global, so appenders take turns: on PostgreSQL a transaction-scoped advisory
    lock (held to commit), on SQLite the write lock every transaction already takes (BEGIN IMMEDIATE)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": CHAIN_LOCK})
    last = session.execute(select(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)).scalar()
    row = AuditEvent(case_id=case_id, at=at or clock.now(), who=who, event=event_name, task=task, title=title,
                     detail=detail or {}, prev_hash=last or GENESIS)
    row.hash = _digest(row.prev_hash, row)
    session.add(row)
    session.flush()
    return row


def changed_fields(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """Before/after of every top-level field that changed."""
    out: dict[str, Any] = {}
    for key in sorted(set(before) | set(after)):
        if before.get(key) != after.get(key):
            out[key] = {"before": before.get(key), "after": after.get(key)}
    return out


def verify(session: Session) -> list[int]:
    """Ids of audit rows whose hash or link does not match (empty when the chain is intact)."""
    bad: list[int] = []
    prev = GENESIS
    for row in session.execute(select(AuditEvent).order_by(AuditEvent.id)).scalars():
        if row.prev_hash != prev or row.hash != _digest(row.prev_hash, row):
            bad.append(row.id)
        prev = row.hash
    return bad


@event.listens_for(Session, "before_flush")
def _refuse_changes(session: Session, _ctx: Any, _instances: Any) -> None:
    for obj in list(session.dirty) + list(session.deleted):
        if isinstance(obj, AuditEvent) and (obj in session.deleted or session.is_modified(obj)):
            raise Forbidden("审计记录只能追加，不能修改或删除")
