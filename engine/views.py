"""Read models: the shapes API.md gives a case and an inbox item (built from the projection tables)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from . import clock, deadlines
from .models import AuditEvent, Case, HumanTask
from .runtime import Actor


def task_item(session: Session, t: HumanTask) -> dict[str, Any]:
    number = None
    if t.case_id is not None:
        case = session.get(Case, t.case_id)
        number = case.number if case else None
    return {"id": t.id, "case_id": t.case_id, "case_number": number, "task": t.bpmn_id, "title": t.title,
            "assignee": t.assignee, "candidate_role": t.candidate_role, "department": t.department_id,
            "group": t.group_no, "stage": t.stage, "state": t.state,
            "created_at": t.created_at.isoformat(), "due_at": t.due_at.isoformat() if t.due_at else None,
            "overdue": bool(t.due_at and t.state == "open" and clock.now() >= t.due_at)}


def history(session: Session, case_id: int) -> list[dict[str, Any]]:
    rows = session.execute(select(AuditEvent).where(AuditEvent.case_id == case_id).order_by(AuditEvent.id)).scalars()
    return [{"at": r.at.isoformat(), "who": r.who, "event": r.event, "task": r.task, "title": r.title,
             "detail": r.detail} for r in rows]


def case_view(session: Session, actor: Actor, case: Case) -> dict[str, Any]:
    from .cases import case_tasks, documents_of, groups_of, obligor_dict

    session.flush()
    return {
        "id": case.id, "number": case.number, "title": case.title, "stage": case.stage, "status": case.status,
        "department": case.department_id, "lead_source": case.lead_source, "description": case.description,
        "location": case.location, "found_on": case.found_on.isoformat(), "overdue": case.overdue,
        "participants": [p.department_id for p in case.participants],
        "obligors": [obligor_dict(o) for o in case.obligors],
        "groups": groups_of(session, case.id),
        "tasks": case_tasks(session, case.id),
        "deadlines": deadlines.for_case(session, case.id),
        "documents": documents_of(session, case.id),
        "history": history(session, case.id),
        "variables": case.variables,
    }
