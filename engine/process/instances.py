"""Load, advance and save one process instance; the inbox, timers and case status follow in the same transaction.

Engine failures (a script, a condition, a service task) never undo the person's completed work: the engine
steps run in a savepoint; when they fail, their partial effects are rolled back, the instance is saved as it
was after the person's action, and an incident names the element and the real error for a supervisor to retry.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.calendar.deadlines import any_overdue
from engine.common import clock
from engine.common.actor import Actor
from engine.common.contract import CASE_PROCESS, STAGES, group_of
from engine.common.errors import NotFound
from engine.process.deploy import bundle_for
from engine.process.operators import build_operators
from engine.process.workflow import (
    CaseScriptEngine,
    describe,
    dump_state,
    element_of,
    end_event_properties,
    load_state,
    new_workflow,
    properties,
    ready_user_tasks,
    run_engine,
    waiting_timers,
)
from engine.store import audit
from engine.store.models import (
    Case,
    HumanTask,
    Incident,
    Notification,
    ObligorGroup,
    ProcessInstance,
    SpecBundle,
    WaitingTimer,
)
from engine.store.runtime import Runtime


@dataclass
class Run:
    """One use case's hold on one instance."""

    runtime: Runtime
    session: Session
    actor: Actor
    instance: ProcessInstance
    case: Case | None
    wf: BpmnWorkflow
    script_engine: CaseScriptEngine


def _script_engine(run_holder: list[Run]) -> CaseScriptEngine:
    return CaseScriptEngine(build_operators(lambda: run_holder[0]))


def _bundle_json(runtime: Runtime, session: Session, bundle_id: int) -> str:
    def load() -> str:
        bundle = session.get(SpecBundle, bundle_id)
        if bundle is None:
            raise NotFound("流程版本不存在")
        return bundle.spec_json

    return runtime.bundle_specs(bundle_id, load)


def open_run(runtime: Runtime, session: Session, instance: ProcessInstance, actor: Actor) -> Run:
    holder: list[Run] = []
    script_engine = _script_engine(holder)
    wf = load_state(instance.state, _bundle_json(runtime, session, instance.bundle_id), script_engine)
    case = session.get(Case, instance.case_id) if instance.case_id is not None else None
    run = Run(runtime, session, actor, instance, case, wf, script_engine)
    holder.append(run)
    return run


def start_instance(runtime: Runtime, session: Session, process_id: str, actor: Actor, data: dict[str, Any],
                   case: Case | None = None, department: str | None = None) -> Run:
    bundle = bundle_for(session, process_id)
    holder: list[Run] = []
    script_engine = _script_engine(holder)
    loaded = new_workflow(_bundle_json(runtime, session, bundle.id), script_engine)
    now = clock.now()
    instance = ProcessInstance(case_id=case.id if case else None, department_id=department, process_id=process_id,
                               bundle_id=bundle.id, state="", created_at=now, updated_at=now)
    session.add(instance)
    session.flush()
    run = Run(runtime, session, actor, instance, case, loaded, script_engine)
    holder.append(run)
    start = loaded.get_tasks(state=TaskState.READY)[0]
    start.data.update(data)
    advance(run, lambda wf: None)
    return run


def advance(run: Run, action: Callable[[BpmnWorkflow], None], fire_timers: bool = False) -> Incident | None:
    """Apply the person's (or the clock's) action, run the engine, project, save — failures become incidents."""
    action(run.wf)
    checkpoint = dump_state(run.wf)
    savepoint = run.session.begin_nested()
    incident: Incident | None = None
    try:
        if fire_timers:
            run.wf.refresh_timers()
        run_engine(run.wf)
        savepoint.commit()
    except Exception as exc:  # any engine failure: keep the person's work, report where and why
        savepoint.rollback()
        run.wf = load_state(checkpoint, _bundle_json(run.runtime, run.session, run.instance.bundle_id),
                            run.script_engine)
        incident = Incident(instance_id=run.instance.id, case_id=run.instance.case_id, element_id=element_of(exc),
                            message=describe(exc), detail=_technical_detail(exc), created_at=clock.now())
        run.session.add(incident)
        run.session.flush()
        audit.record(run.session, who=run.actor.username, event_name="incident", case_id=run.instance.case_id,
                     task=incident.element_id, title=f"流程异常：{incident.element_id}",
                     detail={"message": incident.message})
    project(run)
    return incident


def _technical_detail(exc: BaseException) -> str:
    """What a supervisor needs to find the cause: each exception of the chain with its type (the sandbox's own
    detail where there is one); the person who acted sees only :func:`describe`'s short message."""
    parts: list[str] = []
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen and len(parts) < 8:
        seen.add(id(current))
        detail = getattr(current, "detail", None)
        parts.append(f"{type(current).__name__}: {detail or current}")
        inner = getattr(current, "exception", None)
        current = current.__cause__ or (inner if isinstance(inner, BaseException) else None)
    return " ← ".join(parts)[:4000]


def project(run: Run) -> None:
    """Bring the inbox, the waiting timers, the case's stage and status in line with the workflow; save it."""
    s, inst, wf = run.session, run.instance, run.wf
    now = clock.now()
    ready = {str(t.id): t for t in ready_user_tasks(wf)}
    open_rows = {r.id: r for r in s.execute(select(HumanTask).where(
        HumanTask.instance_id == inst.id, HumanTask.state == "open")).scalars()}
    for task_id, row in open_rows.items():
        if task_id not in ready:
            row.state = "cancelled"
    for task_id, task in ready.items():
        if task_id in open_rows:
            continue
        if s.get(HumanTask, task_id) is not None:
            continue
        props = properties(task)
        role = props.get("role", "officer")
        due_var = props.get("due")
        due_at = None
        if due_var and isinstance(task.data.get(due_var), dict) and task.data[due_var].get("expires_at"):
            due_at = datetime.fromisoformat(str(task.data[due_var]["expires_at"]))
        department = None if role == "supervisor" else (run.case.department_id if run.case else inst.department_id)
        title = str(task.task_spec.bpmn_name or task.task_spec.name)
        s.add(HumanTask(
            id=task_id, instance_id=inst.id, case_id=inst.case_id, bpmn_id=task.task_spec.name,
            process_id=task.workflow.spec.name, title=title, form_id=props.get("form", task.task_spec.name),
            stage=props.get("stage", ""), candidate_role=role, department_id=department,
            group_no=group_of(task.data),
            state="open", created_at=now, due_at=due_at))
        audit.record(s, who=run.actor.username, event_name="created", case_id=inst.case_id,
                     task=task.task_spec.name, title=f"待办：{title}",
                     detail={"task_id": task_id, "role": role, "department": department})
        if props.get("notify"):  # the diagram asks that this task's appearance be announced (e.g. an escalation)
            case_name = (run.case.number or run.case.title) if run.case else ""
            s.add(Notification(role=role, department_id=department, at=now, kind=props["notify"],
                               case_id=inst.case_id, task_id=task_id, text=f"{title}：{case_name}"))
    s.flush()
    _project_timers(run)
    _project_case(run)
    inst.state = dump_state(wf)
    inst.updated_at = now
    if wf.is_completed():
        inst.status = "completed"
        inst.end_event = end_event_properties(wf).get("case_status")
    elif s.execute(select(Incident.id).where(Incident.instance_id == inst.id,
                                             Incident.resolved_at.is_(None)).limit(1)).first():
        inst.status = "incident"
    else:
        inst.status = "running"
    s.flush()


def _project_timers(run: Run) -> None:
    s = run.session
    current = {r.id: r for r in s.execute(select(WaitingTimer).where(
        WaitingTimer.instance_id == run.instance.id)).scalars()}
    seen = set()
    for task, due in waiting_timers(run.wf):
        key = str(task.id)
        seen.add(key)
        due_at = _parse_due(due)
        if due_at is None:
            continue
        row = current.get(key)
        if row is None:
            s.add(WaitingTimer(id=key, instance_id=run.instance.id, case_id=run.instance.case_id,
                               bpmn_id=task.task_spec.name, due_at=due_at, registered_at=clock.real_now()))
        elif row.due_at != due_at:
            row.due_at, row.registered_at = due_at, clock.real_now()
    for key, row in current.items():
        if key not in seen:
            s.delete(row)


def _parse_due(value: str) -> datetime | None:
    try:
        parsed = TimerEventDefinition.parse_time_or_duration(value)
    except Exception:
        return None
    if isinstance(parsed, datetime):
        return parsed
    try:
        _, start, _ = TimerEventDefinition.parse_iso_recurring_interval(value)
        return start if isinstance(start, datetime) else None
    except Exception:
        return None


def _project_case(run: Run) -> None:
    case = run.case
    if case is None or run.instance.process_id != CASE_PROCESS:
        return
    s = run.session
    stages = [r for (r,) in s.execute(select(HumanTask.stage).where(
        HumanTask.instance_id == run.instance.id, HumanTask.state == "open"))]
    # A case only moves forward: while it waits on an engine step (or an incident) its open tasks may all be
    # earlier side tasks, which must not pull the stage back.
    case.stage = _furthest(case.stage, stages)
    for group in s.execute(select(ObligorGroup).where(ObligorGroup.case_id == case.id)).scalars():
        group_stages = [st for (st,) in s.execute(select(HumanTask.stage).where(
            HumanTask.instance_id == run.instance.id, HumanTask.state == "open",
            HumanTask.group_no == group.group_no))]
        group.stage = _furthest(group.stage, group_stages)
    if run.wf.is_completed():
        status = end_event_properties(run.wf).get("case_status")
        if status and case.status != status:
            case.status = status
            case.closed_at = clock.now()
            audit.record(s, who=run.actor.username, event_name="note", case_id=case.id, title=f"案件结束：{status}",
                         detail={"status": status})
    case.overdue = any_overdue(s, case.id)


def _furthest(current: str, stages: list[str]) -> str:
    known = [st for st in stages if st in STAGES]
    if not known:
        return current
    furthest = max(known, key=STAGES.index)
    if current in STAGES and STAGES.index(current) > STAGES.index(furthest):
        return current
    return furthest


def find_task(wf: BpmnWorkflow, task_id: str) -> Any:
    try:
        return wf.get_task_from_id(UUID(task_id))
    except Exception:
        return None
