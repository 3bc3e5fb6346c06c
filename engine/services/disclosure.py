"""Public disclosure (信息公开, 《意见》第十三条 "接受公众监督"): what anyone may read without logging in.

**Which cases.** Only cases closed at ``close_case`` (status ``case_closed``) whose closing said ``publish`` 是否公开
is true (docs/procedure.md §10). A case ended as ``claim_terminated`` is not disclosed: form 3 asks nobody whether
it may be published and it has no agreement or judgment to summarise; ``lead_closed`` and open cases never are.

**What of them.** The case (number, title, department, place, dates, closing report) and, per obligor group, the
agreement's or judgment's summary as the group's recorded variables hold it (liability, remedy, amounts,
restoration, the obligation list, payments received). Companies are named; a natural person's name is masked
(张某某 → 张**) wherever it appears, free text included; ID numbers (and anything shaped like one) never appear.
Obligors' addresses, contacts, legal representatives and the documents (which carry ID numbers) are not shown.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.common import clock
from engine.common.errors import NotFound
from engine.services import obligations
from engine.store.models import Case, Department, Obligor, ObligorGroup
from engine.store.runtime import Runtime

PUBLIC_STATUS = "case_closed"
PER_PAGE_MAX = 100
HIDDEN = "＊＊＊（不公开）"
ID_LIKE = re.compile(r"(?<![0-9A-Za-z])(?:\d{17}[\dXx]|\d{15})(?![0-9A-Za-z])")


def mask_name(name: str) -> str:
    """A person's name as the public reads it: the first character, the rest as ``*`` (张某某 → 张**)."""
    name = name.strip()
    if not name:
        return ""
    return name[0] + "*" * max(1, len(name) - 1)


class _Scrubber:
    """Masks the case's natural persons' names and removes ID numbers from any text shown to the public."""

    def __init__(self, people: list[Obligor], representatives: list[str] | None = None) -> None:
        found = {p.name.strip() for p in people if p.name and p.name.strip()}
        found |= {r.strip() for r in representatives or [] if r and r.strip()}
        names = sorted(found, key=len, reverse=True)
        self.names = [(n, mask_name(n)) for n in names]
        self.ids = sorted({p.id_number.strip() for p in people if p.id_number and p.id_number.strip()},
                          key=len, reverse=True)

    def __call__(self, value: Any) -> str:
        if value is None:
            return ""
        text = str(value)
        for number in self.ids:
            text = text.replace(number, HIDDEN)
            text = text.replace(number.lower(), HIDDEN)
        text = ID_LIKE.sub(HIDDEN, text)
        for name, masked in self.names:
            text = text.replace(name, masked)
        return text


def _money(value: Any) -> str | None:
    if value in (None, ""):
        return None
    try:
        return f"{Decimal(str(value)):.2f}"
    except (InvalidOperation, ValueError):
        return None


def _public_ids(session: Session) -> list[int]:
    """The disclosed cases, newest closing first (``publish`` lives in the case's JSON variables, read here)."""
    rows = session.execute(select(Case.id, Case.variables).where(Case.status == PUBLIC_STATUS)
                           .order_by(Case.closed_at.desc(), Case.id.desc())).all()
    return [r.id for r in rows if (r.variables or {}).get("publish") is True]


def _department_name(session: Session, dept_id: str) -> str:
    dept = session.get(Department, dept_id)
    return (dept.full_name or dept.name) if dept is not None else dept_id


def _obligor(o: Obligor) -> dict[str, Any]:
    if o.kind == "company":
        return {"kind": "company", "name": o.name}
    return {"kind": "person", "name": mask_name(o.name)}


def _group(session: Session, case: Case, group: ObligorGroup, scrub: _Scrubber) -> dict[str, Any]:
    data: dict[str, Any] = ((case.variables or {}).get("groups") or {}).get(str(group.group_no)) or {}
    members = [o for o in session.execute(select(Obligor).where(
        Obligor.case_id == case.id, Obligor.group_no == group.group_no, Obligor.released.is_(False))
        .order_by(Obligor.position_no, Obligor.id)).scalars()]
    source = "judgment" if data.get("judgment_number") else ("agreement" if data.get("liability") or data.get(
        "agreement_name") else None)
    paid = sum((Decimal(m) for p in data.get("payments") or []
                if (m := _money(p.get("paid_amount"))) is not None), Decimal("0"))
    items = obligations.for_group(data, clock.today())
    return {
        "id": group.group_no,
        "obligors": [_obligor(o) for o in members],
        "outcome": group.outcome,
        "source": source,
        "agreement_name": scrub(data.get("agreement_name")) or None,
        "signed_on": data.get("signed_on") if source == "agreement" else None,
        "judicial_confirmation": (scrub(data.get("confirmation_number")) or None) if data.get("confirmed") else None,
        "judgment_number": scrub(data.get("judgment_number")) or None,
        "judgment_effective_on": data.get("effective_on") if source == "judgment" else None,
        "judgment_summary": scrub(data.get("judgment_summary")) or None,
        "liability": scrub(data.get("liability")) or None,
        "remedy": data.get("remedy"),
        "compensation_amount": _money(data.get("compensation_amount")),
        "payment_due_on": data.get("payment_due_on"),
        "paid_amount": f"{paid:.2f}" if data.get("payments") else None,
        "restoration_mode": data.get("restoration_mode"),
        "restoration_plan": scrub(data.get("restoration_plan")) or None,
        "restoration_due_on": data.get("restoration_due_on"),
        "restoration_done": bool(data.get("target_met")) if data.get("remedy") in ("restoration", "both") else None,
        "obligations": [{"kind": i["kind"], "description": scrub(i["description"]), "amount": i["amount"],
                         "due_on": i["due_on"], "status": i["status"]} for i in items],
        "performance_reported": bool(data.get("report_needed")) and bool(data.get("reported_to")),
    }


def _summary(session: Session, case: Case, scrub: _Scrubber) -> dict[str, Any]:
    variables = case.variables or {}
    companies = [o.name for o in session.execute(select(Obligor).where(
        Obligor.case_id == case.id, Obligor.kind == "company", Obligor.released.is_(False))
        .order_by(Obligor.position_no, Obligor.id)).scalars()]
    return {"id": case.id, "number": case.number, "title": scrub(case.title),
            "department": _department_name(session, case.department_id),
            "location": scrub(case.location), "closed_on": variables.get("closed_on"), "companies": companies}


def published_cases(runtime: Runtime, page: int = 1, per_page: int = 20) -> dict[str, Any]:
    """The disclosed cases, a page at a time: number, title, department, place, closing date, companies named."""
    per_page = max(1, min(per_page, PER_PAGE_MAX))
    page = max(1, page)
    with runtime.db.transaction() as s:
        ids = _public_ids(s)
        chosen = ids[(page - 1) * per_page: page * per_page]
        items = []
        for case_id in chosen:
            case = s.get(Case, case_id)
            if case is None:
                continue
            items.append(_summary(s, case, _scrubber(s, case.id)))
        return {"items": items, "total": len(ids), "page": page, "per_page": per_page}


def _people(session: Session, case_id: int) -> list[Obligor]:
    return list(session.execute(select(Obligor).where(Obligor.case_id == case_id, Obligor.kind != "company"))
                .scalars())


def _scrubber(session: Session, case_id: int) -> _Scrubber:
    """Persons among the obligors, and the companies' legal representatives (natural persons too)."""
    representatives = session.execute(select(Obligor.legal_representative).where(
        Obligor.case_id == case_id, Obligor.kind == "company")).scalars().all()
    return _Scrubber(_people(session, case_id), [r for r in representatives if r])


def published_case(runtime: Runtime, case_id: int) -> dict[str, Any]:
    """One disclosed case with its agreement or judgment summary per obligor group; any other case is "not found"
    (the same answer whether it exists or not)."""
    with runtime.db.transaction() as s:
        case = s.get(Case, case_id)
        if case is None or case.status != PUBLIC_STATUS or (case.variables or {}).get("publish") is not True:
            raise NotFound("该案件不存在或未公开")
        scrub = _scrubber(s, case.id)
        out = _summary(s, case, scrub)
        variables = case.variables or {}
        groups = s.execute(select(ObligorGroup).where(ObligorGroup.case_id == case.id)
                           .order_by(ObligorGroup.group_no)).scalars().all()
        out.update({
            "lead_source": case.lead_source, "found_on": case.found_on.isoformat(),
            "closing_summary": scrub(variables.get("closing_summary")) or None,
            "cause": scrub(variables.get("cause")) or None,
            "groups": [_group(s, case, g, scrub) for g in groups],
        })
        return out
