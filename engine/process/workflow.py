"""The SpiffWorkflow adapter: parse diagrams, run service tasks through the operator registry, (de)serialize.

Instances are stored without their specs: the spec part of the serialization lives once per spec bundle
(``SpecBundle``), and is put back on load.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterable
from functools import lru_cache
from typing import Any

from lxml import etree
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.serializer.workflow import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.specs.event_definitions.multiple import MultipleEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.exceptions import WorkflowException
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState

from engine.process import spiff_clock
from engine.process.sandbox import RestrictedScriptEngine

# Timers must follow the engine's clock (a simulated one in demo mode) from the first diagram parsed.
spiff_clock.install()

SPEC_KEYS = ("spec", "subprocess_specs")

# An operator gets the running task and its evaluated parameters and returns a JSON-safe result.
Operator = Callable[[Task, dict[str, Any]], Any]


class OperatorError(Exception):
    """A service task's operator failed; the message is the real cause, for the incident."""


class CaseScriptEngine(RestrictedScriptEngine):
    """Runs scripts and conditions on task data in the sandbox; service tasks call the operator registry."""

    def __init__(self, operators: dict[str, Operator]) -> None:
        super().__init__()
        self.operators = operators

    def call_service(self, task: Task, **kwargs: Any) -> str:
        name = kwargs["operation_name"]
        params = {k: v["value"] for k, v in kwargs.get("operation_params", {}).items()}
        operator = self.operators.get(name)
        if operator is None:
            raise OperatorError(f"未知的服务任务操作：{name}")
        try:
            return json.dumps(operator(task, params), ensure_ascii=False, default=str)
        except Exception as exc:  # the library would report a misleading NameError; keep the real cause
            message = str(exc) or exc.__class__.__name__
            raise WorkflowTaskException(message, task=task, exception=OperatorError(message)) from exc


def safe_parser() -> etree.XMLParser:
    """An XML parser that never resolves external entities (XXE) or fetches anything from the network."""
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


class Parser(SpiffBpmnParser):  # type: ignore[misc]
    def add_bpmn_xml_text(self, text: str, filename: str) -> None:
        tree = etree.fromstring(text.encode("utf-8"), parser=safe_parser())
        self.add_bpmn_xml(tree, filename=filename)


def parse_specs(files: Iterable[tuple[str, str]], process_id: str) -> tuple[Any, dict[str, Any]]:
    """Parse (filename, xml) pairs and return the spec of ``process_id`` and of every process it calls."""
    parser = Parser()
    for filename, text in files:
        parser.add_bpmn_xml_text(text, filename)
    return parser.get_spec(process_id), parser.get_subprocess_specs(process_id)


@lru_cache(maxsize=1)
def serializer() -> BpmnWorkflowSerializer:
    return BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(dict(SPIFF_CONFIG)))


def spec_json(spec: Any, subprocess_specs: dict[str, Any]) -> str:
    """The serialized form of a bundle's specs, in the layout the workflow serializer uses."""
    wf = BpmnWorkflow(spec, subprocess_specs)
    full = json.loads(serializer().serialize_json(wf))
    return json.dumps({k: full[k] for k in SPEC_KEYS}, ensure_ascii=False)


def new_workflow(bundle_specs: str, script_engine: CaseScriptEngine) -> BpmnWorkflow:
    """A fresh instance of a bundle's process, from the bundle's serialized specs."""
    specs = json.loads(bundle_specs)
    spec = serializer().from_dict(specs["spec"])
    subs = {name: serializer().from_dict(s) for name, s in specs["subprocess_specs"].items()}
    return BpmnWorkflow(spec, subs, script_engine=script_engine)


def dump_state(wf: BpmnWorkflow) -> str:
    full = json.loads(serializer().serialize_json(wf))
    for key in SPEC_KEYS:
        full.pop(key, None)
    return json.dumps(full, ensure_ascii=False)


def load_state(state: str, bundle_specs: str, script_engine: CaseScriptEngine) -> BpmnWorkflow:
    full = json.loads(state)
    full.update(json.loads(bundle_specs))
    wf = serializer().deserialize_json(json.dumps(full))
    wf.script_engine = script_engine
    return wf


def is_ready(task: Task | None) -> bool:
    return task is not None and task.state == TaskState.READY


def element_states(wf: BpmnWorkflow, elements: set[str]) -> tuple[set[str], set[str]]:
    """(active, completed) ids among ``elements`` in the workflow and its subprocesses; an element both active
    and completed before (a loop) counts as active."""
    active: set[str] = set()
    completed: set[str] = set()
    for workflow in [wf, *wf.subprocesses.values()]:
        for task in workflow.get_tasks(skip_subprocesses=True):
            name = str(task.task_spec.name)
            if name not in elements:
                continue  # the engine's own helper specs (start, end, multi-instance children)
            if task.state in (TaskState.READY, TaskState.WAITING, TaskState.STARTED):
                active.add(name)
            elif task.state == TaskState.COMPLETED:
                completed.add(name)
    return active, completed - active


#: How often one element may run again on its own path during one action. A multi-instance (one call per obligor
#: group) runs an element many times side by side, which is fine; a cycle of automatic steps with no wait in between
#: runs the same element again and again (and SpiffWorkflow gives up silently after about a thousand tasks, as if
#: the instance had completed), so it must be stopped well before that and become an incident.
REPEAT_LIMIT = 100


class EngineLoop(WorkflowTaskException):  # type: ignore[misc]
    """An element ran too often in one action: a cycle without a waiting task."""


def run_engine(wf: BpmnWorkflow, repeat_limit: int = REPEAT_LIMIT) -> None:
    """Run every automatic step until the instance waits (for a person, a timer or a message)."""
    runs: dict[tuple[int, str], int] = {}

    def count(task: Task) -> None:
        key = (id(task.workflow), str(task.task_spec.name))
        runs[key] = runs.get(key, 0) + 1
        # A multi-instance runs one element many times side by side; a cycle runs it again below itself.
        if runs[key] > repeat_limit and _repeats_on_its_path(task) > repeat_limit:
            name = task.task_spec.bpmn_name or task.task_spec.name
            raise EngineLoop(f"“{name}”在一次操作中自动执行了超过{repeat_limit}次：流程图中有不经等待环节的循环", task=task)

    wf.do_engine_steps(will_complete_task=count)
    # 3.2 may leave a boundary timer READY after one pass; a second pass runs it.
    wf.do_engine_steps(will_complete_task=count)


def _repeats_on_its_path(task: Task) -> int:
    """How many tasks of the same element lie on the path from the workflow's start to ``task``."""
    name, count, current = task.task_spec.name, 0, task.parent
    while current is not None:
        count += current.task_spec.name == name
        current = current.parent
    return count


def ready_user_tasks(wf: BpmnWorkflow) -> list[Task]:
    return list(wf.get_tasks(state=TaskState.READY, manual=True))


def properties(task: Task) -> dict[str, str]:
    props: dict[str, str] = getattr(task.task_spec, "extensions", {}).get("properties", {}) or {}
    return props


def waiting_timers(wf: BpmnWorkflow) -> list[tuple[Task, str]]:
    """(task, due ISO time) for every timer the instance waits on."""
    found = []
    for task in wf.get_tasks(state=TaskState.WAITING):
        definition = getattr(task.task_spec, "event_definition", None)
        # An event-based gateway waits on several definitions at once; its timers count too.
        candidates = definition.event_definitions if isinstance(definition, MultipleEventDefinition) else [definition]
        for candidate in candidates:
            if isinstance(candidate, TimerEventDefinition):
                found.append((task, str(candidate.details(task).value)))
    return found


def element_of(exc: BaseException) -> str:
    task = getattr(exc, "task", None)
    if task is not None:
        return str(task.task_spec.name)
    spec = getattr(exc, "task_spec", None)
    return str(getattr(spec, "name", "")) or "unknown"


def describe(exc: BaseException) -> str:
    """The real error message of an engine failure (the cause, not the library's wrapper)."""
    cause = exc
    while cause.__cause__ is not None:
        cause = cause.__cause__
    inner = getattr(exc, "exception", None)
    if isinstance(inner, BaseException):
        cause = inner
        while cause.__cause__ is not None:
            cause = cause.__cause__
    text = str(cause) or cause.__class__.__name__
    # The library's wrapper repeats the cause with its own punctuation ("X. : X"): say it once.
    outer = str(exc).strip().rstrip(".。 :：").strip()
    if cause is not exc and isinstance(exc, WorkflowException) and outer and outer != text:
        text = outer if text in outer else text if outer in text else f"{outer}：{text}"
    return text


def end_event_properties(wf: BpmnWorkflow) -> dict[str, str]:
    """Properties of the top-level end event the finished instance reached (e.g. ``case_status``)."""
    for task in wf.get_tasks(state=TaskState.COMPLETED):
        if task.workflow is not wf:
            continue
        props = properties(task)
        if "case_status" in props:
            return props
    return {}


def completed_operator_tasks(wf: BpmnWorkflow, operator: str, **params: Any) -> list[Task]:
    """The completed service tasks calling ``operator`` with parameter values equal to ``params`` (compared as
    text), in the workflow and its subprocesses, oldest first."""
    seen: dict[Any, Task] = {}
    for workflow in [wf, *wf.subprocesses.values()]:
        for task in workflow.get_tasks(state=TaskState.COMPLETED):
            spec = task.task_spec
            if getattr(spec, "operation_name", None) != operator:
                continue
            given = getattr(spec, "operation_params", {}) or {}
            values = {k: v.get("value") if isinstance(v, dict) else None for k, v in given.items()}
            if all(str(values.get(k)) == str(v) for k, v in params.items()):
                seen[task.id] = task
    return sorted(seen.values(), key=lambda t: t.last_state_change)


def stuck_tasks(wf: BpmnWorkflow, element: str) -> list[Task]:
    """Where an instance stopped on an incident: the READY tasks of ``element`` (in the workflow and its
    subprocesses), or, when the element was not reached yet, every READY engine task (the next to run)."""
    ready = [t for t in wf.get_tasks(state=TaskState.READY) if not t.task_spec.manual]
    at_element = [t for t in ready if t.task_spec.name == element]
    return at_element or ready


def previous_user_task(wf: BpmnWorkflow, task: Task) -> Task | None:
    """The completed user task nearest before ``task`` on its path (leaving subprocesses through their caller)."""
    current: Task | None = task.parent
    workflow = task.workflow
    while True:
        while current is not None:
            if current.task_spec.manual and current.state == TaskState.COMPLETED:
                return current
            current = current.parent
        if workflow.parent_task_id is None:
            return None
        caller = wf.get_task_from_id(workflow.parent_task_id)
        workflow, current = caller.workflow, caller.parent


def completed_user_tasks(wf: BpmnWorkflow, element: str) -> list[Task]:
    """The completed user tasks of ``element`` in the workflow and its subprocesses, oldest first."""
    found = [t for t in wf.get_tasks(state=TaskState.COMPLETED) if t.task_spec.manual and t.task_spec.name == element]
    return sorted(found, key=lambda t: t.last_state_change)


def reopen_user_task(wf: BpmnWorkflow, task: Task) -> None:
    """Make a completed user task ready again, with the data it was completed with; what followed it is undone."""
    wf.reset_from_task_id(task.id, data=copy.deepcopy(task.data))
