"""Cases: register a lead, the ledger, one case, deliver a message, its documents, diagram and audit trail."""

from __future__ import annotations

from flask import Response, request, url_for

from engine.services import case_audit, case_ledger, cases, messages, process_models
from engine.services.case_ledger import LedgerFilter

from . import api
from .common import actor, arg_bool, arg_int, arg_str, attachment, check_args, json_body, reply, runtime


@api.post("/cases")
def create_case() -> tuple[Response, int]:
    view = cases.register_lead(runtime(), actor(), json_body())
    response, status = reply(view, 201)
    response.headers["Location"] = url_for("api.get_case", case_id=view["id"])
    return response, status


@api.get("/cases")
def list_cases() -> tuple[Response, int]:
    check_args(("stage", "department", "overdue", "q", "status", "source", "year", "has_incident", "sort", "page",
                "per_page"))
    ledger_filter = LedgerFilter(
        stage=arg_str("stage", 40), status=arg_str("status", 30), department=arg_str("department", 40),
        source=arg_str("source", 40), year=arg_int("year", None, 2000, 2100), overdue=arg_bool("overdue"),
        has_incident=arg_bool("has_incident"), q=arg_str("q", 100))
    result = case_ledger.search(runtime(), actor(), ledger_filter, sort=arg_str("sort", 10) or "new",
                                page=arg_int("page", 1, 1, 100_000) or 1, per_page=arg_int("per_page", 20, 1, 200) or 20)
    result.pop("departments", None)
    return reply(result)


@api.get("/cases/<id:case_id>")
def get_case(case_id: int) -> tuple[Response, int]:
    return reply(cases.get_case(runtime(), actor(), case_id))


@api.post("/cases/<id:case_id>/messages/<name:name>")
def deliver_message(case_id: int, name: str) -> tuple[Response, int]:
    return reply(messages.deliver(runtime(), actor(), case_id, name, json_body()), 202)


@api.get("/cases/<id:case_id>/documents")
def case_documents(case_id: int) -> tuple[Response, int]:
    return reply(cases.case_documents(runtime(), actor(), case_id))


@api.get("/cases/<id:case_id>/diagram")
def case_diagram(case_id: int) -> tuple[Response, int]:
    return reply(process_models.case_diagram(runtime(), actor(), case_id))


@api.get("/cases/<id:case_id>/audit")
def case_audit_trail(case_id: int) -> tuple[Response, int] | Response:
    check_args(("format",))
    fmt = request.args.get("format", "json")
    if fmt == "csv":
        text, name = case_audit.case_audit_csv(runtime(), actor(), case_id)
        return attachment(text.encode("utf-8"), name, "text/csv", f"audit-{case_id}.csv")
    if fmt != "json":
        from engine.common.errors import BadRequest

        raise BadRequest("参数 format 无效", {"format": "可选：json、csv"})
    return reply(case_audit.case_audit(runtime(), actor(), case_id))
