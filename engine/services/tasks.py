"""Use cases on the inbox: list, read (with its form), claim, unclaim, complete with data."""

from __future__ import annotations

import copy
from typing import Any

from sqlalchemy import select

from engine.auth import access
from engine.common import clock
from engine.common.actor import Actor
from engine.common.errors import Conflict, ValidationFailed
from engine.forms import schemas
from engine.forms.validation import offered
from engine.process.instances import advance, find_task, open_run
from engine.process.workflow import is_ready, properties
from engine.services.cases import check_sizes, sync_obligors
from engine.services.views import case_view, task_item
from engine.store import audit
from engine.store.models import HumanTask, ProcessInstance
from engine.store.runtime import Runtime


def inbox(runtime: Runtime, actor: Actor, scope: str = "mine", case_id: int | None = None) -> dict[str, Any]:
    """``mine``: assigned to me; ``group``: open to my role and department; ``all``: every visible open task."""
    with runtime.db.transaction() as s:
        query = select(HumanTask).where(HumanTask.state == "open", access.visible_tasks(actor))
        if case_id is not None:
            query = query.where(HumanTask.case_id == case_id)
        if scope == "mine":
            query = query.where(HumanTask.assignee == actor.username)
        elif scope == "group":
            query = query.where(access.open_to_group(actor))
        rows = s.execute(query.order_by(HumanTask.due_at.is_(None), HumanTask.due_at, HumanTask.created_at)).scalars()
        return {"items": [task_item(s, t) for t in rows]}


def get_task(runtime: Runtime, actor: Actor, task_id: str) -> dict[str, Any]:
    with runtime.db.transaction() as s:
        task = access.task_for(s, actor, task_id)
        item = task_item(s, task)
        item["form"] = schemas.schema(runtime.config.bpmn_dir, task.form_id)
        item["data"] = dict(task.data or {})
        item["instructions"] = ""
        if task.state == "open":
            inst = s.get(ProcessInstance, task.instance_id)
            if inst is not None:
                run = open_run(runtime, s, inst, actor)
                spiff = find_task(run.wf, task.id)
                if spiff is not None:
                    props = properties(spiff)
                    item["instructions"] = props.get("instructions", "")
                    item["data"] = _prefill(item["form"], spiff.data, props)
        return item


def _prefill(form: dict[str, Any], data: dict[str, Any], props: dict[str, str]) -> dict[str, Any]:
    """Values the form's fields already have in the case (e.g. the obligors registered with the lead), as the
    form takes them: only its fields, in its types, nothing it would refuse (``engine.forms.validation.offered``)
    — a person who sends the offer back unchanged is refused at most for what is still missing."""
    source = data.get(props["result_variable"], {}) if props.get("result_variable") else data
    if not isinstance(source, dict):
        return {}
    return offered(form, source, data)


def claim(runtime: Runtime, actor: Actor, task_id: str) -> dict[str, Any]:
    with runtime.db.transaction() as s:
        task = access.task_for(s, actor, task_id)
        access.check_can_act(actor, task)
        if task.assignee == actor.username:
            return task_item(s, task)
        task.assignee = actor.username
        audit.record(s, who=actor.username, event_name="claimed", case_id=task.case_id, task=task.bpmn_id,
                     title=f"签收：{task.title}", detail={"task_id": task.id})
        s.flush()
        return task_item(s, task)


def unclaim(runtime: Runtime, actor: Actor, task_id: str) -> dict[str, Any]:
    with runtime.db.transaction() as s:
        task = access.task_for(s, actor, task_id)
        if task.state != "open":
            raise Conflict("该任务已办结或已取消")
        if task.assignee != actor.username and not actor.has("supervisor"):
            raise Conflict("只能退回自己签收的任务")
        task.assignee = None
        audit.record(s, who=actor.username, event_name="note", case_id=task.case_id, task=task.bpmn_id,
                     title=f"退回签收：{task.title}", detail={"task_id": task.id})
        s.flush()
        return task_item(s, task)


def complete(runtime: Runtime, actor: Actor, task_id: str, data: Any) -> dict[str, Any]:
    """Validate, hand the data to the engine, run it to the next wait, and save — one transaction."""
    with runtime.db.transaction() as s:
        task = access.task_for(s, actor, task_id)
        access.check_can_act(actor, task)
        inst = s.get(ProcessInstance, task.instance_id)
        if inst is None:
            raise Conflict("流程实例不存在")
        run = open_run(runtime, s, inst, actor)
        spiff = find_task(run.wf, task.id)
        if not is_ready(spiff):
            raise Conflict("该任务已不在待办状态，请刷新")
        context = dict(spiff.data)
        schemas.check(runtime.config.bpmn_dir, task.form_id, data, context)
        check_sizes({"obligors": data.get("obligors")})
        props = properties(spiff)
        _check_guard(run, spiff, props, data)
        before = {k: spiff.data.get(k) for k in data}
        values = dict(data)
        target = props.get("result_variable")
        if target:
            values = {target: {**data, "signer": actor.display_name or actor.username,
                               "signed_on": clock.today().isoformat()}}
            before = {target: spiff.data.get(target)}
        collection = props.get("append_to")
        if collection:  # a repeatable record (e.g. payments): keep every entry, not just the last
            entries = list(spiff.data.get(collection) or []) + [dict(data)]
            values = {**values, collection: entries}
            before = {**before, collection: spiff.data.get(collection)}

        def act(_wf: Any) -> None:
            spiff.set_data(**copy.deepcopy(values))
            spiff.run()

        incident = advance(run, act)
        now = clock.now()
        task.state, task.completed_at, task.completed_by = "completed", now, actor.username
        task.data = dict(data)
        case = run.case
        if case is not None:
            if isinstance(data.get("obligors"), list):
                sync_obligors(s, case, data["obligors"])
            variables = dict(case.variables or {})
            if task.group_no is not None:
                groups = dict(variables.get("groups") or {})
                groups[str(task.group_no)] = {**groups.get(str(task.group_no), {}), **values}
                variables["groups"] = groups
            else:
                variables.update(values)
            case.variables = variables
        audit.record(s, who=actor.username, event_name="completed", case_id=task.case_id, task=task.bpmn_id,
                     title=f"办结：{task.title}",
                     detail={"task_id": task.id, "changes": audit.changed_fields(before, values),
                             "incident": incident.message if incident else None})
        s.flush()
        if case is not None:
            s.refresh(case)
            return {"case": case_view(s, actor, case), "incident": _incident_view(incident)}
        return {"case": None, "incident": _incident_view(incident)}


def _incident_view(incident: Any) -> dict[str, Any] | None:
    if incident is None:
        return None
    return {"id": incident.id, "element": incident.element_id, "message": incident.message}


def _check_guard(run: Any, spiff: Any, props: dict[str, str], data: dict[str, Any]) -> None:
    """A completion rule drawn in the diagram (``guard`` property), evaluated on the case data plus the form."""
    guard = props.get("guard")
    if not guard:
        return
    fields = schemas.schema(run.runtime.config.bpmn_dir, props.get("form", spiff.task_spec.name)).get("properties", {})
    scope = {**dict.fromkeys(fields), **spiff.data, **data}
    try:
        ok = run.script_engine.environment.evaluate(guard, scope)
    except Exception as exc:
        raise ValidationFailed(f"任务规则无法判断：{exc}", {props.get("guard_field", "data"): str(exc)}) from exc
    if not ok:
        message = props.get("guard_message") or "填写内容不符合流程规则"
        raise ValidationFailed(message, {props.get("guard_field", "data"): message})
