"""Read models: the shapes the API gives a case and an inbox item (docs/api.md), built from the projection tables.

A case's view is the reply of every completed task, so it is read with plain column queries (no ORM objects, no
document contents) and one query per list, whatever the number of obligor groups; rows this transaction wrote
are taken from the session as they are, as the ORM would.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import func, inspect, select
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
    return _task_item(t, number)


def _task_item(t: Any, number: str | None, now: datetime | None = None) -> dict[str, Any]:
    return {"id": t.id, "case_id": t.case_id, "case_number": number, "task": t.bpmn_id, "title": t.title,
            "assignee": t.assignee, "candidate_role": t.candidate_role, "department": t.department_id,
            "group": t.group_no, "stage": t.stage, "state": t.state,
            "created_at": t.created_at.isoformat(), "due_at": t.due_at.isoformat() if t.due_at else None,
            "overdue": bool(t.due_at and t.state == "open" and (now or clock.now()) >= t.due_at)}


def _held(session: Session, model: type[Any]) -> dict[Any, Any]:
    """The session's objects of ``model`` by primary key."""
    found = {}
    for obj in session.identity_map.values():
        if isinstance(obj, model):
            identity = inspect(obj).identity
            if identity is not None:
                found[identity[0]] = obj
    return found


def in_session(session: Session, model: type[Any], rows: Iterable[Any]) -> Iterator[Any]:
    """Each row of a column query on ``model``'s table (with its ``id``), or the session's own object for that row
    when the session holds one (what it wrote in this transaction reads as written)."""
    held = _held(session, model)
    for row in rows:
        yield held.get(row.id, row)


class _KeptRows:
    """Rows of a case that are only ever added, never changed or removed (audit events, generated documents), as
    reply items, kept between requests; only rows after the last kept one are read. Only rows committed before
    this transaction's own (its uncommitted ones are not kept)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.entries: OrderedDict[tuple[str, str, int], tuple[Any, tuple[dict[str, Any], ...]]] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key: tuple[str, str, int]) -> tuple[Any, tuple[dict[str, Any], ...]] | None:
        with self.lock:
            return self.entries.get(key)

    def put(self, key: tuple[str, str, int], mark: Any, items: list[dict[str, Any]]) -> None:
        with self.lock:
            self.entries.pop(key, None)
            self.entries[key] = (mark, tuple(items))
            while len(self.entries) > self.size:
                self.entries.popitem(last=False)


_KEPT = _KeptRows(128)


def _key(session: Session, kind: str, case_id: int) -> tuple[str, str, int]:
    return session.get_bind().engine.url.render_as_string(), kind, case_id


def history(session: Session, case_id: int) -> list[dict[str, Any]]:
    """The case's audit events, oldest first. The items' ``detail`` objects are shared between calls: read them,
    do not change them. Kept rows are still right when the database still has the last of them with the same
    hash: each row's hash covers every row before it."""
    key = _key(session, "history", case_id)
    after, items = 0, []
    kept = _KEPT.get(key)
    if kept is not None and session.execute(
            select(AuditEvent.hash).where(AuditEvent.id == kept[0][0])).scalar() == kept[0][1]:
        after, items = kept[0][0], list(kept[1])
    held = _held(session, AuditEvent)
    own = min(held, default=None)  # this transaction's first event: it and what follows are not committed
    last: tuple[int, str, int] | None = None
    rows = session.execute(select(AuditEvent.id, AuditEvent.hash, AuditEvent.at, AuditEvent.who, AuditEvent.event,
                                  AuditEvent.task, AuditEvent.title, AuditEvent.detail)
                           .where(AuditEvent.case_id == case_id, AuditEvent.id > after).order_by(AuditEvent.id))
    for found in rows:
        r = held.get(found.id, found)
        items.append({"at": r.at.isoformat(), "who": r.who, "event": r.event, "task": r.task, "title": r.title,
                      "detail": r.detail})
        if own is None or found.id < own:
            last = (found.id, found.hash, len(items))
    if last is not None:
        _KEPT.put(key, (last[0], last[1]), items[:last[2]])
    return [dict(item) for item in items]


_DOCUMENT_COLUMNS = (Document.id, Document.form, Document.title, Document.version, Document.group_no,
                     Document.filename, Document.created_at, Document.created_by, Document.task)


def _document_item(d: Any) -> dict[str, Any]:
    return {"id": d.id, "form": d.form, "title": d.title, "version": d.version, "group": d.group_no,
            "filename": d.filename, "created_at": d.created_at.isoformat(), "created_by": d.created_by,
            "task": d.task}


def documents_of(session: Session, case_id: int) -> list[dict[str, Any]]:
    """The case's documents, oldest first (a document is never changed: a new version is a new one). Kept items
    are still right when the case still has as many documents up to the last kept one, that one unchanged."""
    key = _key(session, "documents", case_id)
    after, items = 0, []
    kept = _KEPT.get(key)
    if kept is not None:
        last_id, count, last_item = kept[0]
        found = session.execute(select(func.count(Document.id), func.max(Document.id)).where(
            Document.case_id == case_id, Document.id <= last_id)).one()
        row = session.execute(select(*_DOCUMENT_COLUMNS).where(Document.id == last_id)).first()
        if tuple(found) == (count, last_id) and row is not None and _document_item(row) == last_item:
            after, items = last_id, list(kept[1])
    held = _held(session, Document)
    own = min(held, default=None)  # this transaction's first document: it and what follows are not committed
    last: tuple[int, int] | None = None
    rows = session.execute(select(*_DOCUMENT_COLUMNS).where(Document.case_id == case_id, Document.id > after)
                           .order_by(Document.id))
    for found_row in rows:
        items.append(_document_item(held.get(found_row.id, found_row)))
        if own is None or found_row.id < own:
            last = (found_row.id, len(items))
    if last is not None:
        _KEPT.put(key, (last[0], last[1], items[last[1] - 1]), items[:last[1]])
    return [dict(item) for item in items]


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
    case = session.get(Case, case_id)
    number = case.number if case else None
    rows = session.execute(select(HumanTask.id, HumanTask.case_id, HumanTask.bpmn_id, HumanTask.title,
                                  HumanTask.assignee, HumanTask.candidate_role, HumanTask.department_id,
                                  HumanTask.group_no, HumanTask.stage, HumanTask.state, HumanTask.created_at,
                                  HumanTask.due_at)
                           .where(HumanTask.case_id == case_id, HumanTask.state == "open")
                           .order_by(HumanTask.created_at, HumanTask.id))
    now = clock.now()
    return [_task_item(t, number, now) for t in in_session(session, HumanTask, rows)]


def groups_of(session: Session, case_id: int) -> list[dict[str, Any]]:
    case = session.get(Case, case_id)
    recorded = ((case.variables or {}).get("groups") or {}) if case is not None else {}
    today = clock.today()
    names: dict[int, list[str]] = {}
    for group_no, name in session.execute(select(Obligor.group_no, Obligor.name).where(Obligor.case_id == case_id)
                                          .order_by(Obligor.position_no)):
        names.setdefault(group_no, []).append(name)
    out = []
    groups = session.execute(select(ObligorGroup.group_no, ObligorGroup.stage, ObligorGroup.outcome,
                                    ObligorGroup.failure_reason)
                             .where(ObligorGroup.case_id == case_id).order_by(ObligorGroup.group_no)).all()
    held = {key[1]: obj for obj in session.identity_map.values()
            if isinstance(obj, ObligorGroup) and (key := inspect(obj).identity) is not None and key[0] == case_id}
    for found in groups:
        g = held.get(found.group_no, found)  # a group this transaction wrote reads as written
        out.append({"id": g.group_no, "obligors": names.get(g.group_no, []), "stage": g.stage, "outcome": g.outcome,
                    "failure_reason": g.failure_reason,
                    "obligations": obligations.for_group(recorded.get(str(g.group_no)) or {}, today)})
    return out


