"""The inbox: list, one task with its form and data, claim, unclaim, complete."""

from __future__ import annotations

from flask import Response

from engine.common.errors import BadRequest
from engine.services import tasks

from . import api
from .common import INT32, actor, arg_choice, arg_int, check_args, json_body, reply, runtime


@api.get("/tasks")
def list_tasks() -> tuple[Response, int]:
    check_args(("scope", "case"))
    scope = arg_choice("scope", ("mine", "group", "all"), "mine")
    return reply(tasks.inbox(runtime(), actor(), scope, arg_int("case", None, 1, INT32)))


@api.get("/tasks/<task_id:task_id>")
def get_task(task_id: str) -> tuple[Response, int]:
    return reply(tasks.get_task(runtime(), actor(), task_id))


@api.post("/tasks/<task_id:task_id>/claim")
def claim_task(task_id: str) -> tuple[Response, int]:
    return reply(tasks.claim(runtime(), actor(), task_id))


@api.post("/tasks/<task_id:task_id>/unclaim")
def unclaim_task(task_id: str) -> tuple[Response, int]:
    return reply(tasks.unclaim(runtime(), actor(), task_id))


@api.post("/tasks/<task_id:task_id>/complete")
def complete_task(task_id: str) -> tuple[Response, int]:
    body = json_body()
    data = body.get("data")
    if not isinstance(data, dict):
        raise BadRequest("请求体应为 {\"data\": {...}}", {"data": "应为 JSON 对象"})
    return reply(tasks.complete(runtime(), actor(), task_id, data))
