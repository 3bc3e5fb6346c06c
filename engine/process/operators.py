"""Service-task operators: the mechanisms a diagram's service tasks call by name (``serviceTaskOperator``).

The diagram decides when (which element) and with what parameters; these functions only do the work.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime, time
from typing import Any

from SpiffWorkflow.task import Task
from sqlalchemy import select

from engine.calendar import deadlines
from engine.common import clock
from engine.common.contract import group_of
from engine.documents.render import InvalidDocumentData, MissingDocumentData
from engine.documents.store import generate
from engine.process.workflow import Operator, OperatorError
from engine.store import audit
from engine.store.models import Case, Document, Notification, Obligor, ObligorGroup
from engine.store.numbering import next_case_number
from engine.store.settings import case_number_format


def render_for_task(run: Any, form: int, task: Task) -> Document:
    """Generate form ``form`` for the run's case from ``task``'s data; a missing or bad value is the operator's
    failure (an incident naming the field), not a crash."""
    if run.case is None:
        raise OperatorError("文书只能为案件生成")
    try:
        return generate(run.session, run.runtime.config.templates_dir, run.case, form, dict(task.data),
                        task.task_spec.name, run.actor.username)
    except (MissingDocumentData, InvalidDocumentData) as exc:
        raise OperatorError(str(exc)) from exc


def build_operators(current: Callable[[], Any]) -> dict[str, Operator]:
    """The registry, bound to the running use case (``current()`` returns its :class:`instances.Run`)."""

    def case_of(run: Any) -> Case:
        if run.case is None:
            raise OperatorError("该服务任务需要案件，但流程实例不属于任何案件")
        return run.case  # type: ignore[no-any-return]

    def compute_deadline(task: Task, p: dict[str, Any]) -> Any:
        run = current()
        return deadlines.compute(run.session, case_of(run).id, group_of(task.data), p["name"], p["label"], p["event"],
                                 p["start"], int(p["length"]), p.get("unit", "calendar"))

    def fixed_deadline(task: Task, p: dict[str, Any]) -> Any:
        run = current()
        return deadlines.fixed(run.session, case_of(run).id, group_of(task.data), p["name"], p["label"], p["event"],
                               p["due_on"])

    def pause_deadline(task: Task, p: dict[str, Any]) -> Any:
        run = current()
        return deadlines.pause(run.session, case_of(run).id, group_of(task.data), p["name"])

    def resume_deadline(task: Task, p: dict[str, Any]) -> Any:
        run = current()
        return deadlines.resume(run.session, case_of(run).id, group_of(task.data), p["name"])

    def close_deadline(task: Task, p: dict[str, Any]) -> Any:
        """Close one period, or several (``name`` a list); the result is the first one's view."""
        run = current()
        names = p["name"] if isinstance(p["name"], list) else [p["name"]]
        views = [deadlines.close(run.session, case_of(run).id, group_of(task.data), str(n)) for n in names]
        return views[0]

    def assign_case_number(task: Task, p: dict[str, Any]) -> Any:
        run = current()
        case = case_of(run)
        if case.number is None:
            fmt = case_number_format(run.session, run.runtime.config.case_number_format)
            case.number = next_case_number(run.session, case.department_id, clock.today().year, fmt)
            audit.record(run.session, who=run.actor.username, event_name="note", case_id=case.id,
                         task=task.task_spec.name, title=f"案件编号：{case.number}", detail={"number": case.number})
        return case.number

    def render_document(task: Task, p: dict[str, Any]) -> Any:
        run = current()
        doc = render_for_task(run, int(p["form"]), task)
        return {"id": doc.id, "version": doc.version, "form": doc.form}

    def notify(task: Task, p: dict[str, Any]) -> Any:
        run = current()
        case = run.case
        note = Notification(role=p["role"], department_id=None if p["role"] == "supervisor" else
                            (case.department_id if case else None), at=clock.now(), kind=p.get("kind", "report"),
                            case_id=case.id if case else None, text=str(p["text"]))
        run.session.add(note)
        audit.record(run.session, who=run.actor.username, event_name="note", case_id=case.id if case else None,
                     task=task.task_spec.name, title=str(p["text"]), detail={"to": p["role"]})
        return {"notified": p["role"], "at": note.at.isoformat()}

    def form_obligor_groups(task: Task, p: dict[str, Any]) -> Any:
        run = current()
        case = case_of(run)
        groups: dict[int, list[str]] = {}
        for ob in run.session.execute(select(Obligor).where(Obligor.case_id == case.id, Obligor.released.is_(False))
                                      .order_by(Obligor.position_no)).scalars():
            groups.setdefault(ob.group_no, []).append(ob.name)
        if not groups:
            raise OperatorError("案件没有未免除责任的赔偿义务人，无法开展磋商")
        for no in groups:
            if run.session.get(ObligorGroup, (case.id, no)) is None:
                run.session.add(ObligorGroup(case_id=case.id, group_no=no, stage="consultation"))
        return [{"id": no, "obligors": names} for no, names in sorted(groups.items())]

    def update_group(task: Task, p: dict[str, Any]) -> Any:
        run = current()
        no = group_of(task.data)
        if no is None:
            raise OperatorError("update_group 只能在赔偿义务人组内使用")
        row = run.session.get(ObligorGroup, (case_of(run).id, no))
        if row is None:
            row = ObligorGroup(case_id=case_of(run).id, group_no=no)
            run.session.add(row)
        if "outcome" in p:
            row.outcome = p["outcome"]
        if "failure_reason" in p:
            row.failure_reason = p["failure_reason"]
        if p.get("outcome") == "closed":
            row.stage = "closed"
        return {"group": no, "outcome": row.outcome, "failure_reason": row.failure_reason}

    def next_cycle(task: Task, p: dict[str, Any]) -> Any:
        """The next moment of a calendar cycle drawn in the diagram: ``every`` ``P<n>M`` months from this one, on
        day ``day`` (default 1) at ``at`` (local, default 09:00)."""
        return next_cycle_moment(clock.today(), str(p.get("every", "P1M")), int(p.get("day", 1)),
                                 str(p.get("at", "09:00"))).isoformat()

    def pending_leads(task: Task, p: dict[str, Any]) -> Any:
        run = current()
        rows = run.session.execute(select(Case).where(
            Case.department_id == run.instance.department_id, Case.status == "open", Case.stage == "lead")
            .order_by(Case.id)).scalars()
        return [{"case_id": c.id, "title": c.title, "found_on": c.found_on.isoformat()} for c in rows]

    return {
        "compute_deadline": compute_deadline, "fixed_deadline": fixed_deadline, "pause_deadline": pause_deadline,
        "resume_deadline": resume_deadline, "close_deadline": close_deadline,
        "assign_case_number": assign_case_number, "render_document": render_document, "notify": notify,
        "form_obligor_groups": form_obligor_groups, "update_group": update_group, "next_cycle": next_cycle,
        "pending_leads": pending_leads,
    }


def next_cycle_moment(today: date, every: str, day: int, at: str) -> datetime:
    """The first moment after ``today`` of the cycle "every ``P<n>M`` months on ``day`` at ``at``" (local time)."""
    match = re.fullmatch(r"P([1-9][0-9]?)M", every)
    if match is None:
        raise OperatorError(f"周期应为 P<月数>M，例如 P1M：{every!r}")
    if not 1 <= day <= 28:
        raise OperatorError(f"周期的日期应在 1–28 日之间：{day}")
    try:
        moment = time.fromisoformat(at)
    except ValueError as exc:
        raise OperatorError(f"周期的时刻应为 HH:MM：{at!r}") from exc
    months = today.year * 12 + today.month - 1 + int(match.group(1))
    target = date(months // 12, months % 12 + 1, day)
    return datetime.combine(target, moment, tzinfo=clock.LOCAL_TZ)
