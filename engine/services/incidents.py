"""Incidents: engine failures a supervisor can see and repair — correct the process data and retry, or send the
case back to the task whose input caused the failure. Every repair is audited with what changed."""

from __future__ import annotations

import json
import re
from typing import Any

from sqlalchemy import select

from engine.common import clock
from engine.common.actor import Actor
from engine.common.errors import Conflict, Forbidden, NotFound, ValidationFailed
from engine.process.instances import Run, advance, open_run, project
from engine.process.workflow import completed_user_tasks, previous_user_task, reopen_user_task, stuck_tasks
from engine.store import audit
from engine.store.models import HumanTask, Incident, ProcessInstance
from engine.store.runtime import Runtime


def _view(i: Incident) -> dict[str, Any]:
    return {"id": i.id, "instance_id": i.instance_id, "case_id": i.case_id, "element": i.element_id,
            "message": i.message, "detail": i.detail, "created_at": i.created_at.isoformat(),
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
    with runtime.db.transaction() as s:
        incident, run = _open_incident(runtime, s, actor, incident_id, "重试流程异常")
        incident.resolved_at, incident.resolved_by = clock.now(), actor.username
        s.flush()
        again = advance(run, lambda wf: None)
        audit.record(s, who=actor.username, event_name="note", case_id=incident.case_id, task=incident.element_id,
                     title="重试流程异常" + ("（仍失败）" if again else "（已恢复）"),
                     detail={"incident": incident.id, "again": again.message if again else None})
        return {"resolved": again is None, "incident": _view(again) if again else None}


VARIABLE = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,79}")
MAX_CHANGE_BYTES = 64 * 1024


def _open_incident(runtime: Runtime, s: Any, actor: Actor, incident_id: int, what: str) -> tuple[Incident, Run]:
    if not (actor.has("supervisor") or actor.has("admin")):
        raise Forbidden(f"只有督办人员或管理员可以{what}")
    incident = s.get(Incident, incident_id)
    if incident is None:
        raise NotFound("流程异常记录不存在")
    if incident.resolved_at is not None:
        raise Conflict("该异常已处理")
    inst = s.get(ProcessInstance, incident.instance_id)
    if inst is None:
        raise NotFound("流程实例不存在")
    return incident, open_run(runtime, s, inst, actor)


def _check_changes(changes: Any) -> dict[str, Any]:
    if not isinstance(changes, dict) or not changes:
        raise ValidationFailed("请给出要更正的流程数据，如 {\"notice_date\": \"2026-07-01\"}", {"data": "应为非空对象"})
    bad = [k for k in changes if not isinstance(k, str) or not VARIABLE.fullmatch(k)]
    if bad:
        raise ValidationFailed("流程变量名只能由字母、数字和下划线组成，并以字母开头",
                               {"data": "无效的变量名：" + "、".join(map(str, bad))[:200]})
    if len(json.dumps(changes, ensure_ascii=False, default=str)) > MAX_CHANGE_BYTES:
        raise ValidationFailed("更正的数据过大", {"data": "不超过 64KB"})
    return dict(changes)


def correct_data(runtime: Runtime, actor: Actor, incident_id: int, changes: Any, reason: str = "") -> dict[str, Any]:
    """Set process variables where the instance stopped (the failing element's task, or the next engine tasks);
    the incident stays open until a retry gets past it. Audited with the values before and after."""
    changes = _check_changes(changes)
    if not str(reason or "").strip():
        raise ValidationFailed("请说明更正原因", {"reason": "必填"})
    with runtime.db.transaction() as s:
        incident, run = _open_incident(runtime, s, actor, incident_id, "更正流程数据")
        targets = stuck_tasks(run.wf, incident.element_id)
        if not targets:
            raise Conflict("流程实例没有停在可更正数据的环节，请直接重试或退回任务")
        before = {k: targets[0].data.get(k) for k in changes}
        for task in targets:
            task.data.update(changes)
        project(run)
        audit.record(s, who=actor.username, event_name="incident_fix", case_id=incident.case_id,
                     task=incident.element_id, title="更正流程数据：" + "、".join(changes),
                     detail={"incident": incident.id, "before": before, "after": changes, "reason": str(reason)[:500]})
        return {"incident": _view(incident), "before": before, "after": changes}


def return_to_task(runtime: Runtime, actor: Actor, incident_id: int, task: str | None = None,
                   reason: str = "") -> dict[str, Any]:
    """Send the case back to a user task (default: the one completed just before the failing element) with the
    data it was completed with, so its officer corrects the input; the work done after it is undone and the
    incident is closed. Audited."""
    if not str(reason or "").strip():
        raise ValidationFailed("请说明退回原因", {"reason": "必填"})
    with runtime.db.transaction() as s:
        incident, run = _open_incident(runtime, s, actor, incident_id, "退回任务")
        stuck = stuck_tasks(run.wf, incident.element_id)
        if task:
            candidates = completed_user_tasks(run.wf, task)
            if not candidates:
                raise ValidationFailed(f"该流程实例没有已完成的任务“{task}”", {"task": "应为已完成的用户任务"})
            target = candidates[-1]
        else:
            found = [previous_user_task(run.wf, t) for t in stuck]
            target = next((t for t in found if t is not None), None)
            if target is None:
                raise Conflict("找不到出错环节之前的用户任务，请指明要退回的任务", {"task": "请指明"})
        reopen_user_task(run.wf, target)
        row = s.get(HumanTask, str(target.id))
        if row is not None:
            row.state, row.assignee, row.completed_at, row.completed_by = "open", None, None, None
            row.row_version += 1
        incident.resolved_at, incident.resolved_by = clock.now(), actor.username
        advance(run, lambda wf: None)
        audit.record(s, who=actor.username, event_name="incident_fix", case_id=incident.case_id,
                     task=target.task_spec.name, title=f"退回任务：{target.task_spec.bpmn_name or target.task_spec.name}",
                     detail={"incident": incident.id, "element": incident.element_id, "reason": str(reason)[:500]})
        return {"incident": _view(incident), "task": str(target.id), "element": str(target.task_spec.name)}
