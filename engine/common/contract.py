"""The stable contract between the diagrams in ``bpmn/`` and the code: the ids the services rely on.

Everything the procedure says lives in the diagrams and their forms; this module only names what Python must
know to find it (which process a case runs, which messages exist, the order of the stages the diagrams tag
their tasks with, the statuses their end events set). ``docs/procedure.md`` describes each; a deployment that
removes one of these ids is refused (``engine/process/deploy.py``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

#: The process every case runs, started when a lead is registered.
CASE_PROCESS = "eco_damage_claim"
#: The periodic lead screening (§2), one running instance per department.
SCREENING_PROCESS = "lead_screening"
#: The public-interest-litigation court notice (§9), started by the message ``pil_case_accepted``.
COURT_NOTICE_PROCESS = "pil_court_notice"

#: Stages in procedural order; a user task's ``stage`` property names one, and a case is at the furthest stage
#: of its open tasks.
STAGES: tuple[str, ...] = ("lead", "claim_start", "investigation", "assessment", "termination", "consultation",
                           "agreement", "judicial_confirmation", "litigation", "performance", "enforcement",
                           "closing")

#: Case statuses: ``open`` while the case process runs, then the ``case_status`` property of its end event.
CASE_STATUSES: tuple[str, ...] = ("open", "lead_closed", "claim_terminated", "case_closed")

#: Messages a case accepts from outside: name → the process it starts (None: delivered to a waiting instance).
#: Each message's payload is the form ``bpmn/forms/message_<name>.json``.
MESSAGES: Mapping[str, str | None] = {
    "pil_case_accepted": COURT_NOTICE_PROCESS,
    "court_notice_received": None,
    "obligor_requests_restoration": None,
    "restoration_completed": None,
}


#: The element ids the services and the documents rely on, per process: a new version must keep them.
REQUIRED_IDS: dict[str, set[str]] = {
    "eco_damage_claim": {
        "screen_lead", "urge_claim_start", "register_claim_start", "approve_claim_start_division",
        "approve_claim_start_department", "notify_court_procuratorate", "conduct_investigation",
        "conclude_investigation", "register_claim_termination", "approve_termination_division",
        "approve_termination_department", "draft_agreement", "sign_agreement", "record_judicial_confirmation",
        "file_lawsuit", "record_judgment", "close_case", "lead_closed", "claim_terminated", "case_closed"},
    "damage_assessment": {"choose_assessment_method", "record_assessment_result"},
    "consultation": {
        "prepare_consultation", "pre_consultation_exchange", "record_notice_service", "record_obligor_reply",
        "record_consultation_meeting", "confirm_damage_facts", "supervise_voluntary_restoration"},
    "performance": {
        "record_restoration_plan", "supervise_restoration", "record_restoration_completion",
        "evaluate_restoration_effect", "record_compensation_payment", "organize_alternative_restoration",
        "apply_enforcement", "record_credit_sanction", "report_performance_to_authorities"},
    "pil_court_notice": {"chase_court_notice", "coordinate_with_court"},
    "lead_screening": {"screen_pending_leads"},
}

#: For a message that starts a process: the payload field that identifies what it starts (the same court case
#: number twice is one PIL suit, not two).
START_KEYS: Mapping[str, str] = {"pil_case_accepted": "case_number"}


def message_form(name: str) -> str:
    return f"message_{name}"


def group_of(data: Mapping[str, Any]) -> int | None:
    """The obligor group a task works for: the multi-instance over ``obligor_groups`` puts the group in the task
    data as ``group = {"id": n, "obligors": [...]}``; None outside the groups."""
    group = data.get("group")
    if isinstance(group, Mapping) and group.get("id") is not None:
        try:
            return int(group["id"])
        except (TypeError, ValueError):
            return None
    return None
