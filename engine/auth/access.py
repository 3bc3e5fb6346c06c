"""Who may see a case and act on a task (the roles of docs/procedure.md; an invisible case is "not found")."""

from __future__ import annotations

from sqlalchemy import ColumnElement, Select, and_, false, or_, select
from sqlalchemy.orm import Session

from engine.common.actor import Actor
from engine.common.errors import Conflict, Forbidden, NotFound
from engine.store.models import Case, CaseDepartment, HumanTask

WIDE_ROLES = ("supervisor", "admin", "system")


def sees_everything(actor: Actor) -> bool:
    return any(actor.has(r) for r in WIDE_ROLES)


def visible_cases(actor: Actor, query: Select[tuple[Case]]) -> Select[tuple[Case]]:
    if sees_everything(actor):
        return query
    participating = select(CaseDepartment.case_id).where(CaseDepartment.department_id == actor.department)
    return query.where(or_(Case.department_id == actor.department, Case.id.in_(participating)))


def case_for(session: Session, actor: Actor, case_id: int) -> Case:
    case = session.get(Case, case_id)
    if case is None or not can_see(session, actor, case):
        raise NotFound("案件不存在")
    return case


def can_see(session: Session, actor: Actor, case: Case) -> bool:
    if sees_everything(actor) or case.department_id == actor.department:
        return True
    return session.get(CaseDepartment, (case.id, actor.department or "")) is not None


def task_visible(session: Session, actor: Actor, task: HumanTask) -> bool:
    if task.case_id is not None:
        case = session.get(Case, task.case_id)
        return case is not None and can_see(session, actor, case)
    return sees_everything(actor) or task.department_id in (None, actor.department)


def visible_tasks(actor: Actor) -> ColumnElement[bool]:
    """:func:`task_visible` as a SQL condition: tasks of cases the actor sees; a task outside any case (the
    periodic screening) by its department."""
    if sees_everything(actor):
        return HumanTask.id.is_not(None)
    cases = visible_cases(actor, select(Case)).with_only_columns(Case.id)
    loose = and_(HumanTask.case_id.is_(None),
                 or_(HumanTask.department_id.is_(None), HumanTask.department_id == actor.department))
    return or_(HumanTask.case_id.in_(cases), loose)


def open_to_group(actor: Actor) -> ColumnElement[bool]:
    """Open, unclaimed and offered to one of the actor's roles in their department (any department for those who
    see every case) — what they may claim; :func:`may_work_on` for one task."""
    if not actor.roles:
        return false()
    group: ColumnElement[bool] = and_(HumanTask.state == "open", HumanTask.assignee.is_(None),
                                      HumanTask.candidate_role.in_(actor.roles))
    if not sees_everything(actor):
        group = and_(group, or_(HumanTask.department_id == actor.department, HumanTask.department_id.is_(None)))
    return group


def task_for(session: Session, actor: Actor, task_id: str) -> HumanTask:
    task = session.get(HumanTask, task_id)
    if task is None or not task_visible(session, actor, task):
        raise NotFound("任务不存在")
    return task


def may_work_on(actor: Actor, task: HumanTask) -> bool:
    if task.assignee == actor.username:
        return True
    if not actor.has(task.candidate_role):
        return False
    return task.department_id is None or task.department_id == actor.department


def check_can_act(actor: Actor, task: HumanTask) -> None:
    """Raise unless ``actor`` may claim or complete ``task`` now."""
    if task.state != "open":
        raise Conflict("该任务已办结或已取消，不能再次办理")
    if task.assignee and task.assignee != actor.username:
        raise Conflict(f"该任务已由 {task.assignee} 签收办理")
    if not may_work_on(actor, task):
        raise Forbidden("您没有办理该任务的权限（角色或部门不符）")
