"""Process models (analysts): list with versions, one version with its XML, upload a new version."""

from __future__ import annotations

from flask import Response, request

from engine.common.errors import BadRequest
from engine.services import process_models

from . import api
from .common import actor, reply, runtime

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
