"""Scale of one case (issue 12): completing one obligor group's task must not cost more because other groups
exist. Not timed — what is counted is the work a completion does: SQL statements, and the tasks SpiffWorkflow
converts to or from their stored form or walks through (``bench/obligor_groups.py`` times the same thing).

Then what makes it cheap is checked against the library: the engine steps run exactly the tasks SpiffWorkflow's
own loop runs, in the same order, to the same state; the part-by-part save writes what the library's serializer
writes; a kept workflow object is never used for a state someone else wrote.
"""

from __future__ import annotations

import json
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from SpiffWorkflow.bpmn.util.task import BpmnTaskIterator
from SpiffWorkflow.util.task import TaskIterator, TaskState
from sqlalchemy import event, select, update

from engine.auth.users import get_actor
from engine.process import instances, workflow
from engine.services import incidents, messages, model_changes, tasks, timers
from engine.store.models import ProcessInstance
from engine.store.runtime import Runtime

from . import test_paths as paths
from .driver import COMPANY, Case

# ---------------------------------------------------------------------------------------------------------------
# A case with n obligor groups, every group served its consultation notice
# ---------------------------------------------------------------------------------------------------------------


def obligors(n: int) -> list[dict[str, Any]]:
    return [dict(COMPANY, name=f"福州某化工有限公司第{i}分公司", address=f"福建省福州市马尾区某路{i}号", group=i)
            for i in range(1, n + 1)]


def served_case(runtime: Runtime, n: int) -> Case:
    case = Case(runtime, obligors=obligors(n))
    case.do("screen_lead", {"screening_result": "start_claim", "screening_reason": "符合启动情形"})
    case.do("register_claim_start", {"cause": "违法排污", "case_summary": "园区多家企业分别磋商", "obligors": obligors(n)})
    case.do("approve_claim_start_division", {"approved": True, "opinion": "同意"})
    case.do("approve_claim_start_department", {"approved": True, "opinion": "同意"})
    case.investigate()
    for group in range(1, n + 1):
        case.prepare_and_serve(group=group)
    return case


class Work:
    """What ``tasks.complete`` does while counting is on: SQL statements, and SpiffWorkflow tasks serialized,
    deserialized or visited by its task iterator."""

    def __init__(self, runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> None:
        self.counts: Counter[str] = Counter()
        self.on = False
        event.listen(runtime.db.sql_engine, "before_cursor_execute", self._statement)
        self.runtime = runtime
        registry = workflow.serializer().registry
        for table, name in ((registry.convert_to_dict, "tasks serialized"),
                            (registry.convert_from_dict, "tasks deserialized")):
            monkeypatch.setitem(table, "Task", self._counting(table["Task"], name))
        for cls in (TaskIterator, BpmnTaskIterator):
            monkeypatch.setattr(cls, "_next", self._counting(cls.__dict__["_next"], "tasks visited"))
        original = tasks.complete

        def complete(*args: Any, **kwargs: Any) -> Any:
            self.on = True
            try:
                return original(*args, **kwargs)
            finally:
                self.on = False

        monkeypatch.setattr(tasks, "complete", complete)

    def _statement(self, *args: Any) -> None:
        if self.on:
            self.counts["SQL statements"] += 1

    def _counting(self, function: Callable[..., Any], name: str) -> Callable[..., Any]:
        def counted(*args: Any, **kwargs: Any) -> Any:
            if self.on:
                self.counts[name] += 1
            return function(*args, **kwargs)

        return counted

    def close(self) -> None:
        event.remove(self.runtime.db.sql_engine, "before_cursor_execute", self._statement)


def one_groups_steps(runtime: Runtime, n: int, monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """The work of group 1's meeting (agreed), its draft agreement (a document) and its signing, in a case of ``n``
    groups (its reply before, not counted, warms what is kept between steps)."""
    case = served_case(runtime, n)
    case.do("record_obligor_reply", {"obligor_reply": "accepts", "replied_on": case.today()}, 1)  # warm: caches
    work = Work(runtime, monkeypatch)
    try:
        case.meeting("agreed", 1)
        case.do("draft_agreement", {
            "facts": "企业偷排含镍废水", "evidence_summary": "勘验笔录、监测报告", "legal_basis": "《民法典》",
            "liability": "赔偿义务人承担全部赔偿责任", "remedy": "compensation", "compensation_amount": "1250000.00",
            "payment_due_on": "2026-12-31", "cost_bearing": "鉴定评估费用由赔偿义务人承担", "signing_place": "福州市",
            "planned_signing_on": case.today(), "agreement_name": "闽江支流镍污染生态环境损害赔偿协议",
            "obligations": [{"kind": "payment", "description": "缴纳生态环境损害赔偿金", "amount": "1250000.00",
                             "due_on": "2026-12-31", "account": "treasury"}]}, 1)
        case.do("sign_agreement", {"signed_on": case.today(), "apply_judicial_confirmation": False}, 1)
    finally:
        work.close()
    return work.counts


def test_completing_one_groups_task_does_not_grow_with_the_other_groups(runtime, monkeypatch):
    one = one_groups_steps(runtime, 1, monkeypatch)
    monkeypatch.undo()
    twenty = one_groups_steps(runtime, 20, monkeypatch)
    # Reading the reply's lists (tasks, deadlines, documents… of every group) is one statement each whatever
    # their length; before, each group cost statements of its own (its stage, its obligors).
    assert twenty["SQL statements"] <= one["SQL statements"] + 6, (one, twenty)
    # Only the subprocesses a step changes are serialized again, none is loaded again, and the engine walks the
    # tasks of the group that moves; before, every group's tasks were, several times per step.
    for what in ("tasks serialized", "tasks deserialized", "tasks visited"):
        assert twenty[what] <= 2 * one[what] + 40, (what, one, twenty)


# ---------------------------------------------------------------------------------------------------------------
# The engine steps are the library's
# ---------------------------------------------------------------------------------------------------------------


def _normal(wf: Any) -> dict[str, Any]:
    """The library's own serialization of ``wf``, without the specs and the moments of the state changes."""
    full = json.loads(workflow.serializer().serialize_json(wf))
    for key in workflow.SPEC_KEYS:
        full.pop(key, None)
    for part in [full, *full["subprocesses"].values()]:
        for task in part["tasks"].values():
            task["last_state_change"] = 0
    return full


@pytest.fixture
def compared_with_the_library(runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """Every time the engine runs, run it first on two copies of the instance, inside savepoints that are then
    rolled back (the operators write to the database): once with SpiffWorkflow's own ``do_engine_steps``, once
    with the engine's; both must run the same tasks in the same order and end in the same state (or fail the
    same way). Task ids are made the same on both sides. On SQLite only: PostgreSQL's sequences do not roll back,
    so the second run's documents and deadlines would get other ids than the first's."""
    if not runtime.db.is_sqlite:
        pytest.skip("the two runs' rows get the same ids only where a rollback gives them back (SQLite)")
    current: list[Any] = []
    compared = [0]
    counter = iter(range(10**9))
    monkeypatch.setattr("SpiffWorkflow.task.uuid4", lambda: uuid.UUID(int=next(counter)))
    original_advance, original_engine = instances.advance, instances.run_engine

    def advance(run: Any, action: Any, fire_timers: bool = False) -> Any:
        current.append(run)
        try:
            return original_advance(run, action, fire_timers)
        finally:
            current.pop()

    def run_engine(wf: Any) -> None:
        run = current[-1]
        text = workflow.dump_state(wf)
        bundle = instances._bundle_json(run.runtime, run.session, run.instance.bundle_id)
        start = next(counter)
        outcomes = []
        for steps in (lambda w, callback: w.do_engine_steps(will_complete_task=callback), None):
            copy = workflow.load_state(text, bundle, wf.script_engine)
            ran: list[tuple[str, str]] = []
            savepoint = run.session.begin_nested()
            ids = iter(range(start + 1, 10**9))  # the same new task ids on both sides
            monkeypatch.setattr("SpiffWorkflow.task.uuid4", lambda ids=ids: uuid.UUID(int=next(ids)))
            error = None
            try:
                workflow.run_engine(copy, steps=_recording(steps, ran))
            except Exception as exc:  # both must fail alike
                error = (type(exc).__name__, workflow.describe(exc))
            savepoint.rollback()
            outcomes.append((ran, error, _normal(copy)))
        monkeypatch.setattr("SpiffWorkflow.task.uuid4", lambda: uuid.UUID(int=next(counter)))
        library, engine = outcomes
        assert engine[0] == library[0], "the engine ran other tasks, or in another order"
        assert engine[1] == library[1]
        assert engine[2] == library[2], "the engine left the instance in another state"
        compared[0] += 1
        original_engine(wf)

    monkeypatch.setattr(instances, "run_engine", run_engine)
    for module in (instances, tasks, messages, timers, incidents, model_changes):
        monkeypatch.setattr(module, "advance", advance)
    yield compared


def _recording(steps: Any, ran: list[tuple[str, str]]) -> workflow.EngineSteps:
    def run(wf: Any, callback: Callable[[Any], None]) -> None:
        def record(task: Any) -> None:
            ran.append((str(task.id), str(task.task_spec.name)))
            callback(task)

        (steps or workflow.do_engine_steps)(wf, record)

    return run


SCENARIOS = [
    paths.test_happy_path_compensation_to_case_closed,
    paths.test_rejected_approval_goes_back_and_resubmission_succeeds,
    paths.test_claim_terminated,
    paths.test_no_reply_by_the_reply_date_fails_consultation,
    paths.test_three_meeting_limit_and_three_meetings_failure,
    paths.test_ninety_day_period_exceeded,
    paths.test_litigation_then_enforcement_when_payment_is_not_made,
    paths.test_judicial_confirmation_and_restoration_evaluated_twice,
    paths.test_restoration_supervision_cycle_and_completion_message,
    paths.test_unconfirmed_agreement_not_performed_leads_to_lawsuit,
    paths.test_court_notice_late_is_chased,
    paths.test_assessment_time_is_not_counted_in_the_investigation_period,
    paths.test_voluntary_restoration_during_consultation,
    paths.test_a_message_naming_a_group_reaches_only_that_group,
]


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda f: f.__name__.removeprefix("test_"))
def test_engine_steps_are_the_librarys(runtime, compared_with_the_library, scenario):
    scenario(runtime)
    assert compared_with_the_library[0] > 3


def test_engine_steps_are_the_librarys_with_three_groups(runtime, compared_with_the_library):
    case = served_case(runtime, 3)
    messages.deliver(runtime, case.officer, case.id, "obligor_requests_restoration",
                     {"requested_on": case.today(), "note": "愿先行修复", "group": 2})
    case.agree(group=1)
    case.do("record_obligor_reply", {"obligor_reply": "refuses", "replied_on": case.today()}, 3)
    case.advance("P40D")
    case.do("record_compensation_payment", {"paid_amount": "1250000.00", "paid_on": case.today(),
                                            "payer": "福州某化工有限公司第1分公司", "account": "treasury",
                                            "receipt_number": "非税收入票据0001"}, 1)
    assert compared_with_the_library[0] > 20


# ---------------------------------------------------------------------------------------------------------------
# What is saved is what the library writes; a kept workflow object stands only for its own state
# ---------------------------------------------------------------------------------------------------------------


def test_each_save_is_the_librarys_serialization(runtime, monkeypatch):
    saves = [0]
    original = instances.dump_state

    def checked(wf: Any) -> str:
        text = original(wf)
        stored = json.loads(text)
        workflow._expand(stored)
        full = json.loads(workflow.serializer().serialize_json(wf))
        for key in workflow.SPEC_KEYS:
            full.pop(key, None)
        assert stored == full
        assert workflow.ready_user_tasks(wf) == wf.get_tasks(state=TaskState.READY, manual=True)
        waiting = wf.get_tasks(state=TaskState.WAITING)
        assert [t for t, _ in workflow.waiting_timers(wf)] == [t for t in waiting if t in
                                                               {x for x, _ in workflow.waiting_timers(wf)}]
        saves[0] += 1
        return text

    monkeypatch.setattr(instances, "dump_state", checked)
    case = served_case(runtime, 3)
    case.agree(group=2)
    case.do("record_obligor_reply", {"obligor_reply": "refuses", "replied_on": case.today()}, 1)
    case.advance("P40D")
    assert saves[0] > 30
    with runtime.db.transaction() as s:
        inst = instances_of(s, case.id)[0]
        cold = workflow.load_state(inst.state, instances._bundle_json(runtime, s, inst.bundle_id),
                                   workflow.CaseScriptEngine({}))
        stored = json.loads(inst.state)
        workflow._expand(stored)
        assert _normal(cold) == _normal_dict(stored)


def _normal_dict(full: dict[str, Any]) -> dict[str, Any]:
    for part in [full, *full["subprocesses"].values()]:
        for task in part["tasks"].values():
            task["last_state_change"] = 0
    return full


def instances_of(session: Any, case_id: int) -> list[ProcessInstance]:
    return list(session.execute(select(ProcessInstance).where(ProcessInstance.case_id == case_id)
                                .order_by(ProcessInstance.id)).scalars())


def test_a_state_written_by_someone_else_is_loaded_not_the_kept_object(runtime):
    case = served_case(runtime, 2)
    case.do("record_obligor_reply", {"obligor_reply": "accepts", "replied_on": case.today()}, 1)
    # Another process (or a restored backup) writes the instance: here, the same state with a variable changed.
    with runtime.db.transaction() as s:
        inst = instances_of(s, case.id)[0]
        wf = workflow.load_state(inst.state, instances._bundle_json(runtime, s, inst.bundle_id),
                                 workflow.CaseScriptEngine({}))
        for task in workflow.ready_user_tasks(wf):
            task.data["written_elsewhere"] = True
        s.execute(update(ProcessInstance).where(ProcessInstance.id == inst.id)
                  .values(state=json.dumps(json.loads(workflow.dump_state(wf)))))
    view = case.meeting("agreed", 1)
    assert "draft_agreement" in [t["task"] for t in view["tasks"] if t["group"] == 1]
    with runtime.db.transaction() as s:
        inst = instances_of(s, case.id)[0]
        wf = workflow.load_state(inst.state, instances._bundle_json(runtime, s, inst.bundle_id),
                                 workflow.CaseScriptEngine({}))
        assert all(t.data.get("written_elsewhere") for t in workflow.ready_user_tasks(wf))


def test_a_rolled_back_step_leaves_no_kept_object_behind(runtime):
    case = served_case(runtime, 2)
    officer = get_actor(runtime, "officer1")
    item = case.task("record_obligor_reply", 1)
    with pytest.raises(RuntimeError), runtime.db.transaction() as s:
        inst = instances_of(s, case.id)[0]
        run = instances.open_run(runtime, s, inst, officer)
        spiff = instances.find_task(run.wf, item["id"])
        instances.advance(run, lambda wf: (spiff.set_data(obligor_reply="refuses", replied_on=case.today()),
                                           spiff.run()))
        raise RuntimeError("the transaction fails after the engine ran")
    # The step did not happen: group 1 still waits for its reply, and can give it.
    assert "record_obligor_reply" in [t["task"] for t in case.view()["tasks"] if t["group"] == 1]
    view = case.do("record_obligor_reply", {"obligor_reply": "accepts", "replied_on": case.today()}, 1)
    assert "record_consultation_meeting" in [t["task"] for t in view["tasks"] if t["group"] == 1]
