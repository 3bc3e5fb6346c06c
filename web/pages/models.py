"""The diagram editor (流程设计, ``/models``) for process analysts (and admins): the processes with their versions,
one version opened in the bpmn-js Modeler with the properties panel, and save = validate → replay → deploy.

The page's JavaScript calls the JSON routes below with the session cookie and the page's CSRF token (header
``X-CSRFToken``): the API token in the session is never shown to the page. Each route is one call of
``engine.services.process_models`` / ``engine.services.model_changes``; a domain error comes back as JSON
``{error, message, fields}`` with its HTTP status."""

from __future__ import annotations

import secrets
import threading
import time
from typing import Any

from flask import Response, abort, jsonify, make_response, render_template, request

from engine.common.actor import Actor
from engine.common.contract import STAGES
from engine.common.errors import BadRequest, DomainError
from engine.services import model_changes, process_models
from engine.services.case_ledger import STAGE_LABELS
from engine.store.runtime import Runtime

from . import actor, pages, runtime
from .errors import domain_status
from .labels import ROLES

# The editor's page only: the properties panel's script editors (CodeMirror) add <style> elements at run time, which
# the site's policy (default-src 'self') blocks. Scripts stay 'self' only.
EDITOR_CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; object-src 'none'; "
              "base-uri 'self'; form-action 'self'; frame-ancestors 'none'")


def _allowed() -> None:
    if not (actor().has("analyst") or actor().has("admin")):
        abort(403)


def _choices() -> dict[str, list[dict[str, str]]]:
    """The lists the properties panel offers: candidate roles, the forms of ``bpmn/forms``, the stages."""
    forms_dir = runtime().config.bpmn_dir / "forms"
    forms = sorted(p.stem for p in forms_dir.glob("*.json")) if forms_dir.is_dir() else []
    templates_dir = runtime().config.templates_dir
    documents = []
    for path in sorted(templates_dir.glob("form[0-9]*_*.docx")) if templates_dir.is_dir() else []:
        number = path.stem.split("_", 1)[0].removeprefix("form")
        documents.append({"value": number, "label": f"文书{number}：{path.name}"})
    return {"roles": [{"value": k, "label": f"{v}（{k}）"} for k, v in ROLES.items() if k != "system"],
            "forms": [{"value": f, "label": f} for f in forms],
            "stages": [{"value": s, "label": f"{STAGE_LABELS.get(s, s)}（{s}）"} for s in STAGES],
            "documents": documents}


def _json_error(exc: DomainError) -> tuple[Response, int]:
    return jsonify({"error": exc.code, "message": exc.message,
                    "fields": {str(k): str(v) for k, v in exc.fields.items()}}), domain_status(exc)


def _body() -> dict[str, Any]:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise BadRequest("请求体应为 JSON 对象")
    return body


def _files(body: dict[str, Any]) -> Any:
    files = body.get("files")
    if not isinstance(files, dict):
        raise BadRequest("请给出 files：{流程 id: BPMN XML}", {"files": "应为对象"})
    return files


@pages.get("/models")
def models_page() -> Response:
    _allowed()
    try:
        data = process_models.list_models(runtime(), actor())
        response = make_response(render_template("models.html", models=data["items"], refused=None,
                                                 choices=_choices()), 200)
    except DomainError as exc:
        response = make_response(render_template("models.html", models=[], refused=exc.message, choices={}), domain_status(exc))
    response.headers["Content-Security-Policy"] = EDITOR_CSP
    return response


@pages.get("/models/data")
def models_data() -> tuple[Response, int]:
    _allowed()
    try:
        return jsonify(process_models.list_models(runtime(), actor())), 200
    except DomainError as exc:
        return _json_error(exc)


@pages.get("/models/<name:process_id>/versions/<int:version>.json")
def model_version_data(process_id: str, version: int) -> tuple[Response, int]:
    _allowed()
    try:
        return jsonify(process_models.version_detail(runtime(), actor(), process_id, version)), 200
    except DomainError as exc:
        return _json_error(exc)


@pages.get("/models/<name:process_id>/versions/<int:version>.bpmn")
def model_version_download(process_id: str, version: int) -> Response:
    _allowed()
    try:
        detail = process_models.version_detail(runtime(), actor(), process_id, version)
    except DomainError as exc:
        abort(domain_status(exc))
    response = Response(detail["xml"], mimetype="application/xml")
    response.headers["Content-Disposition"] = f'attachment; filename="{process_id}-v{version}.bpmn"'
    return response


@pages.get("/models/<name:process_id>/diff")
def model_version_diff(process_id: str) -> tuple[Response, int]:
    _allowed()
    try:
        old = request.args.get("from", type=int)
        new = request.args.get("to", type=int)
        return jsonify(model_changes.version_diff(runtime(), actor(), process_id, old, new)), 200
    except DomainError as exc:
        return _json_error(exc)


@pages.post("/models/changes/validate")
def model_change_validate() -> tuple[Response, int]:
    _allowed()
    try:
        problems = model_changes.validate_change(runtime(), actor(), _files(_body()))
    except DomainError as exc:
        return _json_error(exc)
    return jsonify({"problems": problems}), 200


@pages.post("/models/changes/replay")
def model_change_replay() -> tuple[Response, int]:
    """Starts the replay in the background (a thread of this process) and answers with the job to poll: the page
    shows a progress bar from ``GET /models/changes/replay/<job>``, then the report."""
    _allowed()
    try:
        body = _body()
        departments = body.get("departments")
        if departments is not None and not (isinstance(departments, list)
                                            and all(isinstance(d, str) for d in departments)):
            raise BadRequest("departments 应为部门 id 列表", {"departments": "应为字符串数组"})
        files = _files(body)
    except DomainError as exc:
        return _json_error(exc)
    job = _start_replay(runtime(), actor(), files, departments)
    return jsonify({"job": job}), 202


@pages.get("/models/changes/replay/<job>")
def model_change_replay_status(job: str) -> tuple[Response, int]:
    _allowed()
    with _JOBS_LOCK:
        state = _JOBS.get(job)
        if state is None or state["owner"] != actor().username:
            return jsonify({"error": "not_found", "message": "回放任务不存在或已过期", "fields": {}}), 404
        view = {k: state[k] for k in ("done", "total", "finished", "result", "error", "status")}
    return jsonify(view), 200


_JOBS: dict[str, dict[str, Any]] = {}
_JOBS_LOCK = threading.Lock()
#: finished replay jobs are forgotten after this many seconds
JOB_KEEP = 3600


def _start_replay(eng: Runtime, who: Actor, files: Any, departments: list[str] | None) -> str:
    job = secrets.token_urlsafe(12)
    now = time.monotonic()
    with _JOBS_LOCK:
        for key in [k for k, v in _JOBS.items() if v["finished"] and now - v["at"] > JOB_KEEP]:
            del _JOBS[key]
        _JOBS[job] = {"owner": who.username, "done": 0, "total": None, "finished": False, "result": None,
                      "error": None, "status": 200, "at": now}

    def progress(done: int, total: int) -> None:
        with _JOBS_LOCK:
            _JOBS[job].update(done=done, total=total)

    def run() -> None:
        result: Any = None
        error: dict[str, Any] | None = None
        status = 200
        try:
            result = model_changes.replay_change(eng, who, files, departments, progress)
        except DomainError as exc:
            error = {"error": exc.code, "message": exc.message,
                     "fields": {str(k): str(v) for k, v in exc.fields.items()}}
            status = domain_status(exc)
        except Exception as exc:  # noqa: BLE001  (reported to the page; the thread must not die silently)
            error = {"error": "internal", "message": f"回放失败：{type(exc).__name__}", "fields": {}}
            status = 500
        with _JOBS_LOCK:
            _JOBS[job].update(finished=True, result=result, error=error, status=status, at=time.monotonic())

    threading.Thread(target=run, name=f"model-replay-{job}", daemon=True).start()
    return job


@pages.post("/models/changes/deploy")
def model_change_deploy() -> tuple[Response, int]:
    _allowed()
    try:
        body = _body()
        replay_id = body.get("replay_id")
        if replay_id is not None and (not isinstance(replay_id, int) or isinstance(replay_id, bool)):
            raise BadRequest("replay_id 应为整数", {"replay_id": "应为整数"})
        return jsonify(model_changes.deploy_change(runtime(), actor(), _files(body), replay_id)), 201
    except DomainError as exc:
        return _json_error(exc)
