"""The data a task offers (``get_task``'s ``data``, the prefill) is data its own form accepts, on every path.

Each path below drives a case as ``test_paths.py`` does, with a :class:`CheckedCase` whose every step first reads
every open task of the case, as the person who would do it, and checks that what the task offers validates
against the task's form (``engine.forms``; only fields still missing may be wanting: the person types them), and
then completes the task with the offer merged with the path's data — what a page does that shows the prefill and
lets the person change some of it.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from engine.auth.users import get_actor
from engine.forms.validation import validate_form
from engine.services import messages, tasks
from engine.services.screening import ensure_screening

from .driver import COMPANY, PERSON, ROLE_USER, Case

BPMN_DIR = Path(__file__).resolve().parents[2] / "bpmn"
BPMN_NS = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"


class CheckedCase(Case):
    def __init__(self, runtime: Any, obligors: list[dict[str, Any]] | None = None) -> None:
        super().__init__(runtime, obligors)
        self.offered: set[str] = set()  # BPMN ids of the tasks whose offer was checked
        self.completed: set[str] = set()

    def offer(self, item: dict[str, Any]) -> dict[str, Any]:
        """What the task offers, checked against its form."""
        actor = get_actor(self.runtime, ROLE_USER[item["candidate_role"]])
        detail = tasks.get_task(self.runtime, actor, item["id"])
        form, data = detail["form"], detail["data"]
        unknown = set(data) - set(form["properties"])
        assert not unknown, f"{item['task']} offers fields its form does not have: {unknown}"
        variables = self.view()["variables"]
        context = {**variables, **(variables.get("groups", {}).get(str(item.get("group")), {}))}
        problems = validate_form(form, data, context, partial=True)
        assert problems == {}, f"{item['task']} offers data its own form refuses: {problems}\noffered: {data}"
        self.offered.add(item["task"])
        return data  # type: ignore[no-any-return]

    def check_open_tasks(self) -> None:
        for item in self.view()["tasks"]:
            self.offer(item)

    def do(self, bpmn_id: str, data: dict[str, Any], group: int | None = None) -> dict[str, Any]:
        self.check_open_tasks()
        item = self.task(bpmn_id, group)
        merged = {**self.offer(item), **data}
        actor = get_actor(self.runtime, ROLE_USER[item["candidate_role"]])
        out = tasks.complete(self.runtime, actor, item["id"], merged)
        assert out["incident"] is None, out["incident"]
        self.completed.add(bpmn_id)
        self.check_open_tasks()
        return out["case"]  # type: ignore[no-any-return]

    def advance(self, duration: str) -> None:
        super().advance(duration)
        self.check_open_tasks()


# --- the paths ---------------------------------------------------------------------------------------------


def lead_closed(case: CheckedCase) -> None:
    case.do("screen_lead", {"screening_result": "no_claim", "screening_reason": "不属于生态环境损害"})


def lead_overdue_is_urged_then_claim_starts(case: CheckedCase) -> None:
    case.advance("P31D")
    case.do("urge_claim_start", {"urge_note": "请尽快决定是否启动索赔", "urged_on": case.today()})
    case.start_claim()
    case.do("notify_court_procuratorate", {"court": "福州市中级人民法院", "procuratorate": "福州市人民检察院",
                                           "notified_on": case.today()})


def rejected_then_resubmitted(case: CheckedCase) -> None:
    case.do("screen_lead", {"screening_result": "start_claim", "screening_reason": "符合启动情形"})
    case.do("register_claim_start", {"cause": "违法排污", "case_summary": "初稿", "obligors": [dict(COMPANY)]})
    case.do("approve_claim_start_division", {"approved": False, "opinion": "请补充自然人义务人"})
    case.do("register_claim_start", {"case_summary": "补充后", "obligors": [dict(COMPANY), dict(PERSON)]})
    case.do("approve_claim_start_division", {"approved": True, "opinion": "同意"})
    case.do("approve_claim_start_department", {"approved": True, "opinion": "同意"})


def terminated(case: CheckedCase) -> None:
    case.start_claim()
    case.investigate(conclusion="terminate")
    case.do("register_claim_termination", {"termination_reason": "赔偿义务人已依法破产且无财产"})
    case.do("approve_termination_division", {"approved": True, "opinion": "同意终止"})
    case.do("approve_termination_department", {"approved": True, "opinion": "同意终止"})


def compensation_paid_and_closed(case: CheckedCase) -> None:
    case.start_claim()
    case.investigate()
    case.prepare_and_serve()
    case.agree(remedy="compensation")
    case.do("record_compensation_payment", {"paid_amount": "1250000.00", "paid_on": case.today(),
                                            "payer": "福州某化工有限公司", "account": "treasury",
                                            "receipt_number": "非税收入票据0001"})
    case.do("report_performance_to_authorities", {"report_needed": False})
    case.do("close_case", {"closed_on": case.today(), "closing_summary": "已履行完毕", "publish": True})


def not_restorable_paid_and_replaced(case: CheckedCase) -> None:
    case.start_claim()
    case.do("conduct_investigation", {
        "investigation_methods": ["documents"], "investigators": "王经办", "investigation_started_on": case.today(),
        "investigation_scope": "下游河段", "damage_exists": True, "damage_extent": "5公里", "damage_degree": "严重",
        "obligor_identified": True, "damage_facts": "偷排", "needs_assessment": True})
    case.do("choose_assessment_method", {"assessment_method": "institution", "institution": "福建某司法鉴定所",
                                         "commissioned_on": case.today()})
    case.do("record_assessment_result", {"restorability": "not_restorable", "damage_amount": "2000000.00",
                                         "assessment_summary": "损害无法修复", "report_title": "鉴定评估报告",
                                         "completed_on": case.today()})
    case.do("conclude_investigation", {"investigation_conclusion": "claim", "legal_basis": "《民法典》第一千二百三十五条",
                                       "handling_suggestion": "建议磋商赔偿", "concluded_on": case.today()})
    case.prepare_and_serve()
    case.agree(remedy="compensation")
    case.do("record_compensation_payment", {"paid_amount": "1250000.00", "paid_on": case.today(), "payer": "某公司",
                                            "account": "treasury", "receipt_number": "0002"})
    case.do("organize_alternative_restoration", {"alternative_plan": "异地补植", "spent_amount": "1000000.00",
                                                 "organized_on": case.today()})
    case.do("report_performance_to_authorities", {"report_needed": True, "reported_to": "福州市生态环境局",
                                                  "reported_on": case.today()})


def lawsuit_judgment_enforcement(case: CheckedCase) -> None:
    case.start_claim()
    case.investigate()
    case.prepare_and_serve()
    case.do("record_obligor_reply", {"obligor_reply": "accepts", "replied_on": case.today()})
    case.meeting("continue")
    case.meeting("obligor_withdrew")
    case.do("file_lawsuit", {"lawsuit_court": "福州市中级人民法院", "filed_on": case.today(),
                             "lawsuit_basis": "consultation_failed", "claims": "判令被告赔偿生态环境损害"})
    case.do("record_judgment", {"judgment_number": "（2026）闽01民初100号", "effective_on": case.today(),
                                "remedy": "compensation", "compensation_amount": "800000.00",
                                "payment_due_on": "2026-08-31", "judgment_summary": "被告赔偿80万元"})
    case.advance("P100D")
    case.do("apply_enforcement", {"enforcement_court": "福州市中级人民法院", "applied_on": case.today(),
                                  "agent_name": "王经办", "agent_unit_position": "省生态环境厅法规处科员",
                                  "facts_found": "被告未按判决缴纳赔偿金", "defaulting_obligors": "福州某化工有限公司"})
    case.do("record_credit_sanction", {"measures": "纳入失信名单", "reported_on": case.today()})
    case.do("close_case", {"closed_on": case.today(), "closing_summary": "已申请强制执行", "publish": False})


def unperformed_agreement_goes_to_court(case: CheckedCase) -> None:
    case.start_claim()
    case.investigate()
    case.prepare_and_serve()
    case.agree(remedy="compensation", judicial=False)
    case.advance("P220D")
    case.do("file_lawsuit", {"lawsuit_court": "福州市中级人民法院", "filed_on": case.today(),
                             "lawsuit_basis": "agreement_unperformed", "claims": "判令被告履行赔偿协议"})
    case.do("record_judgment", {"judgment_number": "（2027）闽01民初7号", "effective_on": case.today(),
                                "remedy": "compensation", "compensation_amount": "1250000.00",
                                "payment_due_on": "2027-03-31", "judgment_summary": "被告赔偿125万元"})
    case.do("record_compensation_payment", {"paid_amount": "1250000.00", "paid_on": case.today(), "payer": "某公司",
                                            "account": "court", "receipt_number": "0003"})


def judicial_confirmation_and_restoration(case: CheckedCase) -> None:
    case.start_claim()
    case.investigate(needs_assessment=True)
    case.prepare_and_serve()
    case.agree(remedy="restoration", judicial=True)
    case.do("record_judicial_confirmation", {"confirmed": True, "court": "福州市中级人民法院",
                                             "confirmation_number": "（2026）闽01民特5号", "confirmed_on": case.today(),
                                             "announcement_days": 15})
    case.do("record_restoration_plan", {"restoration_plan": "河道底泥清淤", "restorer": "某环境修复公司",
                                        "restoration_due_on": "2027-06-30", "restoration_budget": "300000.00"})
    case.advance("P31D")
    case.do("supervise_restoration", {"visited_on": case.today(), "progress": "已完成一半", "problems": "无"})
    case.do("record_restoration_completion", {"completed_on": case.today(), "completion_report": "已完成清淤"})
    case.do("evaluate_restoration_effect", {"evaluated_on": case.today(), "evaluator": "某评估机构", "target_met": False,
                                            "evaluation_notes": "镍浓度仍超标"})
    case.do("record_restoration_completion", {"completed_on": case.today(), "completion_report": "补充修复完成"})
    case.do("evaluate_restoration_effect", {"evaluated_on": case.today(), "evaluator": "某评估机构", "target_met": True,
                                            "evaluation_notes": "达到修复目标", "evaluation_cost": "20000.00"})
    case.do("report_performance_to_authorities", {"report_needed": True, "reported_to": "福州市生态环境局",
                                                  "reported_on": case.today()})


def complex_case_voluntary_restoration_both_remedies(case: CheckedCase) -> None:
    case.start_claim()
    case.investigate()
    case.prepare_and_serve(complex_case=True)
    messages.deliver(case.runtime, case.officer, case.id, "obligor_requests_restoration",
                     {"requested_on": case.today(), "note": "愿先行修复"})
    case.do("confirm_damage_facts", {"confirmed_on": case.today(), "confirmed_facts": "双方确认损害事实", "approved": True})
    case.do("supervise_voluntary_restoration", {"supervised_on": case.today(), "supervision_notes": "按方案推进"})
    case.agree(remedy="both")
    case.do("record_restoration_plan", {"restoration_plan": "补植", "restorer": "义务人自行修复",
                                        "restoration_due_on": "2027-06-30"})
    messages.deliver(case.runtime, case.officer, case.id, "restoration_completed",
                     {"completed_on": case.today(), "report": "已完成"})
    case.do("evaluate_restoration_effect", {"evaluated_on": case.today(), "evaluator": "某评估机构", "target_met": True,
                                            "evaluation_notes": "达标"})
    case.do("record_compensation_payment", {"paid_amount": "1250000.00", "paid_on": case.today(), "payer": "某公司",
                                            "account": "treasury", "receipt_number": "0004"})


def two_obligor_groups(case: CheckedCase) -> None:
    case.do("screen_lead", {"screening_result": "start_claim", "screening_reason": "符合启动情形"})
    case.do("register_claim_start", {"cause": "违法排污", "case_summary": "两个义务人分别磋商",
                                     "obligors": [dict(COMPANY, group=1), dict(PERSON, group=2)]})
    case.do("approve_claim_start_division", {"approved": True, "opinion": "同意"})
    case.do("approve_claim_start_department", {"approved": True, "opinion": "同意"})
    case.investigate()
    case.prepare_and_serve(group=1)
    case.prepare_and_serve(group=2)
    case.do("record_obligor_reply", {"obligor_reply": "refuses", "replied_on": case.today()}, group=2)
    case.agree(group=1)


def court_notice_chased_and_coordinated(case: CheckedCase) -> None:
    messages.deliver(case.runtime, case.officer, case.id, "pil_case_accepted",
                     {"court": "福州市中级人民法院", "case_number": "（2026）闽01民初9号", "accepted_on": "2026-06-01"})
    case.advance("P11D")
    case.do("chase_court_notice", {"chased_on": case.today(), "chase_note": "电话催告"})
    messages.deliver(case.runtime, case.officer, case.id, "court_notice_received",
                     {"court": "福州市中级人民法院", "received_on": case.today()})
    case.do("coordinate_with_court", {"coordinated_on": case.today(), "coordination_notes": "已对接",
                                      "support_offered": "监测报告"})


PATHS: dict[str, tuple[Callable[[CheckedCase], None], set[str]]] = {
    "lead_closed": (lead_closed, {"screen_lead"}),
    "lead_overdue": (lead_overdue_is_urged_then_claim_starts, {"urge_claim_start", "notify_court_procuratorate"}),
    "rejected": (rejected_then_resubmitted, {"register_claim_start", "approve_claim_start_division",
                                             "approve_claim_start_department"}),
    "terminated": (terminated, {"conduct_investigation", "conclude_investigation", "register_claim_termination",
                                "approve_termination_division", "approve_termination_department"}),
    "compensation": (compensation_paid_and_closed, {
        "prepare_consultation", "record_notice_service", "record_obligor_reply", "record_consultation_meeting",
        "draft_agreement", "sign_agreement", "record_compensation_payment", "report_performance_to_authorities",
        "close_case"}),
    "not_restorable": (not_restorable_paid_and_replaced, {"choose_assessment_method", "record_assessment_result",
                                                          "organize_alternative_restoration"}),
    "litigation": (lawsuit_judgment_enforcement, {"file_lawsuit", "record_judgment", "apply_enforcement",
                                                  "record_credit_sanction"}),
    "agreement_unperformed": (unperformed_agreement_goes_to_court, {"file_lawsuit", "record_judgment"}),
    "restoration": (judicial_confirmation_and_restoration, {
        "record_judicial_confirmation", "record_restoration_plan", "supervise_restoration",
        "record_restoration_completion", "evaluate_restoration_effect"}),
    "voluntary": (complex_case_voluntary_restoration_both_remedies, {
        "pre_consultation_exchange", "confirm_damage_facts", "supervise_voluntary_restoration"}),
    "groups": (two_obligor_groups, {"prepare_consultation", "draft_agreement"}),
    "court_notice": (court_notice_chased_and_coordinated, {"chase_court_notice", "coordinate_with_court"}),
}


@pytest.mark.parametrize("name", sorted(PATHS))
def test_every_task_offers_data_its_form_accepts(runtime: Any, name: str) -> None:
    walk, expected = PATHS[name]
    case = CheckedCase(runtime)
    walk(case)
    assert expected <= case.completed, f"the path did not reach {expected - case.completed}"
    assert case.completed <= case.offered


def test_the_periodic_screening_offers_data_its_form_accepts(runtime: Any) -> None:
    case = CheckedCase(runtime)
    ensure_screening(runtime)
    case.advance("P31D")
    officer = get_actor(runtime, "officer1")
    items = [t for t in tasks.inbox(runtime, officer, "group")["items"] if t["task"] == "screen_pending_leads"]
    assert items
    offer = case.offer(items[0])
    tasks.complete(runtime, officer, items[0]["id"], {**offer, "screened_on": case.today(), "screening_notes": "已筛查"})


def test_register_claim_start_offers_the_leads_obligors_and_takes_them_back_unchanged(runtime: Any) -> None:
    """Issue 8 §4: the obligors registered with the lead came back with ``id``, ``released`` and ``id_number: null``,
    and sending them back unchanged was 422."""
    case = CheckedCase(runtime)
    case.do("screen_lead", {"screening_result": "start_claim", "screening_reason": "符合启动情形"})
    item = case.task("register_claim_start")
    offer = tasks.get_task(runtime, case.officer, item["id"])["data"]
    assert [{k: v for k, v in o.items() if v != ""} for o in offer["obligors"]] == [COMPANY, PERSON]
    case.do("register_claim_start", {"cause": "违法排污", "case_summary": "原样提交义务人"})
    assert [o["name"] for o in case.view()["obligors"]] == [COMPANY["name"], PERSON["name"]]


def _user_tasks() -> set[str]:
    found = set()
    for path in BPMN_DIR.glob("*.bpmn"):
        for task in ET.parse(path).getroot().iter(f"{BPMN_NS}userTask"):
            found.add(task.get("id", ""))
    return found


#: user tasks the paths above do not complete, and why
NOT_WALKED: dict[str, str] = {
    "screen_pending_leads": "not a case task: test_the_periodic_screening_offers_data_its_form_accepts checks it",
}


def test_the_paths_complete_every_user_task() -> None:
    walked = set().union(*(expected for _, expected in PATHS.values()))
    assert _user_tasks() - walked == set(NOT_WALKED)
