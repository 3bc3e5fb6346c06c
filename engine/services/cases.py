"""Use cases on cases: register a lead (starts the process), transfer a lead (§16), read a case and the ledger."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.auth import access
from engine.common import clock
from engine.common.actor import Actor
from engine.common.contract import CASE_PROCESS
from engine.common.dates import as_date
from engine.common.errors import Forbidden, NotFound, ValidationFailed
from engine.forms import schemas
from engine.process.instances import start_instance
from engine.services.views import case_view, documents_of, obligor_dict
from engine.store import audit
from engine.store.models import Case, Department, HumanTask, Obligor, ProcessInstance
from engine.store.runtime import Runtime

MAX_GROUP = 1000


def _too_long(model: Any, values: dict[str, Any], prefix: str = "") -> dict[str, str]:
    """Fields longer than their column (forms do not all say; PostgreSQL would refuse the row)."""
    out: dict[str, str] = {}
    for key, value in values.items():
        column = model.__table__.columns.get(key)
        length = getattr(column.type, "length", None) if column is not None else None
        if isinstance(value, str) and length and len(value) > length:
            out[prefix + key] = f"不超过{length}字"
    return out


def check_sizes(data: dict[str, Any]) -> None:
    """Refuse lead or obligor values that do not fit the tables (422 with every such field)."""
    problems = _too_long(Case, {k: v for k, v in data.items() if k in ("title", "location")})
    obligors = data.get("obligors")
    if isinstance(obligors, list):
        for i, item in enumerate(obligors):
            if not isinstance(item, dict):
                continue
            problems.update(_too_long(Obligor, item, f"obligors.{i}."))
            group = item.get("group")
            if isinstance(group, int) and not 1 <= group <= MAX_GROUP:
                problems[f"obligors.{i}.group"] = f"应在1–{MAX_GROUP}之间"
    if problems:
        raise ValidationFailed(f"填写内容过长或超出范围：{next(iter(problems.values()))}", problems)


def register_lead(runtime: Runtime, actor: Actor, data: dict[str, Any]) -> dict[str, Any]:
    """Register a lead: the case enters the case database and ledger at once, and its process starts."""
    if not actor.has("officer"):
        raise Forbidden("只有经办人可以登记线索")
    with runtime.db.transaction() as s:
        schemas.check(runtime.config.bpmn_dir, "register_lead", data, {})
        check_sizes(data)
        department = s.get(Department, data["department"])
        if department is None:
            raise ValidationFailed("承办部门不存在", {"department": "部门不存在"})
        if not access.sees_everything(actor) and data["department"] != actor.department:
            raise Forbidden("只能为本部门登记线索")
        found_on = as_date(data["found_on"])
        if found_on > clock.today():
            raise ValidationFailed("\"发现日期\"不能晚于今天", {"found_on": "发现日期不能晚于今天"})
        now = clock.now()
        case = Case(title=data["title"], lead_source=data["lead_source"], description=data["description"],
                    location=data["location"], found_on=found_on, department_id=data["department"],
                    status="open", stage="lead", created_at=now, created_by=actor.username, variables={})
        s.add(case)
        s.flush()
        sync_obligors(s, case, data.get("obligors") or [])
        audit.record(s, who=actor.username, event_name="note", case_id=case.id, title=f"线索登记：{case.title}"[:300],
                     detail={"after": data})
        start_data = {"case_id": case.id, "title": case.title, "lead_source": case.lead_source,
                      "description": case.description, "location": case.location,
                      "found_on": case.found_on.isoformat(), "department": case.department_id,
                      "lead_registered_on": clock.today().isoformat(),
                      "obligors": [obligor_dict(o) for o in case.obligors]}
        start_instance(runtime, s, CASE_PROCESS, actor, start_data, case=case)
        return case_view(s, actor, case)


def sync_obligors(session: Session, case: Case, items: list[dict[str, Any]]) -> None:
    """Make the case's obligor rows match a submitted list (kept in order; the group defaults to 1)."""
    existing = {o.position_no: o for o in session.execute(select(Obligor).where(Obligor.case_id == case.id)).scalars()}
    for index, item in enumerate(items):
        row = existing.pop(index, None)
        if row is None:
            row = Obligor(case_id=case.id, position_no=index)
            session.add(row)
        row.name, row.kind = item["name"], item["kind"]
        row.uscc = item.get("uscc") or None
        row.id_number = item.get("id_number") or None
        for key in ("address", "legal_representative", "position", "work_unit", "contact"):
            setattr(row, key, item.get(key) or "")
        row.group_no = int(item.get("group") or 1)
    for row in existing.values():
        session.delete(row)
    session.flush()
    session.refresh(case, ["obligors"])


def transfer_lead(runtime: Runtime, actor: Actor, case_id: int, to_department: str, reason: str) -> dict[str, Any]:
    """Hand an undecided lead to another department (§16 线索移送); its open tasks move with it."""
    with runtime.db.transaction() as s:
        case = access.case_for(s, actor, case_id)
        if not (actor.has("officer") or actor.has("supervisor") or actor.has("admin")):
            raise Forbidden("您没有移送线索的权限")
        if case.status != "open" or case.stage != "lead":
            raise ValidationFailed("只有尚未决定是否索赔的线索可以移送", {"case": "案件已进入索赔程序"})
        if not reason.strip():
            raise ValidationFailed("\"移送理由\"为必填项", {"reason": "必填"})
        target = s.get(Department, to_department)
        if target is None or to_department == case.department_id:
            raise ValidationFailed("\"移送部门\"不存在或与原部门相同", {"department": "部门无效"})
        before = case.department_id
        case.department_id = to_department
        for task in s.execute(select(HumanTask).where(HumanTask.case_id == case.id, HumanTask.state == "open",
                                                      HumanTask.department_id == before)).scalars():
            task.department_id = to_department
            task.assignee = None
        audit.record(s, who=actor.username, event_name="note", case_id=case.id, title=f"线索移送至{target.name}",
                     detail={"department": {"before": before, "after": to_department}, "reason": reason})
        return case_view(s, actor, case)


def get_case(runtime: Runtime, actor: Actor, case_id: int) -> dict[str, Any]:
    with runtime.db.transaction() as s:
        return case_view(s, actor, access.case_for(s, actor, case_id))


def case_documents(runtime: Runtime, actor: Actor, case_id: int) -> list[dict[str, Any]]:
    """The documents generated for a case the actor may see (oldest first)."""
    with runtime.db.transaction() as s:
        return documents_of(s, access.case_for(s, actor, case_id).id)


def instance_of(session: Session, case_id: int, process_id: str = CASE_PROCESS) -> ProcessInstance:
    inst = session.execute(select(ProcessInstance).where(ProcessInstance.case_id == case_id,
                                                         ProcessInstance.process_id == process_id)
                           .order_by(ProcessInstance.id.desc()).limit(1)).scalar()
    if inst is None:
        raise NotFound("案件流程实例不存在")
    return inst
