"""A small driver for path tests: complete a case's open task by its BPMN id, as the right person."""

from __future__ import annotations

from typing import Any

from engine.auth.users import get_actor
from engine.common import clock
from engine.services import cases, tasks, timers
from engine.store.runtime import Runtime

COMPANY = {"name": "福州某化工有限公司", "kind": "company", "uscc": "91350100M000100Y43", "address": "福建省福州市马尾区某路1号",
           "legal_representative": "林某", "position": "执行董事", "contact": "0591-88888888", "group": 1}
PERSON = {"name": "陈某", "kind": "person", "id_number": "11010519491231002X", "address": "福建省福州市闽侯县某村",
          "work_unit": "个体运输户", "contact": "13800000000", "group": 1}

LEAD = {"lead_source": "inspection", "title": "某化工公司偷排含镍废水污染闽江支流", "description": "省级督察发现企业通过暗管排放含镍废水",
        "location": "福建省福州市马尾区", "found_on": "2026-05-20", "department": "eco_env"}

ROLE_USER = {"officer": "officer1", "division_head": "division1", "department_head": "dept1", "supervisor": "supervisor1"}


class Case:
    def __init__(self, runtime: Runtime, obligors: list[dict[str, Any]] | None = None) -> None:
        self.runtime = runtime
        self.officer = get_actor(runtime, "officer1")
        data = dict(LEAD, obligors=obligors if obligors is not None else [COMPANY, PERSON])
        self.id = cases.register_lead(runtime, self.officer, data)["id"]

    def view(self) -> dict[str, Any]:
        return cases.get_case(self.runtime, self.officer, self.id)

    def open_tasks(self) -> list[str]:
        return sorted(t["task"] for t in self.view()["tasks"])

    def task(self, bpmn_id: str, group: int | None = None) -> dict[str, Any]:
        found = [t for t in self.view()["tasks"] if t["task"] == bpmn_id and (group is None or t["group"] == group)]
        assert found, f"{bpmn_id} not open; open: {self.open_tasks()}"
        return found[0]

    def do(self, bpmn_id: str, data: dict[str, Any], group: int | None = None) -> dict[str, Any]:
        item = self.task(bpmn_id, group)
        actor = get_actor(self.runtime, ROLE_USER[item["candidate_role"]])
        out = tasks.complete(self.runtime, actor, item["id"], data)
        assert out["incident"] is None, out["incident"]
        return out["case"]  # type: ignore[no-any-return]

    def advance(self, duration: str) -> None:
        timers.advance_clock(self.runtime, get_actor(self.runtime, "admin1"), by=duration)

    def today(self) -> str:
        return clock.today().isoformat()

    # ---- stage helpers -------------------------------------------------------------------------
    def start_claim(self) -> None:
        self.do("screen_lead", {"screening_result": "start_claim", "screening_reason": "损害事实清楚，符合索赔启动情形"})
        self.do("register_claim_start", {"cause": "违法排放含镍废水造成地表水生态环境损害",
                                         "case_summary": "企业暗管偷排含镍废水，下游水体镍超标，拟启动索赔。",
                                         "obligors": [COMPANY, PERSON]})
        self.do("approve_claim_start_division", {"approved": True, "opinion": "同意启动索赔"})
        self.do("approve_claim_start_department", {"approved": True, "opinion": "同意"})

    def investigate(self, needs_assessment: bool = False, conclusion: str = "claim") -> None:
        self.do("conduct_investigation", {
            "investigation_methods": ["documents", "site_survey"], "investigators": "王经办、刘某",
            "investigation_started_on": self.today(), "investigation_scope": "排污口下游5公里河段",
            "damage_exists": True, "damage_extent": "下游5公里河段", "damage_degree": "水体镍超标3倍",
            "obligor_identified": True, "damage_facts": "2026年5月企业通过暗管排放含镍废水。",
            "evidence": [{"kind": "inspection_record", "title": "现场勘验笔录"}], "needs_assessment": needs_assessment})
        if needs_assessment:
            self.do("choose_assessment_method", {"assessment_method": "institution", "institution": "福建某司法鉴定所"})
            self.do("record_assessment_result", {
                "restorability": "restorable", "damage_amount": "1250000.00", "assessment_summary": "损害可以修复",
                "report_title": "某司法鉴定所鉴定评估报告"})
        self.do("conclude_investigation", {"investigation_conclusion": conclusion, "legal_basis": "《民法典》第一千二百三十四条",
                                           "handling_suggestion": "建议开展磋商"})

    def prepare_and_serve(self, served_on: str | None = None, group: int | None = None, complex_case: bool = False) -> None:
        self.do("prepare_consultation", {
            "team_claimant": "××省生态环境厅法规处", "invited_units": "福州市人民检察院", "meeting_time": "2026年7月10日上午9时",
            "meeting_place": "省生态环境厅3楼会议室", "reply_due_date": "2026-07-08", "complex_case": complex_case,
            "cause": "违法排放含镍废水", "investigation_summary": "经调查，损害事实清楚。", "notice_date": self.today()}, group)
        if complex_case:
            self.do("pre_consultation_exchange", {"exchange_on": self.today(), "exchange_notes": "沟通交流了修复方案"}, group)
        self.do("record_notice_service", {"served_on": served_on or self.today(), "service_method": "direct"}, group)

    def meeting(self, outcome: str, group: int | None = None, on: str | None = None) -> dict[str, Any]:
        return self.do("record_consultation_meeting", {
            "meeting_on": on or self.today(), "chair": "省生态环境厅", "participants": "双方代表、检察院",
            "minutes": "双方就修复方案进行了磋商", "meeting_outcome": outcome}, group)

    def agree(self, group: int | None = None, remedy: str = "compensation", judicial: bool = False) -> None:
        self.do("record_obligor_reply", {"obligor_reply": "accepts", "replied_on": self.today()}, group)
        self.meeting("agreed", group)
        data = {"facts": "企业偷排含镍废水", "evidence_summary": "勘验笔录、监测报告", "legal_basis": "《民法典》",
                "liability": "赔偿义务人承担全部赔偿责任", "remedy": remedy, "compensation_amount": "1250000.00",
                "cost_bearing": "鉴定评估费用由赔偿义务人承担", "signing_place": "福州市", "planned_signing_on": self.today(), "agreement_name": "闽江支流镍污染生态环境损害赔偿协议",
                "obligations": [{"kind": "payment", "description": "缴纳生态环境损害赔偿金", "amount": "1250000.00",
                                 "due_on": "2026-12-31", "account": "treasury"}]}
        if remedy in ("compensation", "both"):
            data["payment_due_on"] = "2026-12-31"
        if remedy in ("restoration", "both"):
            data.update(restoration_mode="third_party", restoration_start_on=self.today(), restoration_due_on="2027-06-30")
        self.do("draft_agreement", data, group)
        sign = {"signed_on": self.today(), "apply_judicial_confirmation": judicial}
        if judicial:
            sign.update(confirmation_court="福州市中级人民法院", local_rules="《福建省生态环境损害赔偿制度改革实施方案》",
                        confirmation_applied_on=self.today())
        self.do("sign_agreement", sign, group)
