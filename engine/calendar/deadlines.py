"""Legal periods on a case: computed with the legal calendar, paused and resumed, closed when met."""

from __future__ import annotations

from collections import namedtuple
from datetime import date
from functools import lru_cache
from typing import Any

from sqlalchemy import inspect, select
from sqlalchemy.orm import Session

from engine.calendar.holidays import day_table
from engine.calendar.legal_calendar import DueDate, compute_due, expires_at
from engine.common import clock
from engine.common.dates import as_date
from engine.common.errors import ValidationFailed
from engine.store.models import Deadline


def _as_date(value: Any, what: str) -> date:
    try:
        return as_date(value)
    except ValueError as exc:
        raise ValidationFailed(f"{what}不是有效日期：{value!r}", {what: "日期无效"}) from exc


_COLUMNS = ("id", "name", "label", "due_on", "basis", "paused_days", "state", "provisional", "start_event", "start_on",
            "length", "unit", "group_no")


_Stored = namedtuple("_Stored", _COLUMNS)  # type: ignore[misc]


@lru_cache(maxsize=8192)
def _stored_view(values: tuple[Any, ...]) -> dict[str, Any]:
    """``_view`` of a stored row given as its column values (the same values, the same view; copy before use)."""
    stored: Any = _Stored(*values)
    return _view(stored)


def _view(row: Deadline) -> dict[str, Any]:
    moment = expires_at(_due_of(row))
    return {"name": row.name, "label": row.label, "due_on": row.due_on.isoformat(), "expires_at": moment.isoformat(),
            "basis": row.basis, "paused_days": row.paused_days, "state": row.state,
            "provisional": row.provisional}


def _due_of(row: Deadline) -> DueDate:
    return DueDate(name=row.name, due_on=row.due_on, start_event=row.start_event, start_on=row.start_on,
                   length=row.length, unit="working" if row.unit == "working" else "calendar",
                   paused_days=row.paused_days, rolled_from=None, provisional=row.provisional, basis=row.basis)


def _find(session: Session, case_id: int, name: str, group_no: int | None) -> Deadline | None:
    return session.execute(
        select(Deadline).where(Deadline.case_id == case_id, Deadline.name == name, Deadline.group_no == group_no)
        .order_by(Deadline.id.desc()).limit(1)).scalar()


def compute(session: Session, case_id: int, group_no: int | None, name: str, label: str, event: str,
            start: Any, length: int, unit: str) -> dict[str, Any]:
    """A period of ``length`` days after ``start`` (the start day not counted), rolled past rest days."""
    start_on = _as_date(start, label)
    due = compute_due(name, event, start_on, int(length), day_table(session),
                      unit="working" if unit == "working" else "calendar")
    row = _find(session, case_id, name, group_no)
    if row is None or row.state == "met":
        row = Deadline(case_id=case_id, group_no=group_no, name=name)
        session.add(row)
    row.label, row.start_event, row.start_on, row.length, row.unit = label, event, start_on, int(length), unit
    row.due_on, row.basis, row.paused_days, row.provisional, row.state = (
        due.due_on, due.basis, 0, due.provisional, "running")
    row.paused_since = None
    session.flush()
    return _view(row)


def fixed(session: Session, case_id: int, group_no: int | None, name: str, label: str, event: str,
          due_on: Any) -> dict[str, Any]:
    """A due date fixed by a document (the reply date of a notice, a due date of an agreement)."""
    day = _as_date(due_on, label)
    row = _find(session, case_id, name, group_no)
    if row is None or row.state == "met":
        row = Deadline(case_id=case_id, group_no=group_no, name=name)
        session.add(row)
    row.label, row.start_event, row.start_on, row.length, row.unit = label, event, day, 0, "calendar"
    row.due_on, row.basis, row.paused_days, row.provisional, row.state = (
        day, f"{event}：{day.isoformat()}", 0, False, "running")
    session.flush()
    return _view(row)


def pause(session: Session, case_id: int, group_no: int | None, name: str) -> dict[str, Any]:
    row = _find(session, case_id, name, group_no)
    if row is None:
        raise ValidationFailed(f"期限 {name} 不存在，无法暂停", {"name": name})
    if row.paused_since is None:
        row.paused_since = clock.today()
        row.state = "paused"
    return _view(row)


def resume(session: Session, case_id: int, group_no: int | None, name: str, reason: str = "鉴定评估") -> dict[str, Any]:
    """End a pause: the due date moves by the paused days, recomputed with the calendar, and the basis says so."""
    row = _find(session, case_id, name, group_no)
    if row is None:
        raise ValidationFailed(f"期限 {name} 不存在，无法恢复", {"name": name})
    if row.paused_since is not None:
        paused = (clock.today() - row.paused_since).days
        total = row.paused_days + paused
        due = compute_due(row.name, row.start_event, row.start_on, row.length, day_table(session),
                          unit="working" if row.unit == "working" else "calendar",
                          paused_days=total, pause_reason=reason)
        row.paused_days, row.due_on, row.basis, row.provisional = total, due.due_on, due.basis, due.provisional
        row.paused_since = None
        row.state = "running"
    return _view(row)


def close(session: Session, case_id: int, group_no: int | None, name: str) -> dict[str, Any]:
    row = _find(session, case_id, name, group_no)
    if row is None:
        return {"name": name, "state": "none"}
    if row.state in ("running", "paused"):
        row.state = "met" if clock.today() <= row.due_on else "lapsed"
    return _view(row)


def for_case(session: Session, case_id: int) -> list[dict[str, Any]]:
    """Every period of the case, oldest first (read as columns: the case view asks for it after every step)."""
    today = clock.today()
    out = []
    columns = Deadline.__table__.c
    held = {}
    for obj in session.identity_map.values():
        identity = inspect(obj).identity if isinstance(obj, Deadline) else None
        if identity is not None:
            held[identity[0]] = obj
    query = select(*(columns[name] for name in _COLUMNS)).where(Deadline.case_id == case_id).order_by(Deadline.id)
    for found in session.execute(query):
        row: Any = held.get(found.id)  # a row this transaction wrote reads as written
        if row is None:
            row = found
            view = dict(_stored_view(tuple(found)))
        else:
            view = _view(row)
        view["group"] = row.group_no
        view["overdue"] = row.state == "running" and today > row.due_on
        out.append(view)
    return out


def any_overdue(session: Session, case_id: int) -> bool:
    today = clock.today()
    return session.execute(select(Deadline.id).where(
        Deadline.case_id == case_id, Deadline.state == "running", Deadline.due_on < today).limit(1)).first() is not None
