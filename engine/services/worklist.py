"""The officer's worklist for the pages: the header's counts, and the inbox (待办 / 已办) filtered, sorted and paged.

The open tasks are those of ``tasks.inbox`` ``mine`` plus ``group`` (assigned to me, or open to one of my roles in
my department and not yet claimed), among the cases the actor may see (``engine.auth.access``); the completed ones
are those the actor completed. Filtering and counting happen in SQL, so a long inbox costs one query per page.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, or_, select

from engine.auth import access
from engine.common import clock
from engine.common.actor import Actor
from engine.common.errors import BadRequest
from engine.services.notifications import _addressed_to
from engine.store.models import Case, Department, HumanTask, Notification
from engine.store.runtime import Runtime

VIEWS = ("todo", "done")
SORTS = ("due", "created", "case")
MAX_PER_PAGE = 100


def _visible(actor: Actor) -> ColumnElement[bool]:
    return access.visible_tasks(actor)


def _open_to(actor: Actor) -> ColumnElement[bool]:
    """Assigned to the actor, or unclaimed and open to one of their roles (in their department)."""
    return or_(and_(HumanTask.state == "open", HumanTask.assignee == actor.username), access.open_to_group(actor))


def header(runtime: Runtime, actor: Actor) -> dict[str, Any]:
    """What the page header shows: the person, their department's name, open tasks and unread notifications."""
    with runtime.db.transaction() as s:
        department = s.get(Department, actor.department) if actor.department else None
        tasks = s.execute(select(func.count(HumanTask.id)).where(_open_to(actor), _visible(actor))).scalar_one()
        unread = s.execute(select(func.count(Notification.id)).where(
            _addressed_to(actor), Notification.read.is_(False))).scalar_one()
        return {"username": actor.username, "display_name": actor.display_name or actor.username,
                "roles": list(actor.roles), "department": actor.department,
                "department_name": department.name if department else None,
                "open_tasks": int(tasks), "unread_notifications": int(unread)}


def _due_on(due_at: datetime | None) -> date | None:
    """The last day of a task's period: ``due_at`` is 00:00 (Asia/Shanghai) of the day after it."""
    if due_at is None:
        return None
    return (due_at.astimezone(clock.LOCAL_TZ) - timedelta(microseconds=1)).date()


def _item(t: HumanTask, case: Case | None, actor: Actor, today: date, now: datetime) -> dict[str, Any]:
    due_on = _due_on(t.due_at)
    return {"id": t.id, "task": t.bpmn_id, "title": t.title, "stage": t.stage, "group": t.group_no,
            "state": t.state, "assignee": t.assignee, "candidate_role": t.candidate_role,
            "department": t.department_id, "mine": t.assignee == actor.username,
            "case_id": t.case_id, "case_number": case.number if case else None,
            "case_title": case.title if case else None, "case_stage": case.stage if case else None,
            "created_at": t.created_at.isoformat(),
            "completed_at": t.completed_at.isoformat() if t.completed_at else None,
            "due_at": t.due_at.isoformat() if t.due_at else None,
            "due_on": due_on.isoformat() if due_on else None,
            "days_left": (due_on - today).days if due_on else None,
            "overdue": bool(t.due_at and t.state == "open" and now >= t.due_at)}


def worklist(runtime: Runtime, actor: Actor, view: str = "todo", step: str | None = None, stage: str | None = None,
             due_within: int | None = None, overdue: bool | None = None, sort: str = "due",
             page: int = 1, per_page: int = 20) -> dict[str, Any]:
    """``todo``: my open tasks and those open to my role; ``done``: tasks I completed (newest first by default).

    ``due_within`` keeps tasks due within that many days (overdue ones included); ``overdue`` only those past due.
    The result also lists the steps and stages present (for the filter choices) and the counts of both views."""
    if view not in VIEWS:
        raise BadRequest("参数 view 无效", {"view": "可选：" + "、".join(VIEWS)})
    if sort not in SORTS:
        raise BadRequest("参数 sort 无效", {"sort": "可选：" + "、".join(SORTS)})
    page, per_page = max(1, page), min(max(1, per_page), MAX_PER_PAGE)
    now, today = clock.now(), clock.today()
    with runtime.db.transaction() as s:
        todo_where = and_(_open_to(actor), _visible(actor))
        done_where = and_(HumanTask.state == "completed", HumanTask.completed_by == actor.username, _visible(actor))
        base_where = todo_where if view == "todo" else done_where
        counts = {"todo": s.execute(select(func.count(HumanTask.id)).where(todo_where)).scalar_one(),
                  "done": s.execute(select(func.count(HumanTask.id)).where(done_where)).scalar_one()}
        steps = [{"task": bpmn_id, "title": title} for bpmn_id, title in s.execute(
            select(HumanTask.bpmn_id, HumanTask.title).where(base_where).distinct()
            .order_by(HumanTask.bpmn_id)).all()]
        stages = sorted({row for row in s.execute(select(HumanTask.stage).where(base_where).distinct()).scalars()
                         if row})
        query: Select[HumanTask, Case] = (
            select(HumanTask, Case).join(Case, Case.id == HumanTask.case_id, isouter=True).where(base_where))
        if step:
            query = query.where(HumanTask.bpmn_id == step)
        if stage:
            query = query.where(HumanTask.stage == stage)
        if overdue:
            query = query.where(HumanTask.due_at.is_not(None), HumanTask.due_at <= now)
        elif overdue is False:
            query = query.where(or_(HumanTask.due_at.is_(None), HumanTask.due_at > now))
        if due_within is not None:
            # due on or before today + N: the period ends at 00:00 (Asia/Shanghai) of the day after its last day
            limit = datetime.combine(today + timedelta(days=max(0, due_within) + 1), time(0), tzinfo=clock.LOCAL_TZ)
            query = query.where(HumanTask.due_at.is_not(None), HumanTask.due_at <= limit)
        total = s.execute(select(func.count()).select_from(query.subquery())).scalar_one()
        if sort == "created":
            order: list[Any] = [HumanTask.created_at.desc(), HumanTask.id]
        elif sort == "case":
            order = [Case.number.is_(None), Case.number, Case.id, HumanTask.created_at]
        elif view == "done":
            order = [HumanTask.completed_at.desc(), HumanTask.id]
        else:
            order = [HumanTask.due_at.is_(None), HumanTask.due_at, HumanTask.created_at, HumanTask.id]
        rows = s.execute(query.order_by(*order).offset((page - 1) * per_page).limit(per_page)).all()
        items = [_item(t, c, actor, today, now) for t, c in rows]
        return {"view": view, "items": items, "total": int(total), "page": page, "per_page": per_page,
                "counts": {k: int(v) for k, v in counts.items()}, "steps": steps, "stages": stages}
