"""Replay: re-run recorded cases on a changed diagram, entirely in memory, to see where they would go otherwise.

A case's history is what the database already keeps (read, never written):

* the start data of its process (the root task's data in the stored instance state: exactly what the lead's
  registration started it with);
* every task completion, with the data the person submitted (``HumanTask.data``), who did it and when; the order is
  the audit chain's (``completed`` rows — the chain is strictly ordered, where completion times can tie under the
  simulated clock); a task sent back by an incident repair and completed again counts once, with its last data;
* every message (``message`` audit rows: name, payload with its ``group``) and every timer that fired (``timer``
  audit rows, at the moment it fired).

:func:`replay_case` builds a fresh workflow from the *candidate* specs (parsed once per replay and shared by every
case: :class:`Candidate`), pins the clock to each recorded moment in turn and applies the same events the way the
services did (``tasks.complete``: form, guard, ``result_variable``, ``append_to``; ``messages.deliver``; the
timers). It never loads the case's own instance and holds no session: nothing it does can reach the case's rows.

**Side effects.** Service tasks call operators; the real ones write (deadline rows, case numbers, documents,
notifications, obligor groups). A replay uses :func:`replay_operators` instead: a registry with the same names
whose operators keep what they would have written in a :class:`ReplayFacts` of the one replayed case and return
what the real ones return — deadlines are computed with the same legal calendar (so timers fall due at the same
moments), documents are counted, not rendered, the case keeps its number. A test holds the two registries to the
same names.

**The clock.** SpiffWorkflow reads "now" in its timer module (routed to the engine's clock by ``spiff_clock``);
a replay must not move the engine's clock (the service keeps running), so :func:`pinned_now` sets a context-local
moment that only the current thread's timers see (:func:`_install_pinned_now` wraps the timer module's ``datetime``
once; with nothing pinned it defers to the engine's clock as before).

**The report** (:class:`CaseResult`): identical, or the divergences in order, each with the recorded step where it
showed, the element and a sentence: a task the case completed is not offered at that point (``not_offered``), the
form or a guard now refuses the recorded data (``form_refuses``, ``guard_refuses``), the engine fails
(``incident``), a message finds nothing waiting (``message_not_awaited``), a recorded timer is not waiting or falls
due at another time (``timer_missing``, ``timer_moved``), a task appears that the case never had (``new_task``),
a task the case has open is missing (``task_missing``), or the case ends differently (``different_end``). The first
blocking divergence ends the replay of that case: past it the recorded history no longer applies.
"""

from __future__ import annotations

import copy
import json
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, tzinfo
from pathlib import Path
from typing import Any, NoReturn

from SpiffWorkflow.bpmn.specs.event_definitions import timer as spiff_timer
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.calendar.holidays import day_table
from engine.calendar.legal_calendar import DayTable, DueDate, compute_due, expires_at
from engine.common import clock
from engine.common.contract import CASE_PROCESS, COURT_NOTICE_PROCESS, MESSAGES, group_of
from engine.common.dates import as_date
from engine.common.errors import ValidationFailed
from engine.documents.render import FORMS
from engine.forms import schemas
from engine.forms.validation import validate_form
from engine.process.messaging import aim_at_group, message_event, send
from engine.process.operators import next_cycle_moment
from engine.process.workflow import (
    CaseScriptEngine,
    Operator,
    OperatorError,
    Parser,
    describe,
    element_of,
    end_event_properties,
    properties,
    ready_user_tasks,
    run_engine,
    waiting_timers,
)
from engine.store.models import AuditEvent, Case, HumanTask, Incident, ProcessInstance, ProcessVersion, User

#: Divergences after which the recorded history no longer applies (the replay of the case stops there).
BLOCKING = frozenset({"not_offered", "form_refuses", "guard_refuses", "incident", "message_not_awaited"})
#: The audit events a replay reads, besides the completed tasks' rows.
REPLAYED_EVENTS = ("completed", "message", "timer")

# ---------------------------------------------------------------------------------------------------------------
# The pinned clock
# ---------------------------------------------------------------------------------------------------------------

_PINNED: ContextVar[datetime | None] = ContextVar("replay_pinned_now", default=None)


def _install_pinned_now() -> None:
    """Wrap SpiffWorkflow's timer ``datetime`` once so that a moment pinned in this context wins over the clock."""
    base: Any = spiff_timer.datetime
    if getattr(base, "replay_aware", False):
        return

    class PinnedDatetime(base):  # type: ignore[misc]
        replay_aware = True

        @classmethod
        def now(cls, tz: tzinfo | None = None) -> Any:
            pinned = _PINNED.get()
            if pinned is None:
                return super().now(tz)
            if tz is not None:
                return cls.fromtimestamp(pinned.timestamp(), tz)
            local = pinned.astimezone(clock.LOCAL_TZ).replace(tzinfo=None)
            return cls(local.year, local.month, local.day, local.hour, local.minute, local.second, local.microsecond)

    spiff_timer.datetime = PinnedDatetime


_install_pinned_now()


@contextmanager
def pinned_now(moment: datetime) -> Iterator[None]:
    """SpiffWorkflow's timers see ``moment`` as now, in this thread only, until the block ends."""
    _install_pinned_now()  # in case something re-installed the timer module's clock since import
    token = _PINNED.set(moment)
    try:
        yield
    finally:
        _PINNED.reset(token)


# ---------------------------------------------------------------------------------------------------------------
# The candidate: parsed once, shared by every replayed case
# ---------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Candidate:
    """The specs cases are replayed on (the changed files over the latest deployed versions), parsed once."""

    specs: dict[str, tuple[Any, dict[str, Any]]]
    bpmn_dir: Path
    table: DayTable
    texts: dict[str, str]


def latest_texts(session: Session) -> dict[str, str]:
    """Process id → diagram text of the latest deployed version of every process."""
    texts: dict[str, tuple[int, str]] = {}
    for pid, number, xml in session.execute(select(ProcessVersion.process_id, ProcessVersion.version,
                                                   ProcessVersion.xml)):
        if pid not in texts or texts[pid][0] < number:
            texts[pid] = (int(number), str(xml))
    return {pid: xml for pid, (_, xml) in texts.items()}


def candidate(session: Session, files: dict[str, str], bpmn_dir: Path) -> Candidate:
    """Parse the candidate once: ``files`` (process id → changed diagram) over the latest deployed versions. The
    processes a case runs (the case process and the court-notice process its messages start) get their specs."""
    texts = latest_texts(session)
    texts.update(files)
    parser = Parser()
    for pid, text in texts.items():
        parser.add_bpmn_xml_text(text, f"{pid}.bpmn")
    specs = {pid: (parser.get_spec(pid), parser.get_subprocess_specs(pid))
             for pid in (CASE_PROCESS, COURT_NOTICE_PROCESS) if pid in texts}
    return Candidate(specs=specs, bpmn_dir=Path(bpmn_dir), table=day_table(session), texts=texts)


# ---------------------------------------------------------------------------------------------------------------
# The recorded history
# ---------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    """One recorded event: a task completion (``complete``), a message (``message``) or a timer (``timer``)."""

    kind: str
    at: datetime
    element: str
    process: str = ""
    instance: int | None = None
    group: int | None = None
    data: dict[str, Any] = field(default_factory=dict)
    signer: str = ""
    title: str = ""

    def describe(self) -> str:
        """The recorded event in words (where a divergence showed)."""
        group = _group_suffix(self.group)
        if self.kind == "complete":
            return f"办结“{self.title or self.element}”{group}"
        if self.kind == "message":
            return f"收到消息“{self.element}”{group}"
        return f"定时事件“{self.element}”到期"


@dataclass(frozen=True)
class History:
    """What a case went through, read from its rows; the replay needs nothing else."""

    case_id: int
    title: str
    number: str | None
    status: str
    started_at: datetime
    start: dict[str, Any]
    steps: list[Step]
    offered: dict[tuple[str, int | None], int]
    open_tasks: list[tuple[str, int | None]]
    main_instance: int
    court_instances: list[int]
    incidents: frozenset[str]
    titles: dict[str, str] = field(default_factory=dict)


def load_histories(session: Session, case_ids: Sequence[int]) -> list[History]:
    """The histories of ``case_ids`` (cases without a case process are left out), with a few queries for all of
    them. Reads only."""
    ids = list(case_ids)
    if not ids:
        return []
    cases = {c.id: c for c in session.execute(select(Case).where(Case.id.in_(ids))).scalars()}
    instances: dict[int, list[ProcessInstance]] = {}
    for inst in session.execute(select(ProcessInstance).where(ProcessInstance.case_id.in_(ids))
                                .order_by(ProcessInstance.id)).scalars():
        instances.setdefault(int(inst.case_id or 0), []).append(inst)
    process_of = {inst.id: inst.process_id for found in instances.values() for inst in found}
    tasks: dict[str, HumanTask] = {}
    by_case: dict[int, list[HumanTask]] = {}
    for row in session.execute(select(HumanTask).where(HumanTask.case_id.in_(ids))).scalars():
        tasks[row.id] = row
        by_case.setdefault(int(row.case_id or 0), []).append(row)
    names = {u: (d or u) for u, d in session.execute(select(User.username, User.display_name))}
    incidents: dict[int, set[str]] = {}
    for case_id, element in session.execute(select(Incident.case_id, Incident.element_id)
                                            .where(Incident.case_id.in_(ids))):
        incidents.setdefault(int(case_id or 0), set()).add(str(element))
    events: dict[int, list[tuple[int, str, str | None, dict[str, Any], datetime]]] = {}
    for row_id, case_id, event, task, detail, at in session.execute(
            select(AuditEvent.id, AuditEvent.case_id, AuditEvent.event, AuditEvent.task, AuditEvent.detail,
                   AuditEvent.at)
            .where(AuditEvent.case_id.in_(ids), AuditEvent.event.in_(REPLAYED_EVENTS)).order_by(AuditEvent.id)):
        events.setdefault(int(case_id), []).append((int(row_id), str(event), task, dict(detail or {}), at))
    out: list[History] = []
    for case_id in ids:
        case = cases.get(case_id)
        main = [i for i in instances.get(case_id, []) if i.process_id == CASE_PROCESS]
        if case is None or not main:
            continue
        recorded = events.get(case_id, [])
        last_completion = {str(d.get("task_id")): row_id for row_id, ev, _t, d, _at in recorded if ev == "completed"}
        steps: list[Step] = []
        for row_id, event, task_name, detail, at in recorded:
            if event == "completed":
                done = tasks.get(str(detail.get("task_id")))
                if done is None or done.state != "completed" or last_completion.get(done.id) != row_id:
                    continue
                steps.append(Step("complete", done.completed_at or at, done.bpmn_id,
                                  process_of.get(done.instance_id, ""), done.instance_id, done.group_no,
                                  dict(done.data or {}), names.get(done.completed_by or "", done.completed_by or ""),
                                  done.title))
            elif event == "message":
                payload = detail.get("payload")
                if task_name and isinstance(payload, dict):
                    group = payload.get("group")
                    steps.append(Step("message", at, task_name, data=dict(payload),
                                      group=int(group) if isinstance(group, int) else None))
            elif event == "timer" and task_name:
                steps.append(Step("timer", at, task_name, data={"due_at": detail.get("due_at")}))
        rows = by_case.get(case_id, [])
        out.append(History(
            case_id=case.id, title=case.title, number=case.number, status=case.status,
            started_at=main[0].created_at, start=start_data(main[0].state), steps=steps,
            offered=dict(Counter((r.bpmn_id, r.group_no) for r in rows)),
            open_tasks=sorted(((r.bpmn_id, r.group_no) for r in rows if r.state == "open"), key=_task_key),
            main_instance=main[0].id,
            court_instances=[i.id for i in instances.get(case_id, []) if i.process_id == COURT_NOTICE_PROCESS],
            incidents=frozenset(incidents.get(case_id, set())), titles={r.bpmn_id: r.title for r in rows}))
    return out


def start_data(state: str) -> dict[str, Any]:
    """The data an instance was started with: its root task's data in the stored state."""
    full = json.loads(state)
    root = full.get("tasks", {}).get(full.get("root"), {})
    data = root.get("data") or {}
    return dict(data) if isinstance(data, dict) else {}


def _task_key(item: tuple[str, int | None]) -> tuple[str, int]:
    return item[0], -1 if item[1] is None else item[1]


# ---------------------------------------------------------------------------------------------------------------
# Stand-in operators
# ---------------------------------------------------------------------------------------------------------------


@dataclass
class _Period:
    label: str
    due: DueDate
    state: str = "running"
    paused_since: date | None = None

    def view(self) -> dict[str, Any]:
        return {"name": self.due.name, "label": self.label, "due_on": self.due.due_on.isoformat(),
                "expires_at": expires_at(self.due).isoformat(), "basis": self.due.basis,
                "paused_days": self.due.paused_days, "state": self.state, "provisional": self.due.provisional}


@dataclass
class ReplayFacts:
    """What the stand-in operators read and keep for one replayed case (the real operators' rows, in memory)."""

    case_id: int
    number: str | None
    table: DayTable
    now: datetime
    periods: dict[tuple[int | None, str], _Period] = field(default_factory=dict)
    groups: dict[int, dict[str, Any]] = field(default_factory=dict)
    documents: Counter[int] = field(default_factory=Counter)

    def today(self) -> date:
        return self.now.astimezone(clock.LOCAL_TZ).date()


def _date(value: Any, what: str) -> date:
    try:
        return as_date(value)
    except ValueError as exc:
        raise OperatorError(f"{what}不是有效日期：{value!r}") from exc


def replay_operators(facts: ReplayFacts) -> dict[str, Operator]:
    """The operator registry of a replay: the names of ``operators.build_operators``, no writes (see the module)."""

    def compute_deadline(task: Task, p: dict[str, Any]) -> Any:
        try:
            due = compute_due(p["name"], p["event"], _date(p["start"], p["label"]), int(p["length"]), facts.table,
                              unit="working" if p.get("unit", "calendar") == "working" else "calendar")
        except ValueError as exc:
            raise OperatorError(str(exc)) from exc
        period = facts.periods[(group_of(task.data), p["name"])] = _Period(p["label"], due)
        return period.view()

    def fixed_deadline(task: Task, p: dict[str, Any]) -> Any:
        day = _date(p["due_on"], p["label"])
        due = DueDate(name=p["name"], due_on=day, start_event=p["event"], start_on=day, length=0, unit="calendar",
                      paused_days=0, rolled_from=None, provisional=False, basis=f"{p['event']}：{day.isoformat()}")
        period = facts.periods[(group_of(task.data), p["name"])] = _Period(p["label"], due)
        return period.view()

    def period_of(task: Task, name: str, what: str) -> _Period:
        period = facts.periods.get((group_of(task.data), name))
        if period is None:
            raise OperatorError(f"期限 {name} 不存在，无法{what}")
        return period

    def pause_deadline(task: Task, p: dict[str, Any]) -> Any:
        period = period_of(task, p["name"], "暂停")
        if period.paused_since is None:
            period.paused_since, period.state = facts.today(), "paused"
        return period.view()

    def resume_deadline(task: Task, p: dict[str, Any]) -> Any:
        period = period_of(task, p["name"], "恢复")
        if period.paused_since is not None:
            due = period.due
            total = due.paused_days + (facts.today() - period.paused_since).days
            try:
                period.due = compute_due(due.name, due.start_event, due.start_on, due.length, facts.table,
                                         unit=due.unit, paused_days=total, pause_reason="鉴定评估")
            except ValueError as exc:
                raise OperatorError(str(exc)) from exc
            period.paused_since, period.state = None, "running"
        return period.view()

    def close_deadline(task: Task, p: dict[str, Any]) -> Any:
        names = p["name"] if isinstance(p["name"], list) else [p["name"]]
        views = []
        for name in names:
            period = facts.periods.get((group_of(task.data), str(name)))
            if period is None:
                views.append({"name": str(name), "state": "none"})
                continue
            if period.state in ("running", "paused"):
                period.state = "met" if facts.today() <= period.due.due_on else "lapsed"
            views.append(period.view())
        return views[0]

    def assign_case_number(task: Task, p: dict[str, Any]) -> Any:
        return facts.number or f"（回放）{facts.case_id}"

    def render_document(task: Task, p: dict[str, Any]) -> Any:
        form = int(p["form"])
        if form not in FORMS:
            raise OperatorError(f"没有第{form}号文书（应为 1–7）")
        facts.documents[form] += 1
        return {"id": 0, "version": facts.documents[form], "form": form}

    def notify(task: Task, p: dict[str, Any]) -> Any:
        str(p["text"])  # a missing text fails here, as in the real operator
        return {"notified": p["role"], "at": facts.now.isoformat()}

    def form_obligor_groups(task: Task, p: dict[str, Any]) -> Any:
        groups: dict[int, list[str]] = {}
        for item in task.data.get("obligors") or []:
            if isinstance(item, dict) and not item.get("released"):
                groups.setdefault(int(item.get("group") or 1), []).append(str(item.get("name")))
        if not groups:
            raise OperatorError("案件没有未免除责任的赔偿义务人，无法开展磋商")
        for no in groups:
            facts.groups.setdefault(no, {"outcome": None, "failure_reason": None})
        return [{"id": no, "obligors": names} for no, names in sorted(groups.items())]

    def update_group(task: Task, p: dict[str, Any]) -> Any:
        no = group_of(task.data)
        if no is None:
            raise OperatorError("update_group 只能在赔偿义务人组内使用")
        row = facts.groups.setdefault(no, {"outcome": None, "failure_reason": None})
        for key in ("outcome", "failure_reason"):
            if key in p:
                row[key] = p[key]
        return {"group": no, "outcome": row["outcome"], "failure_reason": row["failure_reason"]}

    def next_cycle(task: Task, p: dict[str, Any]) -> Any:
        return next_cycle_moment(facts.today(), str(p.get("every", "P1M")), int(p.get("day", 1)),
                                 str(p.get("at", "09:00"))).isoformat()

    def pending_leads(task: Task, p: dict[str, Any]) -> Any:
        return []  # the periodic screening is not a case's process; nothing to list in a case's replay

    return {
        "compute_deadline": compute_deadline, "fixed_deadline": fixed_deadline, "pause_deadline": pause_deadline,
        "resume_deadline": resume_deadline, "close_deadline": close_deadline,
        "assign_case_number": assign_case_number, "render_document": render_document, "notify": notify,
        "form_obligor_groups": form_obligor_groups, "update_group": update_group, "next_cycle": next_cycle,
        "pending_leads": pending_leads,
    }


# ---------------------------------------------------------------------------------------------------------------
# Replaying one case
# ---------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Divergence:
    """Where and how a replay left the recorded history: ``step`` is the 1-based index of the recorded event it
    showed at (``event`` says which, ``at`` when; None for the comparison at the end), ``offered`` the user tasks the
    replay had open at that point."""

    kind: str
    element: str
    message: str
    step: int | None = None
    event: str = ""
    at: str | None = None
    process: str = ""
    group: int | None = None
    offered: list[str] = field(default_factory=list)


@dataclass
class CaseResult:
    case_id: int
    title: str
    number: str | None
    status: str
    steps: int
    replayed: int = 0
    divergences: list[Divergence] = field(default_factory=list)

    @property
    def identical(self) -> bool:
        return not self.divergences

    def as_dict(self) -> dict[str, Any]:
        return {"case_id": self.case_id, "title": self.title, "number": self.number, "status": self.status,
                "identical": self.identical, "steps": self.steps, "replayed": self.replayed,
                "divergences": [asdict(d) for d in self.divergences]}


class _Stop(Exception):
    """A blocking divergence: the rest of the history does not apply."""


def values_for_completion(props: dict[str, str], data: dict[str, Any], task_data: dict[str, Any], signer: str,
                          today: date) -> dict[str, Any]:
    """What a completion puts into the task data (as ``tasks.complete`` does): the form's fields, or, with
    ``result_variable``, the form under that name with the signer and the day; ``append_to`` also appends it."""
    values = dict(data)
    target = props.get("result_variable")
    if target:
        values = {target: {**data, "signer": signer, "signed_on": today.isoformat()}}
    collection = props.get("append_to")
    if collection:
        values = {**values, collection: list(task_data.get(collection) or []) + [dict(data)]}
    return values


class _CaseReplay:
    def __init__(self, cand: Candidate, history: History, until: datetime) -> None:
        self.cand, self.history, self.until = cand, history, until
        self.facts = ReplayFacts(history.case_id, history.number, cand.table, history.started_at)
        self.engine = CaseScriptEngine(replay_operators(self.facts))
        self.workflows: list[BpmnWorkflow] = []
        self.by_instance: dict[int, BpmnWorkflow] = {}
        self.court_left = list(history.court_instances)
        self.seen: set[Any] = set()
        self.offered: Counter[tuple[str, int | None]] = Counter()
        self.reported_new: set[tuple[str, int | None]] = set()
        self.fired: Counter[str] = Counter()  # timers the replay fired and no recorded timer step has claimed yet
        self.result = CaseResult(history.case_id, history.title, history.number, history.status,
                                 steps=len(history.steps))
        self.index: int | None = None
        self.step: Step | None = None

    # -- reporting --
    def note(self, kind: str, element: str, message: str, process: str = "", group: int | None = None) -> None:
        step = self.step
        self.result.divergences.append(Divergence(
            kind, element, message, self.index, step.describe() if step is not None else "结束时比对",
            step.at.isoformat() if step is not None else None, process, group, self.ready_names()))

    def stop(self, kind: str, element: str, message: str, process: str = "", group: int | None = None) -> NoReturn:
        self.note(kind, element, message, process, group)
        raise _Stop

    def ready_names(self) -> list[str]:
        return [_label(t) + _group_suffix(group_of(t.data)) for wf in self.workflows for t in ready_user_tasks(wf)]

    # -- running --
    def run(self) -> CaseResult:
        apply: dict[str, Callable[[Step], None]] = {
            "complete": self.apply_complete, "message": self.apply_message, "timer": self.apply_timer}
        try:
            with pinned_now(self.history.started_at):
                self.start(CASE_PROCESS, self.history.start, self.history.main_instance)
            for index, step in enumerate(self.history.steps, start=1):
                self.index, self.step = index, step
                self.facts.now = step.at
                with pinned_now(step.at):
                    apply[step.kind](step)
                    self.look_for_new_tasks()
                self.result.replayed = index
            self.index, self.step = None, None
            self.finish()
        except _Stop:
            pass
        return self.result

    def start(self, process_id: str, data: dict[str, Any], instance: int | None) -> BpmnWorkflow:
        specs = self.cand.specs.get(process_id)
        if specs is None:
            self.stop("incident", process_id, f"流程 {process_id} 不在候选版本中", process_id)
        wf = BpmnWorkflow(specs[0], specs[1], script_engine=self.engine)
        wf.get_tasks(state=TaskState.READY)[0].data.update(copy.deepcopy(data))
        self.workflows.append(wf)
        if instance is not None:
            self.by_instance[instance] = wf
        self.engine_steps(wf)
        self.look_for_new_tasks()
        return wf

    def engine_steps(self, wf: BpmnWorkflow, fire_timers: bool = False) -> None:
        """Run the engine to the next wait; timers that fire on the way are counted for the timer steps."""
        waiting = self.waiting_tasks()
        try:
            if fire_timers:
                wf.refresh_timers()
            run_engine(wf)
        except Exception as exc:  # the candidate fails where the case did not (or failed the same way)
            element = element_of(exc)
            same = "（原案件在此也曾发生异常）" if element in self.history.incidents else ""
            self.stop("incident", element, f"流程异常：{describe(exc)}{same}", str(wf.spec.name))
        finally:
            for task in waiting:
                if task.state == TaskState.COMPLETED:
                    self.fired[str(task.task_spec.name)] += 1

    def waiting_tasks(self) -> list[Task]:
        return [task for wf in self.workflows for task, _due in waiting_timers(wf)]

    def apply_complete(self, step: Step) -> None:
        wf = self.by_instance.get(step.instance or -1)
        found = [t for t in ready_user_tasks(wf)
                 if t.task_spec.name == step.element and group_of(t.data) == step.group] if wf is not None else []
        if wf is None or not found:
            self.stop("not_offered", step.element,
                      f"原案件此时办结了“{step.title or step.element}”{_group_suffix(step.group)}，回放中此时没有该任务",
                      step.process, step.group)
        task = found[0]
        props = properties(task)
        try:
            form = schemas.schema(self.cand.bpmn_dir, props.get("form", task.task_spec.name))
        except ValidationFailed as exc:
            self.stop("form_refuses", step.element, exc.message, step.process, step.group)
        problems = validate_form(form, step.data, dict(task.data))
        if problems:
            detail = "；".join(f"{k}：{v}" for k, v in list(problems.items())[:3])
            self.stop("form_refuses", step.element, f"“{_label(task)}”的表单不再接受原案件填写的内容：{detail}",
                      step.process, step.group)
        self.check_guard(task, props, form, step)
        values = values_for_completion(props, step.data, task.data, step.signer,
                                       step.at.astimezone(clock.LOCAL_TZ).date())
        task.set_data(**copy.deepcopy(values))
        try:
            task.run()
        except Exception as exc:
            self.stop("incident", step.element, f"流程异常：{describe(exc)}", step.process, step.group)
        self.engine_steps(wf)

    def check_guard(self, task: Task, props: dict[str, str], form: dict[str, Any], step: Step) -> None:
        guard = props.get("guard")
        if not guard:
            return
        scope = {**dict.fromkeys(form.get("properties", {})), **task.data, **step.data}
        try:
            ok = self.engine.environment.evaluate(guard, scope)
        except Exception as exc:
            self.stop("guard_refuses", step.element, f"“{_label(task)}”的任务规则无法判断：{exc}", step.process,
                      step.group)
        if not ok:
            message = props.get("guard_message") or "填写内容不符合流程规则"
            self.stop("guard_refuses", step.element, f"“{_label(task)}”的任务规则拒绝原案件的办理：{message}",
                      step.process, step.group)

    def apply_message(self, step: Step) -> None:
        event = message_event(step.element, step.data)
        starts = MESSAGES.get(step.element)
        if starts is not None:
            instance = self.court_left.pop(0) if self.court_left else None
            wf = self.start(starts, {"case_id": self.history.case_id, "title": self.history.title}, instance)
            if not send(wf, event):
                self.stop("message_not_awaited", step.element, f"消息“{step.element}”在回放中没有等待它的环节",
                          starts)
            self.engine_steps(wf)
            return
        for wf in self.workflows:
            if wf.is_completed():
                continue
            if step.group is not None and not aim_at_group(wf, event, step.group):
                continue
            if send(wf, event):
                self.engine_steps(wf)
                return
        self.stop("message_not_awaited", step.element,
                  f"原案件此时收到消息“{step.element}”{_group_suffix(step.group)}，回放中没有等待它的环节",
                  group=step.group)

    def apply_timer(self, step: Step) -> None:
        for wf in self.workflows:
            if not wf.is_completed():
                self.engine_steps(wf, fire_timers=True)
        if self.fired[step.element] > 0:
            self.fired[step.element] -= 1
            return
        still = sorted(due for task, due in self.waiting_pairs() if task.task_spec.name == step.element)
        if still:
            self.note("timer_moved", step.element, f"原案件中定时事件“{step.element}”此时到期"
                      f"（{step.data.get('due_at')}），回放中其到期时间为 {'、'.join(still)}")
        else:
            self.note("timer_missing", step.element,
                      f"原案件中定时事件“{step.element}”此时到期，回放中没有等待该定时事件")

    def waiting_pairs(self) -> list[tuple[Task, str]]:
        return [pair for wf in self.workflows for pair in waiting_timers(wf)]

    def look_for_new_tasks(self) -> None:
        for wf in self.workflows:
            for task in ready_user_tasks(wf):
                if task.id in self.seen:
                    continue
                self.seen.add(task.id)
                key = (str(task.task_spec.name), group_of(task.data))
                self.offered[key] += 1
                if self.offered[key] > self.history.offered.get(key, 0) and key not in self.reported_new:
                    self.reported_new.add(key)
                    self.note("new_task", key[0], f"出现了原案件没有的任务“{_label(task)}”{_group_suffix(key[1])}",
                              str(task.workflow.spec.name), key[1])

    def finish(self) -> None:
        main = self.workflows[0]
        if self.history.status == "open":
            self.facts.now = max(self.until, self.facts.now)
            with pinned_now(self.facts.now):
                for wf in self.workflows:
                    if not wf.is_completed():
                        self.engine_steps(wf, fire_timers=True)
                self.look_for_new_tasks()
            if main.is_completed():
                status = end_event_properties(main).get("case_status") or "completed"
                self.note("different_end", CASE_PROCESS, f"回放中案件已结束（{status}），原案件仍在办理", CASE_PROCESS)
                return
            ready = [t for wf in self.workflows for t in ready_user_tasks(wf)]
            replayed = Counter((str(t.task_spec.name), group_of(t.data)) for t in ready)
            labels = {**self.history.titles, **{str(t.task_spec.name): _label(t) for t in ready}}
            recorded = Counter(self.history.open_tasks)
            for key in sorted((recorded - replayed).elements(), key=_task_key):
                self.note("task_missing", key[0],
                          f"原案件现有待办“{labels.get(key[0], key[0])}”{_group_suffix(key[1])}，回放中没有",
                          group=key[1])
            for key in sorted((replayed - recorded).elements(), key=_task_key):
                if key not in self.reported_new:
                    self.reported_new.add(key)
                    self.note("new_task", key[0],
                              f"回放中多出待办“{labels.get(key[0], key[0])}”{_group_suffix(key[1])}", group=key[1])
            return
        if not main.is_completed():
            open_now = "、".join(self.ready_names()) or "无"
            self.note("different_end", CASE_PROCESS,
                      f"原案件已结束（{self.history.status}），回放中案件没有结束（待办：{open_now}）", CASE_PROCESS)
            return
        ended = end_event_properties(main).get("case_status")
        if ended != self.history.status:
            self.note("different_end", CASE_PROCESS,
                      f"原案件以“{self.history.status}”结束，回放中以“{ended or '无状态的结束事件'}”结束", CASE_PROCESS)


def _label(task: Task) -> str:
    return str(task.task_spec.bpmn_name or task.task_spec.name)


def _group_suffix(group: int | None) -> str:
    return f"（第{group}组）" if group is not None else ""


def replay_case(cand: Candidate, history: History, until: datetime) -> CaseResult:
    """Replay one case on the candidate, in memory; ``until`` is "now" for a case still running (its timers due by
    then fire)."""
    return _CaseReplay(cand, history, until).run()


def replay_cases(cand: Candidate, histories: Sequence[History], until: datetime,
                 progress: Callable[[int, int], None] | None = None) -> list[CaseResult]:
    results = []
    for done, history in enumerate(histories, start=1):
        results.append(replay_case(cand, history, until))
        if progress is not None:
            progress(done, len(histories))
    return results


def summary(results: Sequence[CaseResult]) -> dict[str, Any]:
    """Counts for the report and the deployment's audit row."""
    kinds: Counter[str] = Counter(r.divergences[0].kind for r in results if r.divergences)
    where: Counter[str] = Counter(r.divergences[0].element for r in results if r.divergences)
    return {"cases": len(results), "identical": sum(r.identical for r in results),
            "diverged": sum(not r.identical for r in results), "by_kind": dict(sorted(kinds.items())),
            "by_element": dict(where.most_common(20))}
