"""Incidents: engine failures a supervisor can see and retry once the cause is fixed."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from engine.common import clock
from engine.common.actor import Actor
from engine.common.errors import Conflict, Forbidden, NotFound
from engine.process.instances import advance, open_run
from engine.store import audit
from engine.store.models import Incident, ProcessInstance
from engine.store.runtime import Runtime


def _view(i: Incident) -> dict[str, Any]:
    return {"id": i.id, "instance_id": i.instance_id, "case_id": i.case_id, "element": i.element_id,
            "message": i.message, "created_at": i.created_at.isoformat(),
            "resolved_at": i.resolved_at.isoformat() if i.resolved_at else None}


def open_incidents(runtime: Runtime, actor: Actor, case_id: int | None = None) -> list[dict[str, Any]]:
    if not (actor.has("supervisor") or actor.has("admin") or actor.is_system):
        raise Forbidden("只有督办人员或管理员可以查看流程异常")
    with runtime.db.transaction() as s:
        query = select(Incident).where(Incident.resolved_at.is_(None))
        if case_id is not None:
            query = query.where(Incident.case_id == case_id)
        return [_view(i) for i in s.execute(query.order_by(Incident.id)).scalars()]


def retry(runtime: Runtime, actor: Actor, incident_id: int) -> dict[str, Any]:
    """Run the engine again from where it stopped; resolved when it gets past the failing element."""
    if not (actor.has("supervisor") or actor.has("admin")):
        raise Forbidden("只有督办人员或管理员可以重试流程异常")
    with runtime.db.transaction() as s:
        incident = s.get(Incident, incident_id)
        if incident is None:
            raise NotFound("流程异常记录不存在")
        if incident.resolved_at is not None:
            raise Conflict("该异常已处理")
        inst = s.get(ProcessInstance, incident.instance_id)
        if inst is None:
            raise NotFound("流程实例不存在")
        incident.resolved_at, incident.resolved_by = clock.now(), actor.username
        s.flush()
        run = open_run(runtime, s, inst, actor)
        again = advance(run, lambda wf: None)
        audit.record(s, who=actor.username, event_name="note", case_id=inst.case_id, task=incident.element_id,
                     title="重试流程异常" + ("（仍失败）" if again else "（已恢复）"),
                     detail={"incident": incident.id, "again": again.message if again else None})
        return {"resolved": again is None, "incident": _view(again) if again else None}
