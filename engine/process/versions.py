"""Versions of a process: a readable diff between two diagrams, and moving running instances to the latest version.

**Diff** (:func:`diff_xml`). Read from the XML, element by element (the flow elements of the process and of its
subprocesses, sequence flows included), so it speaks the analyst's language: an element is added, removed, or
changed in its name, type, properties (``spiffworkflow:properties``), operator and operator parameters, condition,
script, pre/post script, timer, message, called process, boundary attachment, connections or loop settings. The
layout (``bpmndi``) is not part of the procedure and is left out; a new version that only moved shapes says so.

**Migration** (:func:`check_migration`, :func:`migrate`). SpiffWorkflow's ``diff_workflow`` aligns the instance's
tasks with the new specs; an instance may move only when no element it has reached (completed, ready, waiting,
running, failed) was changed or removed — what it has not reached yet may change freely — when every called process
it is running still exists, and when it has no open incident. ``migrate_workflow`` then swaps the specs and
re-predicts the open branches; the open tasks keep their ids (so the inbox rows stay), their data and their timers'
due moments (a reset would otherwise re-base a cycle or duration timer on "now"). No operator runs: the legal
deadlines (the ``deadlines`` table) stay as they are.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from lxml import etree
from SpiffWorkflow.bpmn.util.diff import SpecDiff, diff_workflow, migrate_workflow
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState

from engine.process.workflow import safe_parser, serializer

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
SPIFF = "http://spiffworkflow.org/bpmn/schema/1.0/core"

#: The tags that are flow elements of a process (or subprocess); everything else inside them is a facet.
FLOW_ELEMENTS = frozenset({
    "task", "userTask", "serviceTask", "scriptTask", "manualTask", "sendTask", "receiveTask", "businessRuleTask",
    "callActivity", "subProcess", "transaction", "adHocSubProcess", "startEvent", "endEvent",
    "intermediateCatchEvent", "intermediateThrowEvent", "boundaryEvent", "exclusiveGateway", "parallelGateway",
    "inclusiveGateway", "eventBasedGateway", "complexGateway", "sequenceFlow", "dataObject", "dataObjectReference",
    "dataStoreReference", "textAnnotation", "association",
})
TYPE_LABELS = {
    "userTask": "用户任务", "serviceTask": "服务任务", "scriptTask": "脚本任务", "manualTask": "手工任务",
    "callActivity": "调用活动", "subProcess": "子流程", "startEvent": "开始事件", "endEvent": "结束事件",
    "intermediateCatchEvent": "中间捕获事件", "intermediateThrowEvent": "中间抛出事件", "boundaryEvent": "边界事件",
    "exclusiveGateway": "排他网关", "parallelGateway": "并行网关", "inclusiveGateway": "包容网关",
    "eventBasedGateway": "事件网关", "sequenceFlow": "连线", "task": "任务", "sendTask": "发送任务",
    "receiveTask": "接收任务", "businessRuleTask": "业务规则任务", "dataObject": "数据对象",
    "dataObjectReference": "数据对象引用", "textAnnotation": "注释", "association": "关联",
}
FACET_LABELS = {
    "name": "名称", "type": "类型", "condition": "条件", "script": "脚本", "pre_script": "前置脚本",
    "post_script": "后置脚本", "operator": "服务任务操作", "result_variable": "结果变量", "timer": "定时器",
    "message": "消息", "event": "事件定义", "called": "调用的流程", "attached_to": "附着于",
    "cancel_activity": "中断所附着的任务", "source": "起点", "target": "终点", "default": "默认连线",
    "incoming": "流入连线", "outgoing": "流出连线", "documentation": "说明",
}


def _local(tag: Any) -> str:
    return etree.QName(tag).localname if isinstance(tag, str) else ""


def _text(node: Any) -> str:
    return (node.text or "").strip() if node is not None else ""


def _facets(el: Any) -> dict[str, str]:
    """The procedure-relevant facets of one flow element, as readable key → text."""
    out: dict[str, str] = {"type": _local(el.tag), "name": str(el.get("name") or "")}
    for attr, key in (("sourceRef", "source"), ("targetRef", "target"), ("attachedToRef", "attached_to"),
                      ("calledElement", "called"), ("default", "default"), ("cancelActivity", "cancel_activity")):
        if el.get(attr) is not None:
            out[key] = str(el.get(attr))
    for attr, value in el.attrib.items():
        name = _local(attr)
        if name not in ("id", "name", "sourceRef", "targetRef", "attachedToRef", "calledElement", "default",
                        "cancelActivity"):
            out[f"attribute:{name}"] = str(value)
    incoming = sorted(_text(n) for n in el.findall(f"{{{BPMN}}}incoming"))
    outgoing = sorted(_text(n) for n in el.findall(f"{{{BPMN}}}outgoing"))
    if incoming:
        out["incoming"] = "、".join(incoming)
    if outgoing:
        out["outgoing"] = "、".join(outgoing)
    for child in el:
        tag = _local(child.tag)
        if tag == "conditionExpression":
            out["condition"] = _text(child)
        elif tag == "script":
            out["script"] = _text(child)
        elif tag == "documentation":
            out["documentation"] = _text(child)
        elif tag == "extensionElements":
            out.update(_extensions(child))
        elif tag.endswith("EventDefinition"):
            out.update(_event_definition(child))
        elif tag in ("multiInstanceLoopCharacteristics", "standardLoopCharacteristics"):
            out.update(_loop(child))
    return out


def _extensions(node: Any) -> dict[str, str]:
    out: dict[str, str] = {}
    for ext in node:
        tag = _local(ext.tag)
        if tag == "properties":
            for prop in ext:
                if _local(prop.tag) == "property":
                    out[f"property:{prop.get('name')}"] = str(prop.get("value") or _text(prop))
        elif tag == "serviceTaskOperator":
            out["operator"] = str(ext.get("id") or "")
            if ext.get("resultVariable") is not None:
                out["result_variable"] = str(ext.get("resultVariable"))
            for param in ext.iter(f"{{{SPIFF}}}parameter"):
                out[f"parameter:{param.get('id')}"] = str(param.get("value") or "")
        elif tag == "preScript":
            out["pre_script"] = _text(ext)
        elif tag == "postScript":
            out["post_script"] = _text(ext)
        elif isinstance(ext.tag, str):
            out[f"extension:{tag}"] = etree.tostring(ext, encoding="unicode").strip()
    return out


def _event_definition(node: Any) -> dict[str, str]:
    tag = _local(node.tag)
    if tag == "timerEventDefinition":
        parts = [f"{_local(c.tag)}: {_text(c)}" for c in node if isinstance(c.tag, str)]
        return {"timer": "；".join(parts)}
    if tag == "messageEventDefinition":
        return {"message": str(node.get("messageRef") or "")}
    detail = " ".join(f"{_local(k)}={v}" for k, v in node.attrib.items() if _local(k) != "id")
    return {"event": (tag + (" " + detail if detail else "")).strip()}


def _loop(node: Any) -> dict[str, str]:
    out = {"loop": _local(node.tag) + (" sequential" if node.get("isSequential") == "true" else "")}
    for child in node:
        if not isinstance(child.tag, str):
            continue
        out[f"loop:{_local(child.tag)}"] = _text(child) or str(child.get("name") or child.get("id") or "")
    return out


def elements(xml: str) -> tuple[str, str, dict[str, dict[str, str]]]:
    """(process id, process name, element id → facets) of a one-process diagram."""
    root = etree.fromstring(xml.encode("utf-8"), parser=safe_parser())
    process = root.find(f"{{{BPMN}}}process")
    if process is None:
        return "", "", {}
    found: dict[str, dict[str, str]] = {}

    def walk(container: Any, parent: str | None) -> None:
        for child in container:
            tag = _local(child.tag)
            if tag not in FLOW_ELEMENTS or child.get("id") is None:
                continue
            facets = _facets(child)
            if parent is not None:
                facets["in"] = parent
            found[str(child.get("id"))] = facets
            if tag in ("subProcess", "transaction", "adHocSubProcess"):
                walk(child, str(child.get("id")))

    walk(process, None)
    return str(process.get("id") or ""), str(process.get("name") or ""), found


def _label(key: str) -> str:
    if key in FACET_LABELS:
        return FACET_LABELS[key]
    kind, _, name = key.partition(":")
    return {"property": f"属性 {name}", "parameter": f"服务任务参数 {name}", "attribute": f"XML 属性 {name}",
            "extension": f"扩展 {name}", "loop": f"多实例 {name}", "in": "所在子流程"}.get(kind, key)


def _summary(element_id: str, facets: dict[str, str]) -> dict[str, str]:
    kind = facets.get("type", "")
    return {"id": element_id, "type": kind, "type_label": TYPE_LABELS.get(kind, kind), "name": facets.get("name", "")}


def diff_xml(old: str, new: str) -> dict[str, Any]:
    """What changed from ``old`` to ``new`` (one process each), element by element, in readable form."""
    _, old_name, before = elements(old)
    _, new_name, after = elements(new)
    added = [_summary(i, after[i]) for i in after if i not in before]
    removed = [_summary(i, before[i]) for i in before if i not in after]
    changed = []
    for element_id, facets in after.items():
        if element_id not in before:
            continue
        previous = before[element_id]
        changes = [{"field": key, "label": _label(key), "before": previous.get(key), "after": facets.get(key)}
                   for key in sorted(set(previous) | set(facets)) if previous.get(key) != facets.get(key)]
        if changes:
            changed.append({**_summary(element_id, facets), "changes": changes})
    process_changes = ([{"field": "name", "label": "流程名称", "before": old_name, "after": new_name}]
                       if old_name != new_name else [])
    same = not (added or removed or changed or process_changes)
    return {"added": added, "removed": removed, "changed": changed, "process_changes": process_changes,
            "identical": same and old == new, "layout_only": same and old != new}


# ---------------------------------------------------------------------------------------------------------------
# Migration of a running instance
# ---------------------------------------------------------------------------------------------------------------

#: Task states of elements an instance has reached (a reached element must not have changed).
REACHED = (TaskState.COMPLETED, TaskState.READY, TaskState.WAITING, TaskState.STARTED, TaskState.ERROR)
#: Spec attributes, as SpiffWorkflow names them, in words.
SPEC_FIELDS = {
    "bpmn_name": "名称", "typename": "类型", "outputs": "流出连线", "inputs": "流入连线", "extensions": "属性",
    "cond_task_specs": "条件", "default_task_spec": "默认连线", "script": "脚本", "prescript": "前置脚本",
    "postscript": "后置脚本", "operation_name": "服务任务操作", "operation_params": "服务任务参数",
    "result_variable": "结果变量", "event_definition": "事件定义", "spec": "调用的流程", "cancel_activity": "中断",
    "description": "说明", "data_input_associations": "输入数据", "data_output_associations": "输出数据",
}


@dataclass
class MigrationCheck:
    """Whether one instance can move to the target specs, why not, and what lies ahead of it that changes."""

    process: str
    movable: bool
    reasons: list[str] = field(default_factory=list)
    ahead: list[str] = field(default_factory=list)


def _name(spec: Any) -> str:
    return str(getattr(spec, "bpmn_name", None) or spec.name)


def _state_word(task: Any) -> str:
    return "已完成" if task.state == TaskState.COMPLETED else "正在进行"


def check_migration(wf: BpmnWorkflow, new_spec: Any, new_subs: dict[str, Any]) -> MigrationCheck:
    """Compare the instance with the target specs (``diff_workflow``): movable when nothing it reached changed."""
    registry = serializer().registry
    top, sub_diffs = diff_workflow(registry, wf, new_spec, new_subs)
    check = MigrationCheck(process=str(wf.spec.name), movable=True)
    pairs: list[tuple[Any, Any, Any]] = [(wf, top, new_spec)]
    for sp_id, sp in wf.subprocesses.items():
        diff = sub_diffs.get(sp_id)
        if diff is None:
            check.reasons.append(f"正在运行的调用流程“{sp.spec.name}”在新版本中不存在")
            continue
        pairs.append((sp, diff, new_subs[sp.spec.name]))
    diffs: dict[str, SpecDiff] = {}

    def spec_diff(old: Any, new: Any) -> SpecDiff:
        if old.name not in diffs:
            diffs[old.name] = SpecDiff(registry, old, new)
        return diffs[old.name]

    for workflow, diff, target in pairs:
        for task in diff.removed:
            if task.state in REACHED:
                check.reasons.append(f"{_state_word(task)}的环节“{_name(task.task_spec)}”在新版本中被删除")
        for task in diff.changed:
            if task.state not in REACHED:
                continue
            changed = spec_diff(workflow.spec, target).changed.get(task.task_spec, [])
            fields = "、".join(dict.fromkeys(SPEC_FIELDS.get(f, f) for f in changed))
            check.reasons.append(f"{_state_word(task)}的环节“{_name(task.task_spec)}”在新版本中被修改"
                                 + (f"（{fields}）" if fields else ""))
    specs = [(wf.spec, new_spec), *((old, new_subs[name]) for name, old in wf.subprocess_specs.items()
                                    if name in new_subs)]
    for old, new in specs:
        where = "" if old is wf.spec else f"{old.name}："
        whole = spec_diff(old, new)
        check.ahead.extend(f"{where}新增“{_name(s)}”" for s in whole.added if _is_element(s))
        check.ahead.extend(f"{where}删除“{_name(s)}”" for s in whole.removed if _is_element(s))
        check.ahead.extend(f"{where}修改“{_name(s)}”" for s in whole.changed if _is_element(s))
    check.reasons = list(dict.fromkeys(check.reasons))
    check.ahead = list(dict.fromkeys(check.ahead))
    check.movable = not check.reasons
    return check


def _is_element(spec: Any) -> bool:
    """A diagram element (not one of the engine's helper specs such as ``Start`` or ``x.BoundaryEventSplit``)."""
    return bool(getattr(spec, "bpmn_id", None))


def migrate(wf: BpmnWorkflow, new_spec: Any, new_subs: dict[str, Any]) -> list[str]:
    """Move the instance onto the target specs (``migrate_workflow``), keeping the open tasks' data and the due
    moments of the timers it waits on; returns the ids of the predicted tasks the library dropped."""
    registry = serializer().registry
    top, sub_diffs = diff_workflow(registry, wf, new_spec, new_subs)
    kept = {task.id: (task.task_spec.name, copy.deepcopy(task.data), copy.deepcopy(task.internal_data))
            for task in wf.get_tasks(state=TaskState.READY | TaskState.WAITING)}
    dropped = [str(t.id) for t in migrate_workflow(top, wf, new_spec)]
    for sp_id, sp in wf.subprocesses.items():
        diff = sub_diffs.get(sp_id)
        if diff is not None:
            dropped.extend(str(t.id) for t in migrate_workflow(diff, sp, new_subs[sp.spec.name]))
    wf.subprocess_specs = new_subs
    for task in wf.get_tasks(state=TaskState.READY | TaskState.WAITING):
        before = kept.get(task.id)
        if before is None or before[0] != task.task_spec.name:
            continue
        task.data = before[1]
        if before[2].get("event_value") is not None:  # a timer keeps the moment it was due
            task.internal_data = before[2]
    return dropped
