"""Deliver a message (a court's notice, an obligor's request, a completion report) to the case that waits for it."""

from __future__ import annotations

from typing import Any

from SpiffWorkflow.bpmn.util.event import BpmnEvent
from SpiffWorkflow.exceptions import WorkflowException
from SpiffWorkflow.spiff.specs.event_definitions import MessageEventDefinition
from sqlalchemy import select

from . import access, audit
from .errors import BadRequest, Conflict, Forbidden, NotFound, ValidationFailed
from .instances import advance, open_run, start_instance
from .models import ProcessInstance
from .runtime import Actor, Engine
from .validation import validate_form
from .views import case_view

# Message payloads (API.md); a message that starts a process names it.
PAYLOADS: dict[str, dict[str, Any]] = {
    "pil_case_accepted": {"type": "object", "additionalProperties": False, "required": ["court", "case_number", "accepted_on"],
                          "properties": {"court": {"type": "string", "title": "受理法院", "minLength": 1},
                                         "case_number": {"type": "string", "title": "案号", "minLength": 1},
                                         "accepted_on": {"type": "string", "format": "date", "title": "受理日期"}}},
    "court_notice_received": {"type": "object", "additionalProperties": False, "required": ["court", "received_on"],
                              "properties": {"court": {"type": "string", "title": "告知法院", "minLength": 1},
                                             "received_on": {"type": "string", "format": "date", "title": "收到告知日期",
                                                             "x-not-before": "accepted_on"}},
                              "x-context-labels": {"accepted_on": "受理日期"}},
    "obligor_requests_restoration": {"type": "object", "additionalProperties": False, "required": ["requested_on"],
                                     "properties": {"requested_on": {"type": "string", "format": "date", "title": "申请日期"},
                                                    "note": {"type": "string", "title": "说明"},
                                                    "group": {"type": "integer", "title": "赔偿义务人组", "minimum": 1}}},
    "restoration_completed": {"type": "object", "additionalProperties": False, "required": ["completed_on"],
                              "properties": {"completed_on": {"type": "string", "format": "date", "title": "修复完成日期"},
                                             "report": {"type": "string", "title": "修复完成通报"},
                                             "group": {"type": "integer", "title": "赔偿义务人组", "minimum": 1}}},
}
STARTS = {"pil_case_accepted": "pil_court_notice"}


def deliver(engine: Engine, actor: Actor, case_id: int, name: str, payload: Any) -> dict[str, Any]:
    if name not in PAYLOADS:
        raise NotFound(f"未知的消息：{name}", {"name": "可选：" + "、".join(PAYLOADS)})
    if not isinstance(payload, dict):
        raise BadRequest("消息内容应为 JSON 对象", {"payload": "应为对象"})
    with engine.db.transaction() as s:
        case = access.case_for(s, actor, case_id)
        if not (actor.has("officer") or actor.has("supervisor") or actor.has("admin") or actor.is_system):
            raise Forbidden("您没有投递消息的权限")
        instances = s.execute(select(ProcessInstance).where(ProcessInstance.case_id == case.id,
                                                            ProcessInstance.status != "completed")
                              .order_by(ProcessInstance.id)).scalars().all()
        context: dict[str, Any] = {}
        pil = [i for i in instances if i.process_id == "pil_court_notice"]
        if name == "court_notice_received" and pil:
            # The start message's payload lives in the task data of the instance it started.
            payloads = [t.data["pil_case_accepted"] for t in open_run(engine, s, pil[-1], actor).wf.get_tasks()
                        if isinstance(t.data.get("pil_case_accepted"), dict)]
            context["accepted_on"] = payloads[0].get("accepted_on") if payloads else None
        problems = validate_form(PAYLOADS[name], payload, context)
        if problems:
            raise ValidationFailed(f"消息内容有误：{next(iter(problems.values()))}", problems)
        event = BpmnEvent(MessageEventDefinition(name), payload=dict(payload))
        if name in STARTS:
            run = start_instance(engine, s, STARTS[name], actor, {"case_id": case.id, "title": case.title}, case=case)
            _send(run, event, name)
        else:
            delivered = False
            group = payload.get("group")
            for inst in instances:
                run = open_run(engine, s, inst, actor)
                if group is not None and not _aim_at_group(run.wf, event, int(group)):
                    continue
                if group is None and len(_waiting_groups(run.wf, event)) > 1:
                    raise ValidationFailed("有多个赔偿义务人组在等待该消息，请指明组号",
                                           {"group": "请指明组号：" + "、".join(map(str, _waiting_groups(run.wf, event)))})
                try:
                    run.wf.send_event(event)
                except WorkflowException:  # this instance does not wait for it; try the next
                    continue
                advance(run, lambda wf: None)
                delivered = True
                break
            if not delivered:
                raise Conflict(f"案件当前没有等待“{name}”消息的环节")
        audit.record(s, who=actor.username, event_name="message", case_id=case.id, task=name,
                     title=f"收到消息：{name}", detail={"payload": payload})
        s.flush()
        return case_view(s, actor, case)


def _waiting_groups(wf: Any, event: BpmnEvent) -> list[int]:
    groups = {task.data["group"].get("id") for task in wf.event_manager.tasks.values()
              if isinstance(task.data.get("group"), dict) and task.task_spec.catches(task, event)}
    return sorted(int(g) for g in groups if g is not None)


def _aim_at_group(wf: Any, event: BpmnEvent, group: int) -> bool:
    """Target the event at the obligor group's own waiting workflow, so other groups do not catch it too."""
    for task in wf.event_manager.tasks.values():
        owner = task.data.get("group")
        if isinstance(owner, dict) and owner.get("id") == group and task.task_spec.catches(task, event):
            event.target = task.workflow
            return True
    return False


def _send(run: Any, event: BpmnEvent, name: str) -> None:
    def act(wf: Any) -> None:
        try:
            wf.send_event(event)
        except WorkflowException as exc:
            raise Conflict(f"案件当前没有等待“{name}”消息的环节") from exc

    advance(run, act)
