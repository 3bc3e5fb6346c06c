"""The caller's notifications: rows addressed to their username, or to one of their roles (and department)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, and_, or_, select

from engine.common.actor import Actor
from engine.common.errors import NotFound
from engine.store.models import Notification
from engine.store.runtime import Runtime


def _addressed_to(actor: Actor) -> ColumnElement[bool]:
    by_role = and_(Notification.username.is_(None), Notification.role.in_(actor.roles),
                   or_(Notification.department_id.is_(None), Notification.department_id == actor.department))
    return or_(Notification.username == actor.username, by_role)


def _view(n: Notification) -> dict[str, Any]:
    return {"id": n.id, "at": n.at.isoformat(), "kind": n.kind, "case_id": n.case_id, "task_id": n.task_id,
            "text": n.text, "read": n.read}


def for_actor(runtime: Runtime, actor: Actor, unread: bool = False) -> dict[str, Any]:
    with runtime.db.transaction() as s:
        query = select(Notification).where(_addressed_to(actor))
        if unread:
            query = query.where(Notification.read.is_(False))
        rows = s.execute(query.order_by(Notification.at.desc(), Notification.id.desc()).limit(500)).scalars()
        return {"items": [_view(n) for n in rows]}


def mark_read(runtime: Runtime, actor: Actor, notification_id: int) -> dict[str, Any]:
    """Mark one notification read; one not addressed to the caller is "not found"."""
    with runtime.db.transaction() as s:
        row = s.execute(select(Notification).where(_addressed_to(actor), Notification.id == notification_id)).scalar()
        if row is None:
            raise NotFound("通知不存在")
        row.read = True
        return _view(row)
