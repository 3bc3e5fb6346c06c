"""Build each form's template context (document_templates/CONTEXT.md) from the case and its process data."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.common.dates import as_date
from engine.common.errors import ValidationFailed
from engine.forms import schemas
from engine.forms.validation import enum_labels
from engine.store.models import Case, Department, HumanTask, Obligor, User

_FORMS_DIR = Path(__file__).resolve().parents[2] / "bpmn" / "forms"


def _labels(form_id: str, path: str) -> dict[str, str]:
    """Labels of the values of a form field (``"obligations.kind"`` for a field inside a list), from the form's
    schema, so documents and forms say the same; an unknown form or field gives no labels."""
    try:
        form = schemas.schema(_FORMS_DIR.parent, form_id)
    except ValidationFailed:
        return {}
    return enum_labels(form, path)


def _d(value: Any) -> date | None:
    if value in (None, ""):
        return None
    return as_date(value)


def _money(value: Any) -> Decimal | None:
    return None if value in (None, "") else Decimal(str(value)).quantize(Decimal("0.01"))


def _completion(session: Session, case_id: int, bpmn_id: str) -> tuple[str, date | None]:
    row = session.execute(select(HumanTask).where(HumanTask.case_id == case_id, HumanTask.bpmn_id == bpmn_id,
                                                  HumanTask.state == "completed")
                          .order_by(HumanTask.completed_at.desc()).limit(1)).scalar()
    if row is None or row.completed_at is None:
        return "", None
    user = session.execute(select(User).where(User.username == row.completed_by)).scalar()
    name = (user.display_name or user.username) if user else str(row.completed_by)
    return name, row.completed_at.date()


def _obligors(session: Session, case: Case, group: int | None) -> list[dict[str, Any]]:
    query = select(Obligor).where(Obligor.case_id == case.id, Obligor.released.is_(False))
    if group is not None:
        query = query.where(Obligor.group_no == group)
    return [{"name": o.name, "kind": o.kind, "uscc": o.uscc or "", "id_number": o.id_number or "",
             "address": o.address, "legal_representative": o.legal_representative, "position": o.position,
             "work_unit": o.work_unit, "contact": o.contact}
            for o in session.execute(query.order_by(Obligor.position_no)).scalars()]


def _approval(value: Any) -> dict[str, Any] | None:
    if not isinstance(value, dict):
        return None
    return {"opinion": value.get("opinion"), "signer": value.get("signer"), "signed_on": _d(value.get("signed_on"))}


#: The keys ``build`` fills for every form (when the case has the data), and those it adds per form. A template
#: key outside ``PROVIDES[form]`` can never be filled from a case (``engine.documents.checks`` reports it).
COMMON_KEYS = frozenset({"number", "claimant", "obligors", "lead_source_label", "cause", "remarks"})
_REGISTRATION_KEYS = frozenset({"officer_name", "registered_on", "division", "department"})
PROVIDES: dict[int, frozenset[str]] = {
    1: COMMON_KEYS | _REGISTRATION_KEYS | {"case_summary"},
    2: COMMON_KEYS | {"claim_started_on", "approving_authority", "investigators", "investigation_methods",
                      "investigation_started_on", "investigation_ended_on", "investigation_scope", "damage_facts",
                      "assessment_summary", "evidence", "legal_basis", "handling_suggestion", "officer_name",
                      "concluded_on"},
    3: COMMON_KEYS | _REGISTRATION_KEYS | {"termination_reason"},
    4: COMMON_KEYS | {"investigation_summary", "assessment_summary", "restorable_area_requirements", "team_claimant",
                      "invited_units", "meeting_time", "meeting_place", "other_matters", "reply_due_on",
                      "notice_date"},
    5: COMMON_KEYS | {"signed_on", "signing_place", "facts", "evidence_summary", "legal_basis", "liability",
                      "obligations", "compensation_amount", "cost_bearing", "other_terms"},
    6: COMMON_KEYS | {"agreement_signed_on", "agreement_name", "agreement_summary", "local_rules", "court",
                      "applied_on"},
    7: COMMON_KEYS | {"case_name", "investigation_started_on", "facts_found", "notice_served_on", "meetings_from",
                      "meetings_to", "meeting_count", "agreement_name", "confirmation_applied_on", "court",
                      "confirmation_number", "defaulting_obligors", "applied_on"},
}


def build(session: Session, case: Case, form: int, data: dict[str, Any]) -> dict[str, Any]:
    """Only keys with a value are set: a blank the case cannot fill stays missing, and rendering says so."""
    dept = session.get(Department, case.department_id)
    group = data.get("group", {}).get("id") if isinstance(data.get("group"), dict) else None
    ctx: dict[str, Any] = {
        "number": case.number,
        "claimant": {"name": (dept.full_name or dept.name) if dept else case.department_id,
                     "uscc": dept.uscc if dept else "", "legal_representative": dept.legal_representative if dept else "",
                     "address": dept.address if dept else "", "contact": dept.contact if dept else "",
                     "agent_name": data.get("agent_name", ""), "agent_unit_position": data.get("agent_unit_position", "")},
        "obligors": _obligors(session, case, group if form >= 4 else None),
        "lead_source_label": _labels("register_lead", "lead_source").get(case.lead_source, case.lead_source),
        "cause": data.get("cause"),
        "remarks": data.get("remarks") or "",
    }
    if form in (1, 3):
        register = "register_claim_start" if form == 1 else "register_claim_termination"
        officer, registered = _completion(session, case.id, register)
        prefix = "claim_start" if form == 1 else "termination"
        ctx.update(officer_name=officer, registered_on=registered,
                   division=_approval(data.get(f"{prefix}_division")),
                   department=_approval(data.get(f"{prefix}_department")))
        if form == 1:
            ctx["case_summary"] = data.get("case_summary")
        else:
            ctx["termination_reason"] = data.get("termination_reason")
    elif form == 2:
        officer, concluded = _completion(session, case.id, "conduct_investigation")
        method_labels = _labels("conduct_investigation", "investigation_methods")
        evidence_labels = _labels("conduct_investigation", "evidence.kind")
        start = data.get("claim_start_department") or {}
        ctx.update(
            claim_started_on=_d(start.get("signed_on")), approving_authority=ctx["claimant"]["name"],
            investigators=data.get("investigators"),
            investigation_methods=[method_labels.get(m, m) for m in data.get("investigation_methods") or []],
            investigation_started_on=_d(data.get("investigation_started_on")),
            investigation_ended_on=_d(data.get("investigation_ended_on")) or _d(data.get("concluded_on")) or concluded,
            investigation_scope=data.get("investigation_scope"), damage_facts=data.get("damage_facts"),
            assessment_summary=data.get("assessment_summary") or "未开展鉴定评估。",
            evidence=[f"{evidence_labels.get(e.get('kind'), e.get('kind'))}：{e.get('title')}"
                      for e in data.get("evidence") or []] or ["无"],
            legal_basis=data.get("legal_basis"), handling_suggestion=data.get("handling_suggestion"),
            officer_name=officer, concluded_on=_d(data.get("concluded_on")) or concluded)
    elif form == 4:
        area = "；".join(x for x in (data.get("restorable_area"), data.get("restoration_requirements")) if x)
        ctx.update(
            investigation_summary=data.get("investigation_summary"),
            assessment_summary=data.get("assessment_summary") or "未开展鉴定评估。",
            restorable_area_requirements=area or "无", team_claimant=data.get("team_claimant"),
            invited_units=data.get("invited_units") or "无", meeting_time=data.get("meeting_time"),
            meeting_place=data.get("meeting_place"), other_matters=data.get("other_matters") or "",
            reply_due_on=_d(data.get("reply_due_date")), notice_date=_d(data.get("notice_date")))
    elif form == 5:
        kinds = _labels("draft_agreement", "obligations.kind")
        names = "、".join(o["name"] for o in ctx["obligors"])
        obligations = [{"kind_label": kinds.get(o.get("kind"), o.get("kind")), "obligor_names": o.get("obligors") or names,
                        "description": o.get("description"), "amount": _money(o.get("amount")),
                        "due_on": _d(o.get("due_on"))} for o in data.get("obligations") or []]
        ctx.update(signed_on=_d(data.get("signed_on")) or _d(data.get("planned_signing_on")), signing_place=data.get("signing_place"),
                   facts=data.get("facts"), evidence_summary=data.get("evidence_summary"),
                   legal_basis=data.get("legal_basis"), liability=data.get("liability"), obligations=obligations,
                   compensation_amount=_money(data.get("compensation_amount")),
                   cost_bearing=data.get("cost_bearing"), other_terms=data.get("other_terms") or "无")
    elif form == 6:
        ctx.update(agreement_signed_on=_d(data.get("signed_on")), agreement_name=data.get("agreement_name"),
                   agreement_summary=data.get("liability"), local_rules=data.get("local_rules"),
                   court=data.get("confirmation_court"), applied_on=_d(data.get("confirmation_applied_on")))
    elif form == 7:
        meetings = data.get("meetings") or []
        served = _d(data.get("served_on"))
        # Form 7 is drawn for a confirmed agreement; after a judgment the judgment stands in its blanks.
        by_judgment = data.get("obligation_source") == "judgment"
        ctx.update(
            case_name=case.title, investigation_started_on=_d(data.get("investigation_started_on")),
            facts_found=data.get("facts_found"), notice_served_on=served,
            meetings_from=_d(meetings[0]["date"]) if meetings else served,
            meetings_to=_d(meetings[-1]["date"]) if meetings else served, meeting_count=len(meetings),
            agreement_name=data.get("judgment_number") if by_judgment else data.get("agreement_name"),
            confirmation_applied_on=_d(data.get("filed_on") if by_judgment else data.get("confirmation_applied_on")),
            court=data.get("enforcement_court"),
            confirmation_number=data.get("judgment_number") if by_judgment else data.get("confirmation_number"),
            defaulting_obligors=data.get("defaulting_obligors"), applied_on=_d(data.get("applied_on")))
    return {k: v for k, v in ctx.items() if v is not None}
