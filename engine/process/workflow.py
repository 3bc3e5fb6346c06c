"""The SpiffWorkflow adapter: parse diagrams, run service tasks through the operator registry, (de)serialize.

Instances are stored without their specs: the spec part of the serialization lives once per spec bundle
(``SpecBundle``), and is put back on load.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import threading
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from itertools import compress
from operator import attrgetter
from typing import Any

from lxml import etree
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.serializer.default.workflow import WorkflowConverter
from SpiffWorkflow.bpmn.serializer.helpers.encoder import create_encoder
from SpiffWorkflow.bpmn.serializer.workflow import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.specs.bpmn_task_spec import BpmnTaskSpec
from SpiffWorkflow.bpmn.specs.event_definitions import timer as timer_module
from SpiffWorkflow.bpmn.specs.event_definitions.base import EventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.multiple import MultipleEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import (
    DurationTimerEventDefinition,
    TimeDateEventDefinition,
    TimerEventDefinition,
)
from SpiffWorkflow.bpmn.specs.mixins.events.event_types import CatchingEvent
from SpiffWorkflow.bpmn.specs.mixins.subworkflow_task import SubWorkflowTask as SubWorkflowTaskMixin
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.exceptions import WorkflowException
from SpiffWorkflow.specs.base import TaskSpec
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


# ---------------------------------------------------------------------------------------------------------------
# Saving an instance: part by part
#
# A case with many obligor groups holds several subprocesses per group (its track, its consultation, its
# performance…), each starting with a copy of the case data (the obligors of every group among them). Serializing
# all of them after every step made a step's cost grow with the number of groups, and the stored state with its
# square. So that a step costs what it changes:
#
# * The state is written part by part — the top workflow and each subprocess — and a part's text is kept with a
#   fingerprint of what it was made from; only parts whose tasks changed are serialized again.
# * A subprocess is written compressed: ``{"$eco_zpart": <base64 of zlib>, "$eco_zdict": <digest>}``, against a
#   dictionary (``eco_zdicts``, by digest: base64 of zlib) made of a subprocess of the same process this workflow
#   object wrote, so what subprocesses have in common (the case data, the task structure) is stored about once.
#   The top workflow's tasks are written compressed too (``eco_ztasks``), but for its first task.
# * Inside a subprocess, a large value (a list or an object of ``SHARED_MIN`` characters or more) in the workflow's
#   or a task's data is written once, in ``eco_shared`` (by the digest of its JSON), and referred to as
#   ``{"$eco_shared": digest}``; loading puts a copy of the value back in each place.
#
# Otherwise the text is what SpiffWorkflow's serializer writes, without the specs (they live in the spec bundle):
# the top workflow's first task is written as is (``replay.start_data`` reads its data), and a state written before
# loads as it always did.
# ---------------------------------------------------------------------------------------------------------------

SHARED_KEY, SHARED_REF, SHARED_MIN = "eco_shared", "$eco_shared", 512
ZDICTS_KEY, ZPART, ZDICT, ZDICT_SIZE = "eco_zdicts", "$eco_zpart", "$eco_zdict", 16384
ZTASKS = "eco_ztasks"
_SAVED = "_eco_saved"  # attribute of a workflow: the last text it was saved as or loaded from, and its fingerprint
_PARTS = "_eco_parts"  # attribute of a workflow: part key → _Part
_ZDICTS = "_eco_zdicts"  # attribute of a workflow: subprocess spec name → _Dictionary
_DUMP_LOCK = threading.Lock()  # the serializer's registry has a module-wide "encoder mode" switch
_STATE = attrgetter("_state")
_STAMP = attrgetter("last_state_change")


@dataclass(frozen=True)
class _Dictionary:
    """A compression dictionary: the end of a subprocess's JSON, of ``source`` bytes in all."""

    digest: str
    data: bytes
    stored: str  # as written in the state: base64 of zlib
    source: int


@dataclass(frozen=True)
class _Part:
    fingerprint: tuple[Any, ...]
    text: str  # the part's entry in the state: the top workflow's attributes, or '"<id>": {…}'
    shared: dict[str, str]  # digest → JSON of the large values it refers to
    zdict: _Dictionary | None = None  # the compression dictionary it was written with


def _digest(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


@lru_cache(maxsize=1)
def _top_converter() -> WorkflowConverter:
    """The converter of a workflow's own attributes (tasks, data, …) without its specs and subprocesses, on the
    serializer's registry (not registered: the registry keeps its own converter for whole workflows)."""
    converter: WorkflowConverter = WorkflowConverter.__new__(WorkflowConverter)
    converter.registry = serializer().registry
    return converter


@lru_cache(maxsize=1)
def _encoder() -> type[json.JSONEncoder]:
    encoder: type[json.JSONEncoder] = create_encoder(serializer().registry)
    return encoder


def _part_print(workflow: Any) -> tuple[Any, ...]:
    """What a part's JSON is made from, cheap to compare. The engine changes a workflow's tasks only together with
    the state of one of them (which also stamps ``last_state_change``) or by adding or removing tasks, so every
    task's state and stamp tell whether the part changed; besides, the variables of READY engine tasks (a
    supervisor's correction sets them on the task an incident stopped at), the workflow's spec (a migration) and
    its own attributes."""
    tasks = list(workflow.tasks.values())
    states = list(map(_STATE, tasks))
    ready = ([(t.data, tuple(t.data.items())) for t in tasks
              if t._state == TaskState.READY and not t.task_spec.manual] if TaskState.READY in states else None)
    data, correlations = workflow.data, workflow.correlations
    events = getattr(workflow, "bpmn_events", None)
    return (workflow.spec, workflow.completed, workflow.success, workflow.last_task, workflow.task_tree,
            data, len(data), correlations, len(correlations), events, len(events or ()),
            tasks, states, list(map(_STAMP, tasks)), ready)


_FINISHED = TaskState.COMPLETED | TaskState.CANCELLED
_FROZEN = "_eco_frozen"  # attribute of a finished subprocess: (what must stay the same, its fingerprint)
_RESETS = "_eco_resets"  # attribute of a workflow: how many times a finished task was made ready again


def _frozen(sp: Any, resets: int) -> bool:
    """``sp`` is a subprocess found finished (``_subprocess_print``) and nothing that could change it happened."""
    frozen = getattr(sp, _FROZEN, None)
    return frozen is not None and bool(frozen[0] == (sp.spec, sp.completed, len(sp.tasks), resets))


def _subprocess_print(wf: BpmnWorkflow, sp: Any) -> tuple[Any, ...]:
    """A subprocess's fingerprint. A completed subprocess all of whose tasks are finished no longer changes (only
    a reset reopens one: ``reopen_user_task`` counts them; a migration gives it another spec); its fingerprint is
    kept and only those are checked."""
    frozen = getattr(sp, _FROZEN, None)
    guard = (sp.spec, sp.completed, len(sp.tasks), getattr(wf, _RESETS, 0))
    if frozen is not None and frozen[0] == guard:
        return frozen[1]  # type: ignore[no-any-return]
    fingerprint = _part_print(sp)
    if sp.completed and all(t._state & _FINISHED for t in sp.tasks.values()):
        setattr(sp, _FROZEN, (guard, fingerprint))
    return fingerprint


def _fingerprint(wf: BpmnWorkflow) -> dict[Any, tuple[Any, ...]]:
    prints: dict[Any, tuple[Any, ...]] = {None: _part_print(wf)}
    for key, sp in wf.subprocesses.items():
        prints[key] = _subprocess_print(wf, sp)
    return prints


def _top_dict(wf: BpmnWorkflow) -> dict[str, Any]:
    registry = serializer().registry
    dct: dict[str, Any] = _top_converter().to_dict(wf)
    dct["bpmn_events"] = registry.convert(wf.bpmn_events)
    dct["typename"] = registry.typenames[type(wf)]
    return dct


def _share(values: Any, shared: dict[str, str]) -> Any:
    """``values`` (a dict of variables) with each large list or object replaced by a reference into ``shared``."""
    if not isinstance(values, dict):
        return values
    out = {}
    for name, value in values.items():
        if isinstance(value, list | dict) and value:
            text = json.dumps(value, cls=_encoder(), ensure_ascii=False)
            if len(text) >= SHARED_MIN:
                digest = _digest(text.encode("utf-8"))
                shared[digest] = text
                value = {SHARED_REF: digest}
        out[name] = value
    return out


def _subprocess_part(wf: BpmnWorkflow, key: Any, fingerprint: tuple[Any, ...]) -> _Part:
    sp = wf.subprocesses[key]
    dct = serializer().registry.convert(sp)
    shared: dict[str, str] = {}
    dct["data"] = _share(dct["data"], shared)
    for task in dct["tasks"].values():
        task["data"] = _share(task["data"], shared)
        if isinstance(task.get("delta"), dict) and "updates" in task["delta"]:
            task["delta"] = {**task["delta"], "updates": _share(task["delta"]["updates"], shared)}
    raw = json.dumps(dct, cls=_encoder(), ensure_ascii=False).encode("utf-8")
    # The dictionary of this process's subprocesses: the first one written, then again one that has grown by a
    # quarter since (subprocesses gain tasks and variables as the case goes on); parts written with an older one
    # keep it until they change.
    zdicts: dict[str, _Dictionary] = getattr(wf, _ZDICTS, None) or {}
    zdict = zdicts.get(sp.spec.name)
    if zdict is None or len(raw) * 4 > zdict.source * 5:
        sample = raw[-ZDICT_SIZE:]
        zdict = zdicts[sp.spec.name] = _Dictionary(_digest(sample), sample, _pack(sample), len(raw))
        setattr(wf, _ZDICTS, zdicts)
    packer = zlib.compressobj(6, zdict=zdict.data)
    blob = base64.b64encode(packer.compress(raw) + packer.flush()).decode("ascii")
    return _Part(fingerprint, f'"{key}": {{"{ZPART}": "{blob}", "{ZDICT}": "{zdict.digest}"}}', shared, zdict)


def _pack(data: bytes, level: int = 6) -> str:
    return base64.b64encode(zlib.compress(data, level)).decode("ascii")


def _unpack(text: str) -> bytes:
    return zlib.decompress(base64.b64decode(text))


def _top_part(wf: BpmnWorkflow, fingerprint: tuple[Any, ...]) -> _Part:
    """The top workflow's entries of the state: its tasks compressed, but for its first task (whose data are what
    the instance was started with, which ``replay.start_data`` reads)."""
    dct = _top_dict(wf)
    root = dct["root"]
    rest = {task_id: task for task_id, task in dct["tasks"].items() if task_id != root}
    dct["tasks"] = {root: dct["tasks"][root]} if root in dct["tasks"] else {}
    # level 1: the top workflow changes on few steps, but then all its tasks (one per obligor group) are written
    dct[ZTASKS] = _pack(json.dumps(rest, cls=_encoder(), ensure_ascii=False).encode("utf-8"), 1)
    return _Part(fingerprint, json.dumps(dct, cls=_encoder(), ensure_ascii=False)[:-1], {})


def dump_state(wf: BpmnWorkflow) -> str:
    """The instance's state as SpiffWorkflow serializes it, without the specs (they live in the spec bundle), the
    subprocesses compressed and their large values written once; parts unchanged since the last save are not
    serialized again."""
    prints = _fingerprint(wf)
    cached: dict[Any, _Part] = getattr(wf, _PARTS, {})
    parts: dict[Any, _Part] = {}
    registry = serializer().registry
    with _DUMP_LOCK:
        registry._encoder_mode = True
        try:
            for key, fingerprint in prints.items():
                old = cached.get(key)
                if old is not None and old.fingerprint == fingerprint:
                    parts[key] = old
                elif key is None:
                    parts[key] = _top_part(wf, fingerprint)
                else:
                    parts[key] = _subprocess_part(wf, key, fingerprint)
        finally:
            registry._encoder_mode = False
    shared: dict[str, str] = {}
    zdicts: dict[str, str] = {}
    for part in parts.values():
        shared.update(part.shared)
        if part.zdict is not None:
            zdicts[part.zdict.digest] = part.zdict.stored
    subprocesses = ", ".join([part.text for key, part in parts.items() if key is not None])
    values = ", ".join([f'"{digest}": {text}' for digest, text in shared.items()])
    dictionaries = ", ".join([f'"{digest}": "{data}"' for digest, data in zdicts.items()])
    text = (f'{parts[None].text}, "subprocesses": {{{subprocesses}}}, "{SHARED_KEY}": {{{values}}}, '
            f'"{ZDICTS_KEY}": {{{dictionaries}}}, '
            f'"{serializer().VERSION_KEY}": {json.dumps(serializer().VERSION)}}}')
    setattr(wf, _PARTS, parts)
    setattr(wf, _SAVED, (text, prints))
    return text


def _expand(full: dict[str, Any]) -> None:
    """Undo what ``dump_state`` does beyond SpiffWorkflow's own serialization: decompress the subprocesses and put
    a copy of each shared value back where it is referred to."""
    if ZTASKS in full:
        full["tasks"] = {**full.get("tasks", {}), **json.loads(_unpack(full.pop(ZTASKS)))}
    zdicts = {digest: _unpack(data) for digest, data in (full.pop(ZDICTS_KEY, None) or {}).items()}
    subprocesses = full.get("subprocesses") or {}
    for key, sp in subprocesses.items():
        if isinstance(sp, dict) and ZPART in sp:
            unpacker = zlib.decompressobj(zdict=zdicts[sp[ZDICT]])
            subprocesses[key] = json.loads(unpacker.decompress(base64.b64decode(sp[ZPART])) + unpacker.flush())
    shared = full.pop(SHARED_KEY, None)
    if not isinstance(shared, dict) or not shared:
        return
    texts = {digest: json.dumps(value) for digest, value in shared.items()}

    def resolve(values: Any) -> None:
        if not isinstance(values, dict):
            return
        for name, value in values.items():
            if isinstance(value, dict) and len(value) == 1 and value.get(SHARED_REF) in texts:
                values[name] = json.loads(texts[value[SHARED_REF]])

    for sp in subprocesses.values():
        resolve(sp.get("data"))
        for task in (sp.get("tasks") or {}).values():
            resolve(task.get("data"))
            resolve((task.get("delta") or {}).get("updates"))


def load_state(state: str, bundle_specs: str, script_engine: CaseScriptEngine) -> BpmnWorkflow:
    full = json.loads(state)
    _expand(full)
    full.update(json.loads(bundle_specs))
    wf = serializer().deserialize_json(json.dumps(full))
    wf.script_engine = script_engine
    setattr(wf, _SAVED, (state, _fingerprint(wf)))
    return wf


def saved_as(wf: BpmnWorkflow, state: str) -> bool:
    """True when ``state`` is the text the workflow was last saved as (or loaded from) and nothing in it changed
    since: the workflow object may stand for that state in a later transaction."""
    saved: tuple[str, dict[Any, tuple[Any, ...]]] | None = getattr(wf, _SAVED, None)
    if saved is None or not (saved[0] is state or saved[0] == state):
        return False
    return saved[1] == _fingerprint(wf)


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


#: How the engine steps are run: ``do_engine_steps`` below, or (a test comparing the two) the library's own.
EngineSteps = Callable[[BpmnWorkflow, Callable[[Task], None]], None]


def run_engine(wf: BpmnWorkflow, repeat_limit: int = REPEAT_LIMIT, steps: EngineSteps | None = None) -> None:
    """Run every automatic step until the instance waits (for a person, a timer or a message)."""
    steps = steps or do_engine_steps
    runs: dict[tuple[int, str], int] = {}

    def count(task: Task) -> None:
        key = (id(task.workflow), str(task.task_spec.name))
        runs[key] = runs.get(key, 0) + 1
        # A multi-instance runs one element many times side by side; a cycle runs it again below itself.
        if runs[key] > repeat_limit and _repeats_on_its_path(task) > repeat_limit:
            name = task.task_spec.bpmn_name or task.task_spec.name
            raise EngineLoop(f"“{name}”在一次操作中自动执行了超过{repeat_limit}次：流程图中有不经等待环节的循环", task=task)

    steps(wf, count)
    # 3.2 may leave a boundary timer READY after one pass; a second pass runs it.
    steps(wf, count)


def do_engine_steps(wf: BpmnWorkflow, will_complete_task: Callable[[Task], None]) -> None:
    """``BpmnWorkflow.do_engine_steps`` step for step — the same passes, the same tasks run in the same order —
    except that a workflow with no READY engine task in its reach is not walked, and a calling task whose
    subprocess runs on is not asked to update (which does nothing): the library does both for every active
    subprocess on every pass, which grows with the number of obligor groups although one group moves."""
    tree = _tree(wf)
    ready = _ReadyWorkflows(wf, tree)

    def update_workflow(workflow: Any) -> int:
        # workflow.get_tasks(state=READY), user tasks left out (the library passes over them), without the walk
        count = 0
        for task in in_tree_order(wf, ready.tasks_below(workflow), workflow):
            will_complete_task(task)
            task.run()
            count += 1
        if count:
            tree.refresh()  # a task may have started a subprocess
            ready.ran_in(workflow)
        return count

    def one_pass() -> bool:
        tree.refresh()
        active = wf.get_active_subprocesses()
        callers = {id(sp): tree.task(sp.parent_task_id) for sp in active if sp.parent_task_id is not None}
        if not ready.anywhere() and all(_update_does_nothing(callers[id(sp)], sp) for sp in active
                                        if id(sp) in callers):
            return False  # nothing would run and no calling task would change: the pass would do nothing
        for subprocess in sorted(active, key=lambda v: v.depth, reverse=True):
            while ready.below(subprocess):
                if update_workflow(subprocess) == 0:
                    break
            task = callers.get(id(subprocess))
            if task is None or _update_does_nothing(task, subprocess):
                continue
            before = task._state
            task.task_spec._update(task)
            if task._state != before:
                ready.stale = True
        count = update_workflow(wf) if ready.below(wf) else 0
        return count > 0 or len(wf.get_active_subprocesses()) > len(active)

    while one_pass():
        pass
    refresh_timers(wf)


def refresh_timers(wf: BpmnWorkflow) -> None:
    """``BpmnWorkflow.refresh_timers``: every waiting timer is updated (and becomes READY when due), except that a
    date timer that is not due is passed over when updating it would change nothing — the library would merge its
    parent's data into it again (the same values: a timer waits after a finished task) and compare its due time
    with now, for every group's timers on every step."""
    for task in list(wf.event_manager.tasks.values()):
        timer = isinstance(task.task_spec.event_definition, TimerEventDefinition | MultipleEventDefinition)
        if timer and not _timer_update_does_nothing(task):
            task.task_spec._update(task)


_PLAIN_CATCH: dict[type, bool] = {}
_DATE_TIMERS = (TimeDateEventDefinition, DurationTimerEventDefinition)


def _plain_catching_update(spec_type: type) -> bool:
    """Whether updating a task of this spec class runs exactly the library's catching-event update: the data
    inherited, the data inputs, the event checked (no pre-script, no other hook)."""
    plain = _PLAIN_CATCH.get(spec_type)
    if plain is None:
        definers = tuple(k for k in spec_type.__mro__ if "_update_hook" in k.__dict__)
        plain = _PLAIN_CATCH[spec_type] = bool(
            getattr(spec_type, "_update", None) is TaskSpec._update
            and definers == (CatchingEvent, BpmnTaskSpec, TaskSpec))
    return plain


@lru_cache(maxsize=4096)
def _due_moment(value: str) -> Any:
    try:
        return TimerEventDefinition.parse_time_or_duration(value)
    except Exception:
        return None


def _timer_update_does_nothing(task: Task) -> bool:
    spec = task.task_spec
    definition = spec.event_definition
    if type(definition) not in _DATE_TIMERS or task._state != TaskState.WAITING:
        return False
    if not _plain_catching_update(type(spec)) or type(definition).update_task is not EventDefinition.update_task:
        return False
    io = spec.io_specification
    if spec.data_input_associations or (io is not None and io.data_inputs) or spec.update_event.n_subscribers():
        return False
    value = task.internal_data.get("event_value")
    if not isinstance(value, str) or task.internal_data.get("event_fired", False):
        return False
    due = (_due_moment(value) if type(definition) is TimeDateEventDefinition
           else TimerEventDefinition.get_datetime(value))
    if not isinstance(due, datetime) or not due >= timer_module.datetime.now(UTC):
        return False  # due (or not a moment): the library's own update fires it (or reports the error)
    parent = task.parent
    if parent is None:
        return False
    # DeepMerge.merge(task.data, parent.data) changes nothing when every inherited variable is there with an equal
    # value (``==``, as the merge compares them).
    return bool(parent.data.items() <= task.data.items())


_PLAIN_UPDATE: dict[type, bool] = {}


def _plain_subworkflow_update(spec_type: type) -> bool:
    """Whether ``_update`` of this task spec class is the library's own for a subprocess's calling task: with the
    subprocess running, it changes nothing."""
    plain = _PLAIN_UPDATE.get(spec_type)
    if plain is None:
        plain = _PLAIN_UPDATE[spec_type] = bool(
            getattr(spec_type, "_update", None) is TaskSpec._update
            and getattr(spec_type, "_update_hook", None) is SubWorkflowTaskMixin._update_hook)
    return plain


def _update_does_nothing(task: Task, subprocess: Any) -> bool:
    """``task.task_spec._update(task)`` would change nothing: ``task`` calls the running ``subprocess``."""
    return (not subprocess.completed and not task._state & TaskState.PREDICTED_MASK
            and _plain_subworkflow_update(type(task.task_spec)))


class _SubprocessTree:
    """Which workflow holds each subprocess's calling task: what the library's task iterator reaches from a
    workflow (its own tasks and those of the subprocesses below it). Kept with the workflow object; brought up to
    date when its subprocesses change."""

    def __init__(self, wf: BpmnWorkflow) -> None:
        self.wf = wf
        self.seen: list[Any] = []
        self.owner: dict[Any, Any] = {}
        self.children: dict[int, list[Any]] = {}

    def refresh(self) -> None:
        subprocesses = self.wf.subprocesses
        current = list(subprocesses.values())
        if current == self.seen:  # compared by identity: no UUID hashing
            return
        if len(current) < len(self.seen) or current[:len(self.seen)] != self.seen:
            self.seen = []  # one was removed: start again
        if not self.seen:
            self.owner, self.children = {}, {}
            for workflow in [self.wf, *current]:
                for key in workflow.tasks:
                    if key in subprocesses:
                        self.owner[key] = workflow
            added = list(subprocesses.items())
        else:
            workflows = [self.wf, *current]
            added = list(subprocesses.items())[len(self.seen):]
            for key, _ in added:
                owner = next((w for w in workflows if key in w.tasks), None)
                if owner is not None:
                    self.owner[key] = owner
        for key, sp in added:
            if key in self.owner:
                self.children.setdefault(id(self.owner[key]), []).append(sp)
        self.seen = current

    def below(self, workflow: Any) -> list[Any]:
        """``workflow`` and every subprocess below it."""
        found, pending = [], [workflow]
        while pending:
            current = pending.pop()
            found.append(current)
            pending.extend(self.children.get(id(current), ()))
        return found

    def above(self, workflow: Any) -> list[int]:
        """The ids of ``workflow`` and of every workflow above it (to the top)."""
        found: list[int] = []
        current = workflow
        while current is not None and id(current) not in found:
            found.append(id(current))
            caller = getattr(current, "parent_task_id", None)
            current = self.owner.get(caller) if caller is not None else None
        return found

    def task(self, task_id: Any) -> Any:
        """``wf.get_task_from_id`` without trying every subprocess in turn."""
        owner = self.owner.get(task_id)
        task = owner.tasks.get(task_id) if owner is not None else None
        return task if task is not None else self.wf.get_task_from_id(task_id)


_TREE = "_eco_tree"  # attribute of a workflow: its _SubprocessTree


def _tree(wf: BpmnWorkflow) -> _SubprocessTree:
    tree: _SubprocessTree | None = getattr(wf, _TREE, None)
    if tree is None:
        tree = _SubprocessTree(wf)
        setattr(wf, _TREE, tree)
    tree.refresh()
    return tree


_IS_READY = TaskState.READY.__eq__


def _ready_engine_tasks(workflow: Any) -> list[Task]:
    """The READY tasks of ``workflow`` (not below it) that are not user tasks (the states compared at C speed)."""
    tasks = workflow.tasks.values()
    if TaskState.READY not in map(_STATE, tasks):
        return []
    return [t for t in compress(tasks, map(_IS_READY, map(_STATE, tasks))) if not t.task_spec.manual]


class _ReadyWorkflows:
    """The READY tasks that are not user tasks, the workflows holding one and those above them; found again only
    after something ran — and then, for the workflow that ran, only below it, until another is asked about. A
    finished subprocess (all its tasks finished: see ``_subprocess_print``) is passed over."""

    def __init__(self, wf: BpmnWorkflow, tree: _SubprocessTree) -> None:
        self.wf, self.tree = wf, tree
        self.stale = True
        self.ran: Any = None  # the workflow whose tasks ran last (while stale)
        self.reach: set[int] = set()
        self.tasks: list[Task] = []

    def ran_in(self, workflow: Any) -> None:
        self.stale, self.ran = True, workflow

    def below(self, workflow: Any) -> bool:
        """True when such a task lies in ``workflow`` or a subprocess below it (what ``get_tasks`` reaches)."""
        if self.stale and workflow is self.ran:
            return any(_ready_engine_tasks(w) for w in self._workflows(self.tree.below(workflow)))
        return id(workflow) in self._reach()

    def anywhere(self) -> bool:
        return bool(self._reach())

    def tasks_below(self, workflow: Any) -> list[Task]:
        """Such tasks in ``workflow`` and below it (and maybe elsewhere: ``in_tree_order`` keeps those below)."""
        if self.stale and workflow is self.ran:
            return [t for w in self._workflows(self.tree.below(workflow)) for t in _ready_engine_tasks(w)]
        self._reach()
        return self.tasks

    def _workflows(self, workflows: list[Any]) -> list[Any]:
        resets = getattr(self.wf, _RESETS, 0)
        return [w for w in workflows if not _frozen(w, resets)]

    def _reach(self) -> set[int]:
        if self.stale:
            self.reach, self.tasks = set(), []
            for found in self._workflows([self.wf, *self.wf.subprocesses.values()]):
                ready = _ready_engine_tasks(found)
                if ready:
                    self.tasks.extend(ready)
                    self.reach.update(self.tree.above(found))
            self.stale, self.ran = False, None
        return self.reach


def _repeats_on_its_path(task: Task) -> int:
    """How many tasks of the same element lie on the path from the workflow's start to ``task``."""
    name, count, current = task.task_spec.name, 0, task.parent
    while current is not None:
        count += current.task_spec.name == name
        current = current.parent
    return count


def _tasks_in_state(wf: BpmnWorkflow, state: int) -> list[Task]:
    """The tasks of the instance and its subprocesses in ``state``, in no particular order (the states compared at
    C speed)."""
    found: list[Task] = []
    matches = state.__eq__
    resets = getattr(wf, _RESETS, 0)
    for workflow in [wf, *wf.subprocesses.values()]:
        if workflow is not wf and not state & _FINISHED and _frozen(workflow, resets):
            continue  # all its tasks are finished
        tasks = workflow.tasks.values()
        if state in map(_STATE, tasks):
            found.extend(compress(tasks, map(matches, map(_STATE, tasks))))
    return found


#: How deep SpiffWorkflow's task iterator goes below the task it starts from (its ``max_depth``).
ITERATOR_DEPTH = 1000


def in_tree_order(wf: BpmnWorkflow, tasks: Iterable[Task], root: Any = None) -> list[Task]:
    """``tasks`` in the order ``root.get_tasks()`` lists them (``root``: the instance or one of its subprocesses;
    depth first, a subprocess's tasks before the calling task's children), without walking the whole tree; tasks
    that walk would not reach are left out."""
    prefixes: dict[int, tuple[int, ...] | None] = {id(wf): ()}
    tree = _tree(wf)

    def key(task: Task) -> tuple[int, ...] | None:
        path: list[int] = []
        current, workflow = task, task.workflow
        while current._parent is not None:
            parent = workflow.tasks.get(current._parent)
            if parent is None or current.id not in parent._children:
                return None
            path.append(1 + parent._children.index(current.id))
            current = parent
        if current is not workflow.task_tree:
            return None
        if id(workflow) not in prefixes:
            caller = tree.task(workflow.parent_task_id) if workflow.parent_task_id is not None else None
            above = key(caller) if caller is not None and wf.subprocesses.get(caller.id) is workflow else None
            prefixes[id(workflow)] = None if above is None else above + (0,)
        prefix = prefixes[id(workflow)]
        return None if prefix is None else prefix + tuple(reversed(path))

    base = () if root is None or root is wf else key(root.task_tree)
    if base is None:
        return []
    keyed = []
    for task in tasks:
        k = key(task)
        if k is not None and k[:len(base)] == base and len(k) - len(base) <= ITERATOR_DEPTH:
            keyed.append((k, task))
    return [t for _, t in sorted(keyed, key=lambda item: item[0])]


def ready_user_tasks(wf: BpmnWorkflow, ordered: bool = True) -> list[Task]:
    """The READY user tasks of the instance and its subprocesses (``ordered``: as ``get_tasks`` lists them)."""
    found = [t for t in _tasks_in_state(wf, TaskState.READY) if t.task_spec.manual]
    return in_tree_order(wf, found) if ordered else found


def properties(task: Task) -> dict[str, str]:
    props: dict[str, str] = getattr(task.task_spec, "extensions", {}).get("properties", {}) or {}
    return props


def waiting_timers(wf: BpmnWorkflow, ordered: bool = True) -> list[tuple[Task, str]]:
    """(task, due ISO time) for every timer the instance waits on (``ordered``: in the task tree's order)."""
    found = []
    waiting = _tasks_in_state(wf, TaskState.WAITING)
    for task in in_tree_order(wf, waiting) if ordered else waiting:
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
    setattr(wf, _RESETS, getattr(wf, _RESETS, 0) + 1)  # finished subprocesses may change again (_subprocess_print)
    wf.reset_from_task_id(task.id, data=copy.deepcopy(task.data))
