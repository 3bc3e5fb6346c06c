"""The inbox (待办 / 已办), one task with its form, claim and unclaim, and registering a lead (登记线索)."""

from __future__ import annotations

from typing import Any

from flask import Response, flash, redirect, render_template, request, url_for

from engine.common.errors import Conflict, Forbidden, ValidationFailed
from engine.services import cases, lead_form, tasks, worklist
from engine.services.case_ledger import STAGE_LABELS
from web.api.common import arg_bool, arg_choice, arg_int, arg_str

from . import actor, pages, runtime, safe_next
from .schema_form import build, parse, summary

PER_PAGE = 20


@pages.get("/")
def home() -> Response:
    return redirect(url_for("pages.inbox"))  # type: ignore[return-value]


@pages.get("/inbox")
def inbox() -> str:
    view = arg_choice("view", worklist.VIEWS, "todo")
    sort = arg_choice("sort", worklist.SORTS, "due")
    page = arg_int("page", 1, 1, 100_000) or 1
    result = worklist.worklist(runtime(), actor(), view=view, step=arg_str("step", 80), stage=arg_str("stage", 40),
                               due_within=arg_int("due", None, 0, 366), overdue=arg_bool("overdue"), sort=sort,
                               page=page, per_page=PER_PAGE)
    args = {k: v for k, v in request.args.items() if k != "page" and v}
    return render_template("inbox.html", result=result, view=view, sort=sort, args=args,
                           pages=max(1, -(-result["total"] // PER_PAGE)), stage_labels=STAGE_LABELS)


def _back_to_inbox() -> Response:
    target = safe_next(request.form.get("next")) or url_for("pages.inbox")
    return redirect(target, code=303)  # type: ignore[return-value]


@pages.post("/tasks/<task_id:task_id>/claim")
def claim(task_id: str) -> Response:
    try:
        item = tasks.claim(runtime(), actor(), task_id)
        flash(f"已签收：{item['title']}", "success")
    except (Conflict, Forbidden) as exc:
        flash(exc.message, "error")
    return _back_to_inbox()


@pages.post("/tasks/<task_id:task_id>/unclaim")
def unclaim(task_id: str) -> Response:
    try:
        item = tasks.unclaim(runtime(), actor(), task_id)
        flash(f"已退回签收：{item['title']}", "success")
    except (Conflict, Forbidden) as exc:
        flash(exc.message, "error")
    return _back_to_inbox()


def _task_page(task: dict[str, Any], data: dict[str, Any], errors: dict[str, str], message: str | None = None,
               conflict: bool = False) -> str:
    case = cases.get_case(runtime(), actor(), task["case_id"]) if task.get("case_id") else None
    me = actor()
    may_act = task["state"] == "open" and not conflict and (
        task["assignee"] in (None, me.username) and (task["assignee"] == me.username or me.has(task["candidate_role"])))
    fields = build(task["form"], data, errors)
    known = _paths(fields)
    loose = {k: v for k, v in errors.items() if k not in known}
    deadlines = [d for d in (case or {}).get("deadlines", []) if d.get("state") in ("running", "paused")]
    return render_template("task.html", task=task, case=case, fields=fields, errors=errors, loose_errors=loose,
                           message=message, conflict=conflict, may_act=may_act, deadlines=deadlines,
                           done_rows=summary(task["form"], task.get("data") or {}) if task["state"] != "open" else [])


def _paths(fields: list[dict[str, Any]]) -> set[str]:
    found: set[str] = set()
    for f in fields:
        found.add(f["name"])
        for item in f.get("items") or []:
            if isinstance(item, list):
                found |= _paths(item)
            else:
                found.add(item["name"])
    return found


@pages.get("/tasks/<task_id:task_id>")
def task(task_id: str) -> str:
    item = tasks.get_task(runtime(), actor(), task_id)
    return _task_page(item, item.get("data") or {}, {})


@pages.post("/tasks/<task_id:task_id>")
def complete(task_id: str) -> Response | tuple[str, int]:
    item = tasks.get_task(runtime(), actor(), task_id)
    data = parse(item["form"], request.form)
    try:
        result = tasks.complete(runtime(), actor(), task_id, data)
    except ValidationFailed as exc:
        return _task_page(item, data, {str(k): str(v) for k, v in exc.fields.items()}, exc.message), 422
    except Conflict as exc:
        fresh = tasks.get_task(runtime(), actor(), task_id)
        if fresh["state"] != "open":
            who = f"（{fresh['assignee'] or ''}）" if fresh.get("assignee") else ""
            text = f"该任务已由他人{who}办结，您填写的内容未提交。请返回待办查看最新情况。"
        else:
            text = exc.message + "。您填写的内容未提交。"
        return _task_page(fresh, data, {}, text, conflict=True), 409
    except Forbidden as exc:
        return _task_page(item, data, {}, exc.message, conflict=True), 403
    flash(f"已办结：{item['title']}", "success")
    if result.get("incident"):
        flash("流程在后续自动环节出现异常，已记录并等待督办人员处理：" + str(result["incident"]["message"]), "warning")
    if item.get("case_id"):
        return redirect(url_for("pages.case", case_id=item["case_id"]), code=303)  # type: ignore[return-value]
    return redirect(url_for("pages.inbox"), code=303)  # type: ignore[return-value]


def _lead_page(info: dict[str, Any], data: dict[str, Any], errors: dict[str, str],
               message: str | None = None) -> str:
    fields = build(info["form"], data, errors)
    for field in fields:
        if field["name"] == "department":
            field["kind"] = "select"
            field["options"] = [(d["id"], d["name"]) for d in info["departments"]]
        if field["name"] == "found_on":
            field["max"] = info["today"]
    known = _paths(fields)
    loose = {k: v for k, v in errors.items() if k not in known}
    return render_template("register_lead.html", fields=fields, errors=errors, loose_errors=loose, message=message)


@pages.get("/leads/new")
def new_lead() -> str:
    info = lead_form.lead_form(runtime(), actor())
    return _lead_page(info, {"department": info["default_department"], "found_on": info["today"]}, {})


@pages.post("/leads/new")
def register_lead() -> Response | tuple[str, int]:
    info = lead_form.lead_form(runtime(), actor())
    data = parse(info["form"], request.form)
    try:
        view = cases.register_lead(runtime(), actor(), data)
    except ValidationFailed as exc:
        return _lead_page(info, data, {str(k): str(v) for k, v in exc.fields.items()}, exc.message), 422
    flash(f"线索已登记：{view['title']}。下一步：线索核查。", "success")
    return redirect(url_for("pages.case", case_id=view["id"]), code=303)  # type: ignore[return-value]
