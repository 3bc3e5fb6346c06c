"""Messages from outside (a court's notice, an obligor's request) as SpiffWorkflow events: find who waits for
one, aim it at one obligor group's workflow, deliver it."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from SpiffWorkflow.bpmn.util.event import BpmnEvent
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.exceptions import WorkflowException
from SpiffWorkflow.spiff.specs.event_definitions import MessageEventDefinition

from engine.common.contract import group_of


def message_event(name: str, payload: dict[str, Any]) -> BpmnEvent:
    return BpmnEvent(MessageEventDefinition(name), payload=dict(payload))


def waiting_groups(wf: BpmnWorkflow, event: BpmnEvent) -> list[int]:
    """The obligor groups whose workflow waits for ``event``."""
    groups = {group_of(task.data) for task in wf.event_manager.tasks.values() if task.task_spec.catches(task, event)}
    return sorted(g for g in groups if g is not None)


def awaited(wf: BpmnWorkflow, names: Iterable[str]) -> dict[str, list[int]]:
    """The messages among ``names`` the workflow waits for now, each with the obligor groups waiting for it (empty
    when the wait is not a group's). Read only: nothing is delivered."""
    found: dict[str, set[int | None]] = {}
    events = {name: message_event(name, {}) for name in names}
    for task in wf.event_manager.tasks.values():
        for name, event in events.items():
            if task.task_spec.catches(task, event):
                found.setdefault(name, set()).add(group_of(task.data))
    return {name: sorted(g for g in groups if g is not None) for name, groups in found.items()}


def aim_at_group(wf: BpmnWorkflow, event: BpmnEvent, group: int) -> bool:
    """Target the event at the obligor group's own waiting workflow, so other groups do not catch it too."""
    for task in wf.event_manager.tasks.values():
        if group_of(task.data) == group and task.task_spec.catches(task, event):
            event.target = task.workflow
            return True
    return False


def send(wf: BpmnWorkflow, event: BpmnEvent) -> bool:
    """Deliver ``event``; False when nothing in the workflow waits for it."""
    try:
        wf.send_event(event)
    except WorkflowException:
        return False
    return True
