"""Read models: the shapes the API gives a case and an inbox item (docs/api.md), built from the projection tables."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.calendar import deadlines
from engine.common import clock
from engine.common.actor import Actor
from engine.services import obligations
from engine.store.models import AuditEvent, Case, Document, HumanTask, Incident, Obligor, ObligorGroup


def has_open_incident(session: Session, case_id: int) -> bool:
    return session.execute(select(Incident.id).where(Incident.case_id == case_id, Incident.resolved_at.is_(None))
                           .limit(1)).first() is not None


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
    session.flush()
    return {
        "id": case.id, "number": case.number, "title": case.title, "stage": case.stage, "status": case.status,
        "department": case.department_id, "lead_source": case.lead_source, "description": case.description,
        "location": case.location, "found_on": case.found_on.isoformat(), "overdue": case.overdue,
        "has_incident": has_open_incident(session, case.id),
        "participants": [p.department_id for p in case.participants],
        "obligors": [obligor_dict(o) for o in case.obligors],
        "groups": groups_of(session, case.id),
        "tasks": case_tasks(session, case.id),
        "deadlines": deadlines.for_case(session, case.id),
        "documents": documents_of(session, case.id),
        "history": history(session, case.id),
        "variables": case.variables,
    }


def obligor_dict(o: Obligor) -> dict[str, Any]:
    return {"id": o.id, "name": o.name, "kind": o.kind, "uscc": o.uscc, "id_number": o.id_number,
            "address": o.address, "legal_representative": o.legal_representative, "position": o.position,
            "work_unit": o.work_unit, "contact": o.contact, "group": o.group_no, "released": o.released}


def case_tasks(session: Session, case_id: int) -> list[dict[str, Any]]:
    rows = session.execute(select(HumanTask).where(HumanTask.case_id == case_id, HumanTask.state == "open")
                           .order_by(HumanTask.created_at, HumanTask.id)).scalars()
    return [task_item(session, t) for t in rows]


def groups_of(session: Session, case_id: int) -> list[dict[str, Any]]:
    case = session.get(Case, case_id)
    recorded = ((case.variables or {}).get("groups") or {}) if case is not None else {}
    today = clock.today()
    out = []
    for g in session.execute(select(ObligorGroup).where(ObligorGroup.case_id == case_id)
                             .order_by(ObligorGroup.group_no)).scalars():
        names = [o.name for o in session.execute(select(Obligor).where(
            Obligor.case_id == case_id, Obligor.group_no == g.group_no).order_by(Obligor.position_no)).scalars()]
        out.append({"id": g.group_no, "obligors": names, "stage": g.stage, "outcome": g.outcome,
                    "failure_reason": g.failure_reason,
                    "obligations": obligations.for_group(recorded.get(str(g.group_no)) or {}, today)})
    return out


def documents_of(session: Session, case_id: int) -> list[dict[str, Any]]:
    rows = session.execute(select(Document).where(Document.case_id == case_id).order_by(Document.id)).scalars()
    return [{"id": d.id, "form": d.form, "title": d.title, "version": d.version, "group": d.group_no,
             "filename": d.filename, "created_at": d.created_at.isoformat(), "created_by": d.created_by,
             "task": d.task} for d in rows]
