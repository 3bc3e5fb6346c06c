"""The ledger (案件台账) for the pages and the API: every case the actor may see, with the filters of the ledger page, and the
Excel export of exactly the filtered rows.

``search`` and ``export_xlsx`` build their query from the same :class:`LedgerFilter` (``_query``), so the export
holds the rows the page lists, all of them. The export streams: rows come from the database in batches and go
to an openpyxl write-only workbook (rows are written to a temporary file, never kept), so 100k rows cost about
as much memory as 1,000.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, fields
from datetime import date, datetime, time, timedelta
from typing import IO, Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from sqlalchemy import ColumnElement, Select, exists, func, or_, select
from sqlalchemy.orm import Session

from engine.auth import access
from engine.common import clock
from engine.common.actor import Actor
from engine.common.contract import CASE_STATUSES, STAGES
from engine.common.errors import BadRequest
from engine.forms import schemas
from engine.forms.validation import enum_labels
from engine.store.models import Case, Deadline, Department, Incident, Obligor, ObligorGroup
from engine.store.runtime import Runtime

MAX_PER_PAGE = 200
BATCH = 1000
SORTS = ("new", "old", "number", "deadline")

STAGE_LABELS = {"lead": "线索", "claim_start": "索赔启动", "investigation": "调查", "assessment": "鉴定评估",
                "termination": "索赔终止", "consultation": "磋商", "agreement": "赔偿协议",
                "judicial_confirmation": "司法确认", "litigation": "诉讼", "performance": "履行",
                "enforcement": "强制执行", "closing": "结案"}
STATUS_LABELS = {"open": "办理中", "lead_closed": "线索终结（不予索赔）", "claim_terminated": "索赔终止",
                 "case_closed": "已结案"}


@dataclass(frozen=True)
class LedgerFilter:
    """The ledger's filters; None means "any". ``month`` is ``YYYY-MM`` of registration, ``year`` its year;
    ``due_within`` keeps cases with a running deadline due within that many days (overdue ones included);
    ``failure_reason`` cases with an obligor group whose consultation failed for that reason."""

    stage: str | None = None
    status: str | None = None
    department: str | None = None
    source: str | None = None
    year: int | None = None
    month: str | None = None
    overdue: bool | None = None
    has_incident: bool | None = None
    due_within: int | None = None
    failure_reason: str | None = None
    q: str | None = None

    def check(self) -> None:
        problems: dict[str, str] = {}
        if self.stage and self.stage not in STAGES:
            problems["stage"] = "阶段无效"
        if self.status and self.status not in CASE_STATUSES:
            problems["status"] = "状态无效"
        if self.source is not None and (len(self.source) > 40 or not self.source.isidentifier()):
            problems["source"] = "线索来源无效"
        if self.year is not None and not 2000 <= self.year <= 2100:
            problems["year"] = "年度应在2000–2100之间"
        if self.month is not None and not _month_range(self.month):
            problems["month"] = "月份应为 YYYY-MM"
        if self.due_within is not None and not 0 <= self.due_within <= 366:
            problems["due_within"] = "应为0–366之间的天数"
        if self.q is not None and len(self.q) > 100:
            problems["q"] = "不超过100字"
        if problems:
            raise BadRequest("台账筛选条件有误：" + next(iter(problems.values())), problems)

    def as_params(self) -> dict[str, str]:
        """The filters that are set, as query parameters (for links and the export)."""
        out: dict[str, str] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if value is None or value == "":
                continue
            out[f.name] = ("1" if value else "0") if isinstance(value, bool) else str(value)
        return out


def _local_midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=clock.LOCAL_TZ)


def _month_range(month: str) -> tuple[datetime, datetime] | None:
    try:
        year, mon = (int(part) for part in month.split("-"))
        start = date(year, mon, 1)
    except (ValueError, TypeError):
        return None
    if len(month) != 7 or not 2000 <= year <= 2100:
        return None
    end = date(year + (mon == 12), mon % 12 + 1, 1)
    return _local_midnight(start), _local_midnight(end)


def _query(actor: Actor, f: LedgerFilter) -> Select[tuple[Case]]:
    query = access.visible_cases(actor, select(Case))
    if f.stage:
        query = query.where(Case.stage == f.stage)
    if f.status:
        query = query.where(Case.status == f.status)
    if f.department:
        query = query.where(Case.department_id == f.department)
    if f.source:
        query = query.where(Case.lead_source == f.source)
    if f.year is not None:
        query = query.where(Case.created_at >= _local_midnight(date(f.year, 1, 1)),
                            Case.created_at < _local_midnight(date(f.year + 1, 1, 1)))
    if f.month:
        bounds = _month_range(f.month)
        if bounds:
            query = query.where(Case.created_at >= bounds[0], Case.created_at < bounds[1])
    if f.overdue is not None:
        query = query.where(Case.overdue.is_(f.overdue))
    if f.has_incident is not None:
        open_incident = exists().where(Incident.case_id == Case.id, Incident.resolved_at.is_(None))
        query = query.where(open_incident if f.has_incident else ~open_incident)
    if f.due_within is not None:
        limit = clock.today() + timedelta(days=f.due_within)
        query = query.where(Case.status == "open", exists().where(
            Deadline.case_id == Case.id, Deadline.state == "running", Deadline.due_on <= limit))
    if f.failure_reason:
        query = query.where(exists().where(ObligorGroup.case_id == Case.id, ObligorGroup.outcome == "failed",
                                           ObligorGroup.failure_reason == f.failure_reason))
    if f.q:
        like = f"%{escape_like(f.q)}%"
        named: ColumnElement[bool] = exists().where(Obligor.case_id == Case.id, Obligor.name.like(like, escape="\\"))
        query = query.where(or_(Case.title.like(like, escape="\\"), Case.number.like(like, escape="\\"),
                                Case.location.like(like, escape="\\"), named))
    return query


def escape_like(text: str) -> str:
    """``text`` matched literally inside a LIKE pattern (escape character ``\\``): "100%" finds "100%", not "1000"."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _next_due() -> Any:
    return (select(func.min(Deadline.due_on)).where(Deadline.case_id == Case.id, Deadline.state == "running")
            .correlate(Case).scalar_subquery())


def _incident_flag() -> Any:
    return exists().where(Incident.case_id == Case.id, Incident.resolved_at.is_(None)).correlate(Case)


def _order(sort: str) -> list[Any]:
    if sort == "old":
        return [Case.id]
    if sort == "number":
        return [Case.number.is_(None), Case.number, Case.id.desc()]
    if sort == "deadline":
        due = _next_due()
        return [due.is_(None), due, Case.id.desc()]
    return [Case.id.desc()]


def _row(case: Case, next_due: date | None, incident: bool, departments: dict[str, str],
         obligors: list[str], today: date) -> dict[str, Any]:
    return {"id": case.id, "number": case.number, "title": case.title, "stage": case.stage, "status": case.status,
            "department": case.department_id, "department_name": departments.get(case.department_id, case.department_id),
            "lead_source": case.lead_source, "location": case.location, "found_on": case.found_on.isoformat(),
            "created_at": case.created_at.isoformat(), "overdue": case.overdue, "has_incident": bool(incident),
            "next_due_on": next_due.isoformat() if next_due else None,
            "days_left": (next_due - today).days if next_due else None, "obligors": obligors}


def _obligors_of(session: Session, case_ids: list[int]) -> dict[int, list[str]]:
    names: dict[int, list[str]] = {}
    if not case_ids:
        return names
    for case_id, name in session.execute(select(Obligor.case_id, Obligor.name).where(Obligor.case_id.in_(case_ids))
                                         .order_by(Obligor.case_id, Obligor.position_no)).all():
        names.setdefault(case_id, []).append(name)
    return names


def _departments(session: Session) -> dict[str, str]:
    return {d.id: d.name for d in session.execute(select(Department).order_by(Department.id)).scalars()}


def search(runtime: Runtime, actor: Actor, f: LedgerFilter, sort: str = "new", page: int = 1,
           per_page: int = 20) -> dict[str, Any]:
    """One page of the filtered ledger, with the total, and the departments (id → name) for the filter."""
    f.check()
    if sort not in SORTS:
        raise BadRequest("参数 sort 无效", {"sort": "可选：" + "、".join(SORTS)})
    page, per_page = max(1, page), min(max(1, per_page), MAX_PER_PAGE)
    today = clock.today()
    with runtime.db.transaction() as s:
        query = _query(actor, f)
        total = s.execute(select(func.count()).select_from(query.subquery())).scalar_one()
        rows = s.execute(query.add_columns(_next_due(), _incident_flag()).order_by(*_order(sort))
                         .offset((page - 1) * per_page).limit(per_page)).all()
        departments = _departments(s)
        obligors = _obligors_of(s, [row[0].id for row in rows])
        items = [_row(c, due, inc, departments, obligors.get(c.id, []), today) for c, due, inc in rows]
        return {"items": items, "total": int(total), "page": page, "per_page": per_page, "sort": sort,
                "departments": departments}


EXPORT_COLUMNS = ("编号", "案件名称", "线索来源", "承办部门", "阶段", "状态", "发生地点", "发现日期", "登记日期",
                  "最近期限", "剩余天数", "是否逾期", "未处理的流程异常", "赔偿义务人")


def lead_sources(runtime: Runtime) -> dict[str, str]:
    """The lead sources (§2) and their Chinese labels, as the lead registration form lists them."""
    return enum_labels(schemas.schema(runtime.config.bpmn_dir, "register_lead"), "lead_source")


def _export_rows(session: Session, actor: Actor, f: LedgerFilter, sort: str,
                 sources: dict[str, str]) -> Iterator[list[Any]]:
    today = clock.today()
    departments = _departments(session)
    query = _query(actor, f).add_columns(_next_due(), _incident_flag()).order_by(*_order(sort))
    result = session.execute(query.execution_options(yield_per=BATCH))
    for batch in result.partitions(BATCH):
        names = _obligors_of(session, [row[0].id for row in batch])
        for case, due, incident in batch:
            r = _row(case, due, incident, departments, names.get(case.id, []), today)
            created = case.created_at.astimezone(clock.LOCAL_TZ).date()
            yield [r["number"] or "", r["title"], sources.get(r["lead_source"], r["lead_source"]),
                   r["department_name"], STAGE_LABELS.get(r["stage"], r["stage"]),
                   STATUS_LABELS.get(r["status"], r["status"]), r["location"], case.found_on, created,
                   due, r["days_left"], "是" if r["overdue"] else "否", "是" if r["has_incident"] else "否",
                   "、".join(r["obligors"])]
        session.expunge_all()  # keep the identity map from growing with the rows


def export_xlsx(runtime: Runtime, actor: Actor, f: LedgerFilter, out: IO[bytes], sort: str = "new") -> int:
    """Write the filtered ledger (every row, in the page's order) as an .xlsx workbook to ``out``; returns the
    number of case rows written."""
    f.check()
    if sort not in SORTS:
        raise BadRequest("参数 sort 无效", {"sort": "可选：" + "、".join(SORTS)})
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("案件台账")
    for index, width in enumerate((22, 40, 24, 14, 10, 16, 24, 12, 12, 12, 10, 10, 16, 40)):
        sheet.column_dimensions[chr(ord("A") + index)].width = width
    sheet.freeze_panes = "A2"
    bold = Font(bold=True)
    head = []
    for title in EXPORT_COLUMNS:
        cell = WriteOnlyCell(sheet, value=title)
        cell.font = bold
        head.append(cell)
    sheet.append(head)
    count = 0
    with runtime.db.transaction() as s:
        for values in _export_rows(s, actor, f, sort, lead_sources(runtime)):
            sheet.append(values)
            count += 1
    workbook.save(out)
    return count
