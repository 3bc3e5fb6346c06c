"""Process models (analysts): list with versions, one version with its XML, upload a new version; a change validated,
replayed against past cases and deployed; the diff of two versions; migration of running cases."""

from __future__ import annotations

from typing import Any

from flask import Response, request

from engine.common.errors import BadRequest, ValidationFailed
from engine.services import model_changes, process_models

from . import api
from .common import actor, arg_int, check_args, json_body, reply, runtime

UPLOAD_LIMIT = 5 * 1024 * 1024


@api.get("/process-models")
def list_process_models() -> tuple[Response, int]:
    return reply(process_models.list_models(runtime(), actor()))


@api.get("/process-models/<name:process_id>/versions/<id:version>")
def process_model_version(process_id: str, version: int) -> tuple[Response, int]:
    return reply(process_models.version_detail(runtime(), actor(), process_id, version))


@api.post("/process-models")
def upload_process_model() -> tuple[Response, int]:
    if request.mimetype != "multipart/form-data":
        raise BadRequest("请以 multipart/form-data 上传 .bpmn 文件（字段名 file）", {"Content-Type": "应为 multipart/form-data"})
    request.max_content_length = UPLOAD_LIMIT
    upload = request.files.get("file")
    if upload is None:
        raise BadRequest("缺少上传文件（字段名 file）", {"file": "缺少文件"})
    content = upload.read(process_models.MAX_UPLOAD + 1)
    result = process_models.upload(runtime(), actor(), upload.filename or "", content)
    return reply(result, 201 if result["created"] else 200)


def _files(body: dict[str, Any]) -> dict[str, Any]:
    files = body.get("files")
    if not isinstance(files, dict):
        raise BadRequest("请给出 files：{流程 id: BPMN XML}", {"files": "应为对象"})
    return files


@api.post("/process-models/changes/validate")
def validate_model_change() -> tuple[Response, int]:
    problems = model_changes.validate_change(runtime(), actor(), _files(json_body()))
    if problems:
        fields: dict[str, str] = {}
        for p in problems:
            key = f"{p['process']}.{p['element']}"
            fields[key] = f"{fields[key]}；{p['message']}" if key in fields else p["message"]
        raise ValidationFailed(f"流程图校验未通过（{len(problems)}处）：{problems[0]['message']}", fields)
    return reply({"problems": []})


@api.post("/process-models/changes/replay")
def replay_model_change() -> tuple[Response, int]:
    body = json_body()
    departments = body.get("departments")
    if departments is not None and not (isinstance(departments, list) and all(isinstance(d, str) for d in departments)):
        raise BadRequest("departments 应为部门 id 列表", {"departments": "应为字符串数组"})
    return reply(model_changes.replay_change(runtime(), actor(), _files(body), departments))


@api.post("/process-models/changes/deploy")
def deploy_model_change() -> tuple[Response, int]:
    body = json_body()
    replay_id = body.get("replay_id")
    if replay_id is not None and (not isinstance(replay_id, int) or isinstance(replay_id, bool)):
        raise BadRequest("replay_id 应为整数", {"replay_id": "应为整数"})
    return reply(model_changes.deploy_change(runtime(), actor(), _files(body), replay_id), 201)


@api.get("/process-models/<name:process_id>/diff")
def diff_process_model(process_id: str) -> tuple[Response, int]:
    check_args(("from", "to"))
    old, new = arg_int("from", None, 1, 2**31 - 1), arg_int("to", None, 1, 2**31 - 1)
    return reply(model_changes.version_diff(runtime(), actor(), process_id, old, new))


@api.post("/process-models/migrations/preview")
def preview_migration() -> tuple[Response, int]:
    return reply(model_changes.migration_preview(runtime(), actor(), json_body().get("cases")))


@api.post("/process-models/migrations")
def migrate_cases() -> tuple[Response, int]:
    return reply(model_changes.migrate_cases(runtime(), actor(), json_body().get("cases")))
