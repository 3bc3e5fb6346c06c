"""Load, advance and save one process instance; the inbox, timers and case status follow in the same transaction.

Engine failures (a script, a condition, a service task) never undo the person's completed work: the engine
steps run in a savepoint; when they fail, their partial effects are rolled back, the instance is saved as it
was after the person's action, and an incident names the element and the real error for a supervisor to retry.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import event, select
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
    in_tree_order,
    load_state,
    new_workflow,
    properties,
    ready_user_tasks,
    run_engine,
    saved_as,
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
    #: The spec bundle the workflow was opened on (its id and serialized specs).
    bundle: tuple[int, str] | None = None


def _script_engine(run_holder: list[Run]) -> CaseScriptEngine:
    return CaseScriptEngine(build_operators(lambda: run_holder[0]))


def _bundle_json(runtime: Runtime, session: Session, bundle_id: int) -> str:
    def load() -> str:
        bundle = session.get(SpecBundle, bundle_id)
        if bundle is None:
            raise NotFound("流程版本不存在")
        return bundle.spec_json

    return runtime.bundle_specs(bundle_id, load)


# ---------------------------------------------------------------------------------------------------------------
# Loaded instances kept between transactions
#
# Loading a case's workflow rebuilds every task of every obligor group's subprocesses: the cost grows with the
# number of groups although a step touches one. After a commit the workflow object is therefore kept (per process,
# a few instances); the next use case on the instance takes it instead of loading the state again — only when the
# stored state is still exactly the text this object was saved as (any other writer, another process or a rolled
# back transaction makes it differ) and the object did not change since. A taken object belongs to that use case
# alone; it comes back after its transaction commits.
# ---------------------------------------------------------------------------------------------------------------

#: At most this many instances are kept, and at most this many tasks in all (a case of 50 obligor groups holds
#: about 3,500 tasks, some 45 MB): the least recently used go first.
KEPT_INSTANCES = 32
KEPT_TASKS = 12_000


@dataclass
class _Kept:
    state: str
    bundle_id: int
    bundle: str
    wf: BpmnWorkflow
    tasks: int = 0


class _KeptWorkflows:
    def __init__(self, size: int, tasks: int) -> None:
        self.size, self.tasks = size, tasks
        self.entries: OrderedDict[tuple[str, int], _Kept] = OrderedDict()
        self.lock = threading.Lock()

    def take(self, key: tuple[str, int], state: str, bundle_id: int, bundle: str) -> BpmnWorkflow | None:
        with self.lock:
            kept = self.entries.pop(key, None)
        if kept is None or kept.bundle_id != bundle_id or not (kept.bundle is bundle or kept.bundle == bundle):
            return None
        if not (kept.state is state or kept.state == state):
            return None
        return kept.wf

    def put(self, key: tuple[str, int], kept: _Kept) -> None:
        kept.tasks = len(kept.wf.tasks) + sum(len(sp.tasks) for sp in kept.wf.subprocesses.values())
        if kept.tasks > self.tasks:
            return
        with self.lock:
            self.entries.pop(key, None)
            self.entries[key] = kept
            while len(self.entries) > self.size or sum(k.tasks for k in self.entries.values()) > self.tasks:
                self.entries.popitem(last=False)


_KEPT = _KeptWorkflows(KEPT_INSTANCES, KEPT_TASKS)
_RUNS = "eco_process_runs"  # session.info: the runs opened in the session's transaction


def _key(runtime: Runtime, instance_id: int) -> tuple[str, int]:
    return runtime.config.database_url, instance_id


def _watch(run: Run) -> None:
    """Keep the run's workflow for the next transaction once this one commits."""
    runs: list[Run] | None = run.session.info.get(_RUNS)
    if runs is None:
        runs = run.session.info[_RUNS] = []
        event.listen(run.session, "after_commit", _after_commit)
    runs.append(run)


def _after_commit(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint, not the transaction
    runs: list[Run] = session.info.pop(_RUNS, None) or []
    kept: set[int] = set()
    for run in reversed(runs):  # an instance opened twice: the later run is likelier to hold what was saved
        inst = run.instance
        if inst.id in kept:
            continue
        state = inst.__dict__.get("state")  # what was committed (never a lazy load after the commit)
        if run.bundle is None or run.bundle[0] != inst.__dict__.get("bundle_id"):
            continue  # moved to another version in this transaction: loaded afresh next time
        if not isinstance(state, str) or not saved_as(run.wf, state):
            continue
        kept.add(inst.id)
        run.wf.script_engine = None  # let go of this transaction's session; the next run sets its own
        _KEPT.put(_key(run.runtime, inst.id), _Kept(state, run.bundle[0], run.bundle[1], run.wf))


def open_run(runtime: Runtime, session: Session, instance: ProcessInstance, actor: Actor) -> Run:
    holder: list[Run] = []
    script_engine = _script_engine(holder)
    bundle = _bundle_json(runtime, session, instance.bundle_id)
    wf = _KEPT.take(_key(runtime, instance.id), instance.state, instance.bundle_id, bundle)
    if wf is None:
        wf = load_state(instance.state, bundle, script_engine)
    else:
        wf.script_engine = script_engine
    case = session.get(Case, instance.case_id) if instance.case_id is not None else None
    run = Run(runtime, session, actor, instance, case, wf, script_engine, (instance.bundle_id, bundle))
    holder.append(run)
    _watch(run)
    return run


def start_instance(runtime: Runtime, session: Session, process_id: str, actor: Actor, data: dict[str, Any],
                   case: Case | None = None, department: str | None = None) -> Run:
    bundle = bundle_for(session, process_id)
    holder: list[Run] = []
    script_engine = _script_engine(holder)
    bundle_text = _bundle_json(runtime, session, bundle.id)
    loaded = new_workflow(bundle_text, script_engine)
    now = clock.now()
    instance = ProcessInstance(case_id=case.id if case else None, department_id=department, process_id=process_id,
                               bundle_id=bundle.id, state="", created_at=now, updated_at=now)
    session.add(instance)
    session.flush()
    run = Run(runtime, session, actor, instance, case, loaded, script_engine, (bundle.id, bundle_text))
    holder.append(run)
    start = loaded.get_tasks(state=TaskState.READY)[0]
    start.data.update(data)
    advance(run, lambda wf: None)
    _watch(run)
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
    ready = {str(t.id): t for t in ready_user_tasks(wf, ordered=False)}
    open_ids = set(s.execute(select(HumanTask.id).where(
        HumanTask.instance_id == inst.id, HumanTask.state == "open")).scalars())
    for task_id in open_ids - ready.keys():
        row = s.get(HumanTask, task_id)
        if row is not None:
            row.state = "cancelled"
    for task in in_tree_order(wf, [t for task_id, t in ready.items() if task_id not in open_ids]):
        task_id = str(task.id)
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
    current: dict[str, datetime] = {}
    for key, registered_due in s.execute(select(WaitingTimer.id, WaitingTimer.due_at).where(
            WaitingTimer.instance_id == run.instance.id)):
        current[key] = registered_due
    seen = set()
    timers = waiting_timers(run.wf, ordered=False)
    if sum(str(task.id) not in current for task, _ in timers) > 1:  # new rows are written in the tree's order
        order = {task.id: n for n, task in enumerate(in_tree_order(run.wf, [task for task, _ in timers]))}
        timers.sort(key=lambda pair: order.get(pair[0].id, len(order)))
    for task, due in timers:
        key = str(task.id)
        seen.add(key)
        due_at = _parse_due(due)
        if due_at is None:
            continue
        if key not in current:
            s.add(WaitingTimer(id=key, instance_id=run.instance.id, case_id=run.instance.case_id,
                               bpmn_id=task.task_spec.name, due_at=due_at, registered_at=clock.real_now()))
        elif current[key] != due_at:
            row = s.get(WaitingTimer, key)
            if row is not None and row.due_at != due_at:
                row.due_at, row.registered_at = due_at, clock.real_now()
    for key in current.keys() - seen:
        row = s.get(WaitingTimer, key)
        if row is not None:
            s.delete(row)


def _parse_due(value: str) -> datetime | None:
    # A recurring interval without a start is counted from now; any other text always means the same moment.
    return _parse_due_text(value) if value.upper().startswith("R") else _parse_fixed_due(value)


@lru_cache(maxsize=4096)
def _parse_fixed_due(value: str) -> datetime | None:
    return _parse_due_text(value)


def _parse_due_text(value: str) -> datetime | None:
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
    by_group: dict[int | None, list[str]] = {}
    for group_no, stage in s.execute(select(HumanTask.group_no, HumanTask.stage).where(
            HumanTask.instance_id == run.instance.id, HumanTask.state == "open", HumanTask.group_no.is_not(None))):
        by_group.setdefault(group_no, []).append(stage)
    for group_no, stage in s.execute(select(ObligorGroup.group_no, ObligorGroup.stage).where(
            ObligorGroup.case_id == case.id)).all():
        furthest = _furthest(stage, by_group.get(group_no, []))
        if furthest != stage:
            group = s.get(ObligorGroup, (case.id, group_no))
            if group is not None:
                group.stage = furthest
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
