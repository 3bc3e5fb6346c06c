"""Deliver a message (a court's notice, an obligor's request, a completion report) to the case that waits for it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import select

from engine.auth import access
from engine.common.actor import Actor
from engine.common.contract import COURT_NOTICE_PROCESS, MESSAGES, START_KEYS, message_form
from engine.common.errors import BadRequest, Conflict, Forbidden, NotFound, ValidationFailed
from engine.forms import schemas
from engine.forms.validation import validate_form
from engine.process.instances import advance, open_run, start_instance
from engine.process.messaging import aim_at_group, message_event, send, waiting_groups
from engine.services.views import case_view
from engine.store import audit
from engine.store.models import ProcessInstance
from engine.store.runtime import Runtime


def payload_schemas(bpmn_dir: Path) -> dict[str, dict[str, Any]]:
    """Each message's payload form (``bpmn/forms/message_<name>.json``), by message name."""
    return {name: schemas.schema(bpmn_dir, message_form(name)) for name in MESSAGES}


def deliver(runtime: Runtime, actor: Actor, case_id: int, name: str, payload: Any) -> dict[str, Any]:
    if name not in MESSAGES:
        raise NotFound(f"未知的消息：{name}", {"name": "可选：" + "、".join(MESSAGES)})
    if not isinstance(payload, dict):
        raise BadRequest("消息内容应为 JSON 对象", {"payload": "应为对象"})
    form = schemas.schema(runtime.config.bpmn_dir, message_form(name))
    label = str(form.get("title") or name)
    with runtime.db.transaction() as s:
        case = access.case_for(s, actor, case_id)
        if not (actor.has("officer") or actor.has("supervisor") or actor.has("admin") or actor.is_system):
            raise Forbidden("您没有投递消息的权限")
        if case.status != "open":
            raise Conflict(f"案件已结束（{case.status}），不能再登记“{label}”", {"name": "案件已结束"})
        everything = s.execute(select(ProcessInstance).where(ProcessInstance.case_id == case.id)
                               .order_by(ProcessInstance.id)).scalars().all()
        instances = [i for i in everything if i.status != "completed"]
        context: dict[str, Any] = {}
        pil = [i for i in instances if i.process_id == COURT_NOTICE_PROCESS]
        if name == "court_notice_received" and pil:
            payloads = _start_payloads(runtime, s, actor, pil[-1:], "pil_case_accepted")
            context["accepted_on"] = payloads[0].get("accepted_on") if payloads else None
        problems = validate_form(form, payload, context)
        if problems:
            raise ValidationFailed(f"消息内容有误：{next(iter(problems.values()))}", problems)
        event = message_event(name, payload)
        starts = MESSAGES[name]
        if starts is not None:
            key = START_KEYS.get(name)
            earlier = [i for i in everything if i.process_id == starts]
            if key and any(p.get(key) == payload.get(key) for p in _start_payloads(runtime, s, actor, earlier, name)):
                raise Conflict(f"已登记过{form['properties'][key].get('title', key)}为“{payload.get(key)}”的“{label}”",
                               {key: "重复登记"})
            run = start_instance(runtime, s, starts, actor, {"case_id": case.id, "title": case.title}, case=case)
            _send(run, event, name)
        else:
            delivered = False
            group = payload.get("group")
            for inst in instances:
                run = open_run(runtime, s, inst, actor)
                if group is not None and not aim_at_group(run.wf, event, int(group)):
                    continue
                waiting = waiting_groups(run.wf, event)
                if group is None and len(waiting) > 1:
                    raise ValidationFailed("有多个赔偿义务人组在等待该消息，请指明组号",
                                           {"group": "请指明组号：" + "、".join(map(str, waiting))})
                if not send(run.wf, event):  # this instance does not wait for it; try the next
                    continue
                advance(run, lambda wf: None)
                delivered = True
                break
            if not delivered:
                raise Conflict(f"案件当前没有等待“{label}”的环节")
        audit.record(s, who=actor.username, event_name="message", case_id=case.id, task=name,
                     title=f"收到消息：{label}", detail={"payload": payload})
        s.flush()
        return case_view(s, actor, case)


def _start_payloads(runtime: Runtime, s: Any, actor: Actor, instances: Any, name: str) -> list[dict[str, Any]]:
    """The payloads of message ``name`` that started ``instances`` (kept in their task data under its name)."""
    found = []
    for inst in instances:
        for task in open_run(runtime, s, inst, actor).wf.get_tasks():
            if isinstance(task.data.get(name), dict):
                found.append(dict(task.data[name]))
                break
    return found


def _send(run: Any, event: Any, name: str) -> None:
    def act(wf: Any) -> None:
        if not send(wf, event):
            raise Conflict(f"案件当前没有等待“{name}”消息的环节")

    advance(run, act)
