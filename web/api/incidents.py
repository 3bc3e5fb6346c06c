"""Repairing an incident: correct the process data where the instance stopped, or return the case to a task."""

from __future__ import annotations

from flask import Response

from engine.common.errors import BadRequest
from engine.services import incidents

from . import api
from .common import actor, json_body, reply, runtime


def _text(body: dict[str, object], name: str) -> str:
    value = body.get(name, "")
    if not isinstance(value, str):
        raise BadRequest(f"“{name}”应为文本", {name: "应为文本"})
    return value


@api.post("/incidents/<id:incident_id>/data")
def correct_incident_data(incident_id: int) -> tuple[Response, int]:
    body = json_body()
    return reply(incidents.correct_data(runtime(), actor(), incident_id, body.get("data"), _text(body, "reason")))


@api.post("/incidents/<id:incident_id>/return")
def return_incident_to_task(incident_id: int) -> tuple[Response, int]:
    body = json_body()
    task = body.get("task")
    if task is not None and not isinstance(task, str):
        raise BadRequest("“task”应为任务编号（如 prepare_consultation）", {"task": "应为文本"})
    return reply(incidents.return_to_task(runtime(), actor(), incident_id, task, _text(body, "reason")))
