"""The SpiffWorkflow adapter: parse diagrams, run service tasks through the operator registry, (de)serialize.

Instances are stored without their specs: the spec part of the serialization lives once per spec bundle
(``SpecBundle``), and is put back on load.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from functools import lru_cache
from typing import Any

from lxml import etree
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine, TaskDataEnvironment
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

# Timers must follow the engine's clock (a simulated one in demo mode) from the first diagram parsed.
spiff_clock.install()

SPEC_KEYS = ("spec", "subprocess_specs")

# An operator gets the running task and its evaluated parameters and returns a JSON-safe result.
Operator = Callable[[Task, dict[str, Any]], Any]


class OperatorError(Exception):
    """A service task's operator failed; the message is the real cause, for the incident."""


class CaseScriptEngine(PythonScriptEngine):  # type: ignore[misc]
    """Runs scripts and conditions on task data; service tasks call the operator registry with the task."""

    def __init__(self, operators: dict[str, Operator]) -> None:
        super().__init__(environment=TaskDataEnvironment())
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
    if cause is not exc and isinstance(exc, WorkflowException) and str(exc) and str(exc) not in text:
        text = f"{exc}: {text}"
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
