"""Every path of docs/procedure.md through the service layer (each step loads the instance from the database and saves it)."""

from __future__ import annotations

import pytest

from engine.auth.users import get_actor
from engine.common.errors import ValidationFailed
from engine.services import cases, tasks

from .driver import COMPANY, Case


def test_lead_closed(runtime):
    case = Case(runtime)
    view = case.do("screen_lead", {"screening_result": "no_claim", "screening_reason": "不属于生态环境损害"})
    assert view["status"] == "lead_closed"
    assert view["tasks"] == []


def test_happy_path_compensation_to_case_closed(runtime):
    case = Case(runtime)
    case.start_claim()
    view = case.view()
    assert view["number"] == "环赔〔2026〕1号"
    assert [d["form"] for d in view["documents"]] == [1]
    case.investigate()
    case.prepare_and_serve()
    case.agree(remedy="compensation")
    obligation = case.view()["groups"][0]["obligations"][0]
    assert (obligation["kind"], obligation["amount"], obligation["status"], obligation["paid"]) == (
        "payment", "1250000.00", "open", "0.00")
    view = case.do("record_compensation_payment", {"paid_amount": "1250000.00", "paid_on": case.today(), "payer": "福州某化工有限公司",
                                                   "account": "treasury", "receipt_number": "非税收入票据0001"})
    obligation = view["groups"][0]["obligations"][0]
    assert (obligation["status"], obligation["paid"]) == ("done", "1250000.00")
    assert view["variables"]["groups"]["1"]["payments"][0]["receipt_number"] == "非税收入票据0001"
    case.do("report_performance_to_authorities", {"report_needed": False})
    view = case.do("close_case", {"closed_on": case.today(), "closing_summary": "已履行完毕", "publish": True})
    assert view["status"] == "case_closed"
    assert sorted(d["form"] for d in view["documents"]) == [1, 2, 4, 5]
    assert view["groups"][0]["outcome"] == "closed"


def test_rejected_approval_goes_back_and_resubmission_succeeds(runtime):
    case = Case(runtime)
    case.do("screen_lead", {"screening_result": "start_claim", "screening_reason": "符合启动情形"})
    case.do("register_claim_start", {"cause": "违法排污", "case_summary": "初稿", "obligors": []})
    division = get_actor(runtime, "division1")
    with pytest.raises(ValidationFailed, match="须载明赔偿义务人") as refused:  # form 1 cannot be made without one
        tasks.complete(runtime, division, case.task("approve_claim_start_division")["id"], {"approved": True, "opinion": "同意"})
    assert "approved" in refused.value.fields
    view = case.do("approve_claim_start_division", {"approved": False, "opinion": "赔偿义务人未列明，请补充"})
    assert [t["task"] for t in view["tasks"]] == ["register_claim_start"]
    assert view["number"] is None
    detail = tasks.get_task(runtime, case.officer, view["tasks"][0]["id"])
    assert detail["data"]["cause"] == "违法排污"
    case.do("register_claim_start", {"cause": "违法排污", "case_summary": "补充后", "obligors": [dict(COMPANY)]})
    case.do("approve_claim_start_division", {"approved": True, "opinion": "同意"})
    view = case.do("approve_claim_start_department", {"approved": True, "opinion": "同意"})
    assert view["number"] == "环赔〔2026〕1号"
    assert "conduct_investigation" in [t["task"] for t in view["tasks"]]
    assert view["variables"]["claim_start_department"]["signer"] == "张厅长"


def test_claim_terminated(runtime):
    case = Case(runtime)
    case.start_claim()
    case.investigate(conclusion="terminate")
    case.do("register_claim_termination", {"termination_reason": "赔偿义务人已依法破产且无财产"})
    case.do("approve_termination_division", {"approved": True, "opinion": "同意终止"})
    view = case.do("approve_termination_department", {"approved": True, "opinion": "同意终止"})
    assert view["status"] == "claim_terminated"
    assert sorted(d["form"] for d in view["documents"]) == [1, 2, 3]
    assert view["tasks"] == []


@pytest.mark.parametrize(("outcome", "reason"), [
    ("obligor_absent", "obligor_absent_or_withdrew"), ("obligor_withdrew", "obligor_absent_or_withdrew"),
    ("other_failure", "other")])
def test_consultation_fails_at_a_meeting(runtime, outcome, reason):
    case = Case(runtime)
    case.start_claim()
    case.investigate()
    case.prepare_and_serve()
    case.do("record_obligor_reply", {"obligor_reply": "accepts", "replied_on": case.today()})
    view = case.meeting(outcome)
    assert view["groups"][0]["failure_reason"] == reason
    assert [t["task"] for t in view["tasks"] if t["task"] != "notify_court_procuratorate"] == ["file_lawsuit"]


def test_obligor_refuses(runtime):
    case = Case(runtime)
    case.start_claim()
    case.investigate()
    case.prepare_and_serve()
    view = case.do("record_obligor_reply", {"obligor_reply": "refuses", "replied_on": case.today()})
    assert view["groups"][0]["failure_reason"] == "obligor_refused"


def test_no_reply_by_the_reply_date_fails_consultation(runtime):
    case = Case(runtime)
    case.start_claim()
    case.investigate()
    case.prepare_and_serve()
    assert "record_obligor_reply" in case.open_tasks()
    case.advance("P40D")  # past 2026-07-08
    view = case.view()
    assert view["groups"][0]["failure_reason"] == "obligor_refused"
    assert "record_obligor_reply" not in case.open_tasks()
    assert "file_lawsuit" in case.open_tasks()


def test_three_meeting_limit_and_three_meetings_failure(runtime):
    case = Case(runtime)
    case.start_claim()
    case.investigate()
    case.prepare_and_serve()
    case.do("record_obligor_reply", {"obligor_reply": "accepts", "replied_on": case.today()})
    case.meeting("continue")
    case.meeting("continue")
    with pytest.raises(ValidationFailed) as refused:
        case.meeting("continue")
    assert "不超过3次" in refused.value.message
    assert "meeting_outcome" in refused.value.fields
    assert "record_consultation_meeting" in case.open_tasks()
    view = case.meeting("deadlocked")
    assert view["groups"][0]["failure_reason"] == "three_meetings"


def test_ninety_day_period_exceeded(runtime):
    case = Case(runtime)
    case.start_claim()
    case.investigate()
    case.advance("P32D")  # 2026-07-03
    case.prepare_and_serve(served_on="2026-07-03")
    case.do("record_obligor_reply", {"obligor_reply": "accepts", "replied_on": case.today()})
    case.meeting("continue")
    deadline = [d for d in case.view()["deadlines"] if d["name"] == "consultation"][0]
    assert deadline["due_on"] == "2026-10-08"
    assert "国庆节" in deadline["basis"]
    case.advance("P97D")  # 2026-10-08, the last day of the period (rolled over from National Day)
    assert "record_consultation_meeting" in case.open_tasks()
    case.advance("P1D")
    view = case.view()
    assert view["groups"][0]["failure_reason"] == "deadline_exceeded"
    assert "file_lawsuit" in case.open_tasks()


def test_litigation_then_enforcement_when_payment_is_not_made(runtime):
    case = Case(runtime)
    case.start_claim()
    case.investigate()
    case.prepare_and_serve()
    case.do("record_obligor_reply", {"obligor_reply": "refuses", "replied_on": case.today()})
    case.do("file_lawsuit", {"lawsuit_court": "福州市中级人民法院", "filed_on": case.today(), "lawsuit_basis": "consultation_failed",
                             "claims": "判令被告赔偿生态环境损害"})
    case.do("record_judgment", {"judgment_number": "（2026）闽01民初100号", "effective_on": case.today(), "remedy": "compensation",
                                "compensation_amount": "800000.00", "payment_due_on": "2026-08-31", "judgment_summary": "被告赔偿80万元"})
    assert "record_compensation_payment" in case.open_tasks()
    case.advance("P100D")
    assert "apply_enforcement" in case.open_tasks()
    assert [(o["kind"], o["status"]) for o in case.view()["groups"][0]["obligations"]] == [("payment", "overdue")]
    case.do("apply_enforcement", {"enforcement_court": "福州市中级人民法院", "applied_on": case.today(), "agent_name": "王经办",
                                  "agent_unit_position": "省生态环境厅法规处科员", "facts_found": "被告未按判决缴纳赔偿金",
                                  "defaulting_obligors": "福州某化工有限公司"})
    case.do("record_credit_sanction", {"measures": "纳入失信名单，限制参与政府采购", "reported_on": case.today()})
    view = case.do("close_case", {"closed_on": case.today(), "closing_summary": "已申请强制执行", "publish": False})
    assert view["status"] == "case_closed"
    assert 7 in [d["form"] for d in view["documents"]]


def test_judicial_confirmation_and_restoration_evaluated_twice(runtime):
    case = Case(runtime)
    case.start_claim()
    case.investigate(needs_assessment=True)
    case.prepare_and_serve()
    case.agree(remedy="restoration", judicial=True)
    case.do("record_judicial_confirmation", {"confirmed": True, "court": "福州市中级人民法院", "confirmation_number": "（2026）闽01民特5号",
                                             "confirmed_on": case.today()})
    case.do("record_restoration_plan", {"restoration_plan": "河道底泥清淤并补植水生植物", "restorer": "某环境修复公司",
                                        "restoration_due_on": "2027-06-30"})
    case.do("record_restoration_completion", {"completed_on": case.today(), "completion_report": "已完成清淤"})
    view = case.do("evaluate_restoration_effect", {"evaluated_on": case.today(), "evaluator": "某评估机构", "target_met": False,
                                                   "evaluation_notes": "镍浓度仍超标"})
    assert "record_restoration_completion" in [t["task"] for t in view["tasks"]]
    case.do("record_restoration_completion", {"completed_on": case.today(), "completion_report": "补充修复完成"})
    case.do("evaluate_restoration_effect", {"evaluated_on": case.today(), "evaluator": "某评估机构", "target_met": True,
                                            "evaluation_notes": "达到修复目标"})
    view = case.do("report_performance_to_authorities", {"report_needed": True, "reported_to": "福州市生态环境局",
                                                         "reported_on": case.today()})
    assert sorted(d["form"] for d in view["documents"]) == [1, 2, 4, 5, 6]
    history_titles = [h["title"] for h in view["history"]]
    assert sum("修复效果评估" in t for t in history_titles if t.startswith("办结")) == 2


def test_restoration_supervision_cycle_and_completion_message(runtime):
    from engine.services import messages

    case = Case(runtime)
    case.start_claim()
    case.investigate()
    case.prepare_and_serve()
    case.agree(remedy="restoration")
    case.do("record_restoration_plan", {"restoration_plan": "补植", "restorer": "义务人自行修复", "restoration_due_on": "2027-06-30"})
    case.advance("P31D")
    assert "supervise_restoration" in case.open_tasks()
    case.do("supervise_restoration", {"visited_on": case.today(), "progress": "已完成一半"})
    messages.deliver(runtime, case.officer, case.id, "restoration_completed", {"completed_on": case.today(), "report": "已完成"})
    assert "evaluate_restoration_effect" in case.open_tasks()


def test_unconfirmed_agreement_not_performed_leads_to_lawsuit(runtime):
    case = Case(runtime)
    case.start_claim()
    case.investigate()
    case.prepare_and_serve()
    case.agree(remedy="compensation", judicial=False)
    case.advance("P220D")  # past the 2026-12-31 payment date
    assert "file_lawsuit" in case.open_tasks()


def test_court_notice_received_in_time(runtime):
    from engine.services import messages

    case = Case(runtime)
    messages.deliver(runtime, case.officer, case.id, "pil_case_accepted",
                     {"court": "福州市中级人民法院", "case_number": "（2026）闽01民初9号", "accepted_on": case.today()})
    view = messages.deliver(runtime, case.officer, case.id, "court_notice_received",
                            {"court": "福州市中级人民法院", "received_on": case.today()})
    assert "coordinate_with_court" in [t["task"] for t in view["tasks"]]
    assert "chase_court_notice" not in [t["task"] for t in view["tasks"]]


def test_court_notice_late_is_chased(runtime):
    from engine.common.errors import Conflict
    from engine.services import messages

    case = Case(runtime)
    messages.deliver(runtime, case.officer, case.id, "pil_case_accepted",
                     {"court": "福州市中级人民法院", "case_number": "（2026）闽01民初9号", "accepted_on": "2026-06-01"})
    case.advance("P10D")
    assert "chase_court_notice" not in case.open_tasks()
    case.advance("P1D")
    assert "chase_court_notice" in case.open_tasks()
    case.do("chase_court_notice", {"chased_on": case.today(), "chase_note": "电话催告"})
    messages.deliver(runtime, case.officer, case.id, "court_notice_received", {"court": "福州市中级人民法院", "received_on": case.today()})
    assert "coordinate_with_court" in case.open_tasks()
    with pytest.raises(Conflict):
        messages.deliver(runtime, case.officer, case.id, "court_notice_received", {"court": "X", "received_on": case.today()})


def test_assessment_time_is_not_counted_in_the_investigation_period(runtime):
    case = Case(runtime)
    case.start_claim()
    before = [d for d in case.view()["deadlines"] if d["name"] == "investigation"][0]
    case.do("conduct_investigation", {
        "investigation_methods": ["documents"], "investigators": "王经办", "investigation_started_on": case.today(),
        "investigation_scope": "下游河段", "damage_exists": True, "damage_extent": "5公里", "damage_degree": "中度",
        "obligor_identified": True, "damage_facts": "偷排", "needs_assessment": True})
    case.do("choose_assessment_method", {"assessment_method": "institution", "institution": "某鉴定所"})
    case.advance("P20D")
    case.do("record_assessment_result", {"restorability": "restorable", "damage_amount": "100.00",
                                         "assessment_summary": "可修复", "report_title": "报告"})
    after = [d for d in case.view()["deadlines"] if d["name"] == "investigation"][0]
    assert after["paused_days"] == 20
    assert "暂停计算 20 日" in after["basis"]
    assert after["due_on"] > before["due_on"]


def test_expert_assessment_needs_the_three_confirmations(runtime):
    case = Case(runtime)
    case.start_claim()
    case.do("conduct_investigation", {
        "investigation_methods": ["documents"], "investigators": "王经办", "investigation_started_on": case.today(),
        "investigation_scope": "下游河段", "damage_exists": True, "damage_extent": "5公里", "damage_degree": "轻微",
        "obligor_identified": True, "damage_facts": "偷排", "needs_assessment": True})
    with pytest.raises(ValidationFailed) as refused:
        case.do("choose_assessment_method", {"assessment_method": "expert", "facts_simple": True})
    assert "专家" in refused.value.message


def test_periodic_screening_lists_pending_leads(runtime):
    from engine.services.screening import ensure_screening
    from engine.services.tasks import inbox

    Case(runtime)
    assert ensure_screening(runtime) == 6
    assert ensure_screening(runtime) == 0
    case_officer = get_actor(runtime, "officer1")
    assert not [t for t in inbox(runtime, case_officer, "group")["items"] if t["task"] == "screen_pending_leads"]
    Case(runtime).advance("P31D")
    items = [t for t in inbox(runtime, case_officer, "group")["items"] if t["task"] == "screen_pending_leads"]
    assert len(items) == 1 and items[0]["department"] == "eco_env"
    detail = tasks.get_task(runtime, case_officer, items[0]["id"])
    assert detail["form"]["title"] == "定期筛查案件线索"


def test_invalid_data_is_refused_with_the_field_named_and_nothing_changes(runtime):
    case = Case(runtime)
    item = case.task("screen_lead")
    with pytest.raises(ValidationFailed) as refused:
        tasks.complete(runtime, case.officer, item["id"], {"screening_result": "maybe"})
    assert "screening_result" in refused.value.fields
    assert case.open_tasks() == ["screen_lead"]
    bad = dict(COMPANY, uscc="91350100M000100Y44")
    case.do("screen_lead", {"screening_result": "start_claim", "screening_reason": "是"})
    with pytest.raises(ValidationFailed) as refused:
        case.do("register_claim_start", {"cause": "x", "case_summary": "y", "obligors": [bad]})
    assert "obligors.0.uscc" in refused.value.fields
    assert "统一社会信用代码" in refused.value.fields["obligors.0.uscc"]


def test_other_department_cannot_see_the_case(runtime):
    from engine.common.errors import NotFound

    case = Case(runtime)
    with pytest.raises(NotFound):
        cases.get_case(runtime, get_actor(runtime, "officer2"), case.id)
    with pytest.raises(NotFound):
        tasks.get_task(runtime, get_actor(runtime, "officer2"), case.task("screen_lead")["id"])


def test_voluntary_restoration_during_consultation(runtime):
    from engine.services import messages

    case = Case(runtime)
    case.start_claim()
    case.investigate()
    case.prepare_and_serve()
    messages.deliver(runtime, case.officer, case.id, "obligor_requests_restoration", {"requested_on": case.today(), "note": "愿先行修复"})
    assert {"confirm_damage_facts", "record_obligor_reply"} <= set(case.open_tasks())
    case.do("confirm_damage_facts", {"confirmed_on": case.today(), "confirmed_facts": "双方确认损害事实", "approved": True})
    case.do("supervise_voluntary_restoration", {"supervised_on": case.today(), "supervision_notes": "按方案推进"})
    assert "record_obligor_reply" in case.open_tasks()
    case.do("record_obligor_reply", {"obligor_reply": "accepts", "replied_on": case.today()})
    view = case.meeting("agreed")
    assert view["groups"][0]["outcome"] == "agreed"


def test_lead_transferred_to_another_department(runtime):
    case = Case(runtime)
    water = get_actor(runtime, "officer2")
    with pytest.raises(ValidationFailed):
        cases.transfer_lead(runtime, case.officer, case.id, "water", " ")
    view = cases.transfer_lead(runtime, case.officer, case.id, "water", "属水利部门职责（§16 线索移送）")
    assert view["department"] == "water"
    item = [t for t in tasks.inbox(runtime, water, "group")["items"] if t["case_id"] == case.id]
    assert item and item[0]["task"] == "screen_lead"
    from engine.common.errors import NotFound

    with pytest.raises(NotFound):
        cases.get_case(runtime, case.officer, case.id)  # no longer visible to the first department
    tasks.complete(runtime, water, item[0]["id"], {"screening_result": "no_claim", "screening_reason": "另案处理"})
    assert cases.get_case(runtime, water, case.id)["status"] == "lead_closed"


def test_a_message_naming_a_group_reaches_only_that_group(runtime):
    from engine.common.errors import Conflict
    from engine.services import messages

    from .driver import PERSON

    case = Case(runtime)
    case.do("screen_lead", {"screening_result": "start_claim", "screening_reason": "符合启动情形"})
    case.do("register_claim_start", {"cause": "违法排污", "case_summary": "两个义务人分别磋商",
                                     "obligors": [dict(COMPANY, group=1), dict(PERSON, group=2)]})
    case.do("approve_claim_start_division", {"approved": True, "opinion": "同意"})
    case.do("approve_claim_start_department", {"approved": True, "opinion": "同意"})
    case.investigate()
    assert sorted(t["group"] for t in case.view()["tasks"] if t["task"] == "prepare_consultation") == [1, 2]
    case.prepare_and_serve(group=1)
    case.prepare_and_serve(group=2)
    with pytest.raises(Conflict):
        messages.deliver(runtime, case.officer, case.id, "obligor_requests_restoration",
                         {"requested_on": case.today(), "group": 3})
    with pytest.raises(ValidationFailed) as ambiguous:
        messages.deliver(runtime, case.officer, case.id, "obligor_requests_restoration", {"requested_on": case.today()})
    assert "1、2" in ambiguous.value.fields["group"]
    messages.deliver(runtime, case.officer, case.id, "obligor_requests_restoration",
                     {"requested_on": case.today(), "note": "个人义务人愿先行修复", "group": 2})
    confirm = [t["group"] for t in case.view()["tasks"] if t["task"] == "confirm_damage_facts"]
    assert confirm == [2]
    groups = {g["id"]: g["obligors"] for g in case.view()["groups"]}
    assert groups == {1: ["福州某化工有限公司"], 2: ["陈某"]}
