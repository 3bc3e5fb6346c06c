"""The supervisor dashboard (监督看板): counts of the cases the actor may see, by stage, department and status,
the overdue cases, the deadlines due within a week, new leads per month, the failure causes of consultations and
the money: claimed, paid to the treasury, spent on restoration (``amounts``).

The amounts are read from what each obligor group's tasks recorded (``Case.variables["groups"]``, the same data
``obligations.for_group`` reads): **claimed** is the group's ``compensation_amount`` (the agreement's, or the
judgment's, which overwrites it, docs/procedure.md §7.3); **paid to the treasury** the recorded ``payments`` whose
``account`` is ``treasury`` (第十一条 "缴入同级国库"; payments to a court, fund or escrow account are not counted);
**spent on restoration** the restoration plan's ``restoration_budget`` 修复费用 plus the alternative restoration's
``spent_amount`` 使用资金 (§8.1, §8.2). Amounts are summed per department; the ledger has no filter "has an amount",
so each figure links to the ledger of its department (the total to the whole ledger).

Every count is over ``access.visible_cases``: a supervisor sees the province, an officer their department. Each
number comes with the ledger filter that lists exactly its cases (``case_ledger.LedgerFilter`` fields).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import exists, func, select

from engine.auth import access
from engine.common import clock
from engine.common.actor import Actor
from engine.common.contract import STAGES
from engine.store.models import Case, Deadline, Department, ObligorGroup
from engine.store.runtime import Runtime

SOON_DAYS = 7
MONTHS = 12
LIST_LIMIT = 50

#: §6 (一)–(五): why a consultation failed (``failure_reason`` of an obligor group)
#: (the values the consultation diagram's scripts set; docs/procedure.md §6)
FAILURE_REASONS = {"obligor_refused": "（一）明确拒绝磋商或未按期答复",
                   "obligor_absent_or_withdrew": "（二）无故不参与或退出磋商会议",
                   "three_meetings": "（三）磋商三次仍难以达成一致",
                   "deadline_exceeded": "（四）超过磋商期限仍未达成协议",
                   "other": "（五）其他磋商不成情形"}


def _months_back(today: date, count: int) -> list[str]:
    months, year, month = [], today.year, today.month
    for _ in range(count):
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    return list(reversed(months))


AMOUNT_KINDS = ("claimed", "treasury", "restoration")
AMOUNT_LABELS = {"claimed": "索赔金额（协议、裁判确定）", "treasury": "已缴入国库", "restoration": "修复资金"}


def _decimal(value: Any) -> Decimal:
    if value in (None, "") or isinstance(value, bool):
        return Decimal("0")
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return Decimal("0")
    return amount if amount.is_finite() and amount > 0 else Decimal("0")


def case_amounts(variables: dict[str, Any] | None) -> dict[str, Decimal]:
    """One case's claimed, paid-to-treasury and restoration amounts, summed over its obligor groups."""
    out = dict.fromkeys(AMOUNT_KINDS, Decimal("0"))
    groups = (variables or {}).get("groups") or {}
    if not isinstance(groups, dict):
        return out
    for data in groups.values():
        if not isinstance(data, dict):
            continue
        out["claimed"] += _decimal(data.get("compensation_amount"))
        for payment in data.get("payments") or []:
            if isinstance(payment, dict) and payment.get("account") == "treasury":
                out["treasury"] += _decimal(payment.get("paid_amount", payment.get("amount")))
        out["restoration"] += _decimal(data.get("restoration_budget")) + _decimal(data.get("spent_amount"))
    return out


def _amounts(rows: list[Any], departments: dict[str, str]) -> dict[str, Any]:
    per_department: dict[str, dict[str, Decimal]] = {}
    cases: dict[str, int] = {}
    total = dict.fromkeys(AMOUNT_KINDS, Decimal("0"))
    for row in rows:
        found = case_amounts(row.variables)
        if not any(found.values()):
            continue
        bucket = per_department.setdefault(row.department_id, dict.fromkeys(AMOUNT_KINDS, Decimal("0")))
        cases[row.department_id] = cases.get(row.department_id, 0) + 1
        for kind in AMOUNT_KINDS:
            bucket[kind] += found[kind]
            total[kind] += found[kind]
    return {
        "labels": dict(AMOUNT_LABELS),
        "total": {**{k: f"{v:.2f}" for k, v in total.items()}, "cases": sum(cases.values()), "filter": {}},
        "by_department": [{"department": d, "name": departments.get(d, d), "cases": cases[d],
                           **{k: f"{v:.2f}" for k, v in per_department[d].items()}, "filter": {"department": d}}
                          for d in sorted(per_department, key=lambda d: (-per_department[d]["claimed"], d))],
    }


def overview(runtime: Runtime, actor: Actor) -> dict[str, Any]:
    today = clock.today()
    soon = today + timedelta(days=SOON_DAYS)
    with runtime.db.transaction() as s:
        visible = access.visible_cases(actor, select(Case)).subquery()
        departments = {d.id: d.name for d in s.execute(select(Department).order_by(Department.id)).scalars()}
        by_stage: dict[str, int] = dict(s.execute(select(visible.c.stage, func.count()).where(visible.c.status == "open")
                                  .group_by(visible.c.stage)).all())
        by_status: dict[str, int] = dict(s.execute(select(visible.c.status, func.count()).group_by(visible.c.status)).all())
        by_department: dict[str, int] = dict(s.execute(select(visible.c.department_id, func.count())
                                       .where(visible.c.status == "open")
                                       .group_by(visible.c.department_id)).all())
        overdue_rows = s.execute(select(visible.c.id, visible.c.number, visible.c.title, visible.c.stage,
                                        visible.c.department_id)
                                 .where(visible.c.status == "open", visible.c.overdue.is_(True))
                                 .order_by(visible.c.id).limit(LIST_LIMIT)).all()
        overdue_total = s.execute(select(func.count()).where(visible.c.status == "open",
                                                             visible.c.overdue.is_(True))).scalar_one()
        soon_rows = s.execute(select(Deadline.case_id, Deadline.label, Deadline.due_on, Deadline.group_no,
                                     visible.c.number, visible.c.title, visible.c.department_id)
                              .join(visible, visible.c.id == Deadline.case_id)
                              .where(visible.c.status == "open", Deadline.state == "running",
                                     Deadline.due_on >= today, Deadline.due_on <= soon)
                              .order_by(Deadline.due_on, Deadline.case_id).limit(LIST_LIMIT)).all()
        soon_total = s.execute(select(func.count(func.distinct(Deadline.case_id)))
                               .join(visible, visible.c.id == Deadline.case_id)
                               .where(visible.c.status == "open", Deadline.state == "running",
                                      Deadline.due_on <= soon)).scalar_one()
        months = _months_back(today, MONTHS)
        first = date.fromisoformat(months[0] + "-01")
        since = datetime.combine(first, time(0), tzinfo=clock.LOCAL_TZ)
        created = s.execute(select(visible.c.created_at).where(visible.c.created_at >= since)).scalars().all()
        per_month = dict.fromkeys(months, 0)
        for at in created:
            key = at.astimezone(clock.LOCAL_TZ).strftime("%Y-%m")
            if key in per_month:
                per_month[key] += 1
        failures: dict[str | None, int] = dict(s.execute(select(ObligorGroup.failure_reason, func.count())
                                  .join(visible, visible.c.id == ObligorGroup.case_id)
                                  .where(ObligorGroup.outcome == "failed")
                                  .group_by(ObligorGroup.failure_reason)).all())
        total = s.execute(select(func.count()).select_from(visible)).scalar_one()
        money_rows = s.execute(select(visible.c.department_id, visible.c.variables).where(
            visible.c.status.in_(("open", "case_closed")),
            exists().where(ObligorGroup.case_id == visible.c.id))).all()

        def case_ref(case_id: int, number: str | None, title: str, department: str) -> dict[str, Any]:
            return {"id": case_id, "number": number, "title": title, "department": department,
                    "department_name": departments.get(department, department)}

        return {
            "today": today.isoformat(), "soon_days": SOON_DAYS, "total": int(total),
            "by_stage": [{"stage": st, "count": int(by_stage.get(st, 0)), "filter": {"stage": st, "status": "open"}}
                         for st in STAGES],
            "by_status": [{"status": st, "count": int(n), "filter": {"status": st}}
                          for st, n in sorted(by_status.items())],
            "by_department": [{"department": d, "name": departments.get(d, d), "count": int(n),
                               "filter": {"department": d, "status": "open"}}
                              for d, n in sorted(by_department.items(), key=lambda kv: (-kv[1], kv[0]))],
            "overdue": {"count": int(overdue_total), "filter": {"overdue": True, "status": "open"},
                        "items": [{**case_ref(r.id, r.number, r.title, r.department_id), "stage": r.stage}
                                  for r in overdue_rows]},
            "due_soon": {"count": int(soon_total), "filter": {"due_within": SOON_DAYS},
                         "items": [{**case_ref(r.case_id, r.number, r.title, r.department_id), "label": r.label,
                                    "group": r.group_no, "due_on": r.due_on.isoformat(),
                                    "days_left": (r.due_on - today).days} for r in soon_rows]},
            "new_leads": [{"month": m, "count": n, "filter": {"month": m}} for m, n in per_month.items()],
            "consultation_failures": [{"reason": reason, "label": label, "count": int(failures.get(reason, 0)),
                                       "filter": {"failure_reason": reason}}
                                      for reason, label in FAILURE_REASONS.items()],
            "amounts": _amounts(list(money_rows), departments),
        }
