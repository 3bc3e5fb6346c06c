"""The case page (案件详情): summary, current steps, deadlines, the diagram, obligor groups and their obligations,
documents, the messages the case can take now, history and (for supervisors) open incidents."""

from __future__ import annotations

from typing import Any

from flask import Response, flash, jsonify, redirect, render_template, request, url_for

from engine.common.contract import STAGES
from engine.common.errors import Conflict, Forbidden, ValidationFailed
from engine.services import case_messages, cases, directory, documents, incidents, messages, process_models
from engine.services.case_ledger import lead_sources
from web.api.common import attachment

from . import actor, pages, runtime
from .schema_form import build, parse, summary


def _case_page(case_id: int, open_message: str | None = None, message_data: dict[str, Any] | None = None,
               message_errors: dict[str, str] | None = None, message_text: str | None = None) -> str:
    view = cases.get_case(runtime(), actor(), case_id)
    me = actor()
    available = case_messages.available(runtime(), me, case_id)
    for m in available:
        mine = m["name"] == open_message
        m["fields"] = build(m["form"], (message_data or {}) if mine else {}, (message_errors or {}) if mine else {},
                            prefix="")
        m["open"] = mine
        m["error"] = message_text if mine else None
        if m["groups"]:
            m["fields"] = [f for f in m["fields"] if f["name"] != "group"]
    docs = documents.list_for_case(runtime(), me, case_id)
    open_incidents = incidents.open_incidents(runtime(), me, case_id) \
        if me.has("supervisor") or me.has("admin") else []
    stage_index = STAGES.index(view["stage"]) if view["stage"] in STAGES else -1
    history = list(reversed(view["history"]))
    return render_template("case.html", case=view, messages=available, documents=docs, incidents=open_incidents,
                           stages=STAGES, stage_index=stage_index, history=history,
                           sources=lead_sources(runtime()), departments=directory.department_names(runtime()),
                           summary=summary)


@pages.get("/cases/<id:case_id>")
def case(case_id: int) -> str:
    return _case_page(case_id)


@pages.get("/cases/<id:case_id>/diagram.json")
def case_diagram(case_id: int) -> Response:
    return jsonify(process_models.case_diagram(runtime(), actor(), case_id))


@pages.post("/cases/<id:case_id>/messages/<name:name>")
def deliver(case_id: int, name: str) -> Response | tuple[str, int]:
    available = {m["name"]: m for m in case_messages.available(runtime(), actor(), case_id)}
    if name not in available:
        flash("案件当前不能登记该消息（没有等待它的环节），请刷新页面查看。", "error")
        return redirect(url_for("pages.case", case_id=case_id), code=303)  # type: ignore[return-value]
    form = available[name]["form"]
    data = parse(form, request.form)
    if available[name]["groups"] and request.form.get("group", "").isdigit():
        data["group"] = int(request.form["group"])
    try:
        messages.deliver(runtime(), actor(), case_id, name, data)
    except ValidationFailed as exc:
        return _case_page(case_id, name, data, {str(k): str(v) for k, v in exc.fields.items()}, exc.message), 422
    except (Conflict, Forbidden) as exc:
        flash(exc.message, "error")
        return redirect(url_for("pages.case", case_id=case_id), code=303)  # type: ignore[return-value]
    flash(f"已登记：{available[name]['title']}", "success")
    return redirect(url_for("pages.case", case_id=case_id), code=303)  # type: ignore[return-value]


@pages.get("/documents/<id:document_id>.<any(docx, pdf):fmt>")
def download_document(document_id: int, fmt: str) -> Response:
    content, name, mimetype = documents.download(runtime(), actor(), document_id, fmt)
    return attachment(content, name, mimetype, f"document-{document_id}.{fmt}")
