"""Reminders before due dates and overdue flags after them: notifications to the task's people and the supervisor.

How many days ahead to warn is a setting (``reminder_days``: deadline name → days, ``"*"`` for the rest);
defaults (docs/procedure.md): 7 days before the 90-day consultation end, 2 days before the reply deadline.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from engine.common import clock
from engine.store import audit
from engine.store.models import Case, Deadline, HumanTask, Notification, Setting
from engine.store.runtime import Runtime

DEFAULT_REMINDER_DAYS: dict[str, int] = {"consultation": 7, "obligor_reply": 2, "*": 3}


def reminder_days(session: Session) -> dict[str, int]:
    row = session.get(Setting, "reminder_days")
    configured = row.value if row is not None and isinstance(row.value, dict) else {}
    return {**DEFAULT_REMINDER_DAYS, **{str(k): int(v) for k, v in configured.items()}}


def _recipients(session: Session, deadline: Deadline, case: Case) -> list[dict[str, Any]]:
    """The people of the open tasks this deadline governs (assignee, else role in department) and the supervisor."""
    out: list[dict[str, Any]] = []
    tasks = session.execute(select(HumanTask).where(
        HumanTask.case_id == case.id, HumanTask.state == "open", HumanTask.group_no == deadline.group_no)).scalars()
    for task in tasks:
        if task.assignee:
            out.append({"username": task.assignee, "task_id": task.id})
        else:
            out.append({"role": task.candidate_role, "department_id": task.department_id, "task_id": task.id})
    if not out:
        out.append({"role": "officer", "department_id": case.department_id, "task_id": None})
    out.append({"role": "supervisor", "department_id": None, "task_id": None})
    return out


def scan(runtime: Runtime) -> dict[str, int]:
    """One pass over running deadlines: warn once when within the warning window, flag once when passed."""
    today = clock.today()
    counts = {"reminders": 0, "overdue": 0}
    with runtime.db.transaction() as s:
        days = reminder_days(s)
        running = s.execute(select(Deadline).where(Deadline.state.in_(("running", "paused")))).scalars().all()
        for deadline in running:
            case = s.get(Case, deadline.case_id)
            if case is None or case.status != "open":
                continue
            if deadline.state == "running" and today > deadline.due_on and not deadline.overdue_notified:
                deadline.overdue_notified = True
                _notify(s, deadline, case, "overdue", f"已逾期：{case.number or case.title}「{deadline.label}」"
                        f"届满日 {deadline.due_on.isoformat()}（{deadline.basis}）")
                counts["overdue"] += 1
                continue
            warn = days.get(deadline.name, days["*"])
            if (deadline.reminded_on is None and deadline.state == "running"
                    and deadline.due_on - timedelta(days=warn) <= today <= deadline.due_on):
                deadline.reminded_on = today
                _notify(s, deadline, case, "reminder", f"即将到期：{case.number or case.title}「{deadline.label}」"
                        f"将于 {deadline.due_on.isoformat()} 届满")
                counts["reminders"] += 1
        late = select(Deadline.case_id).where(Deadline.state == "running", Deadline.due_on < today)
        s.execute(update(Case).where(Case.overdue.is_(False), Case.status == "open", Case.id.in_(late))
                  .values(overdue=True), execution_options={"synchronize_session": False})
        s.execute(update(Case).where(Case.overdue.is_(True), Case.id.not_in(late))
                  .values(overdue=False), execution_options={"synchronize_session": False})
    return counts


def _notify(session: Session, deadline: Deadline, case: Case, kind: str, text: str) -> None:
    now = clock.now()
    for to in _recipients(session, deadline, case):
        session.add(Notification(username=to.get("username"), role=to.get("role"), department_id=to.get("department_id"),
                                 at=now, kind=kind, case_id=case.id, task_id=to.get("task_id"), text=text))
    audit.record(session, who="system", event_name="note", case_id=case.id, title=text,
                 detail={"deadline": deadline.name, "kind": kind, "due_on": deadline.due_on.isoformat()})
