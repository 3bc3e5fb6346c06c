"""Demo data for ``serve --demo`` on an empty database: the demo users (README) and a few cases at different stages."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from engine.auth.users import create_user, ensure_departments, get_actor, upsert_department
from engine.common import clock
from engine.services import cases, tasks
from engine.store.models import User
from engine.store.runtime import Runtime

DEMO_USERS = [
    ("officer1", ["officer"], "eco_env", "王经办"), ("officer2", ["officer"], "water", "赵经办"),
    ("division1", ["division_head"], "eco_env", "李处长"), ("dept1", ["department_head"], "eco_env", "张厅长"),
    ("supervisor1", ["supervisor"], None, "陈督办"), ("analyst1", ["analyst"], None, "周流程"),
    ("admin1", ["admin"], None, "系统管理员"),
]
ROLE_USER = {"officer": "officer1", "division_head": "division1", "department_head": "dept1",
             "supervisor": "supervisor1"}

COMPANY = {"name": "福州某化工有限公司", "kind": "company", "uscc": "91350100M000100Y43",
           "address": "福建省福州市马尾区某路1号", "legal_representative": "林某", "position": "执行董事", "group": 1}
PERSON = {"name": "陈某", "kind": "person", "id_number": "11010519491231002X", "address": "福建省福州市闽侯县某村",
          "work_unit": "个体运输户", "group": 1}


def _steps_to_consultation(today: str) -> list[tuple[str, dict[str, Any]]]:
    return [
        ("screen_lead", {"screening_result": "start_claim", "screening_reason": "损害事实清楚，符合索赔启动情形"}),
        ("register_claim_start", {"cause": "违法排放含镍废水造成地表水生态环境损害",
                                  "case_summary": "企业暗管偷排含镍废水，下游水体镍超标。", "obligors": [COMPANY, PERSON]}),
        ("approve_claim_start_division", {"approved": True, "opinion": "同意启动索赔"}),
        ("approve_claim_start_department", {"approved": True, "opinion": "同意"}),
        ("conduct_investigation", {
            "investigation_methods": ["documents", "site_survey"], "investigators": "王经办、刘某",
            "investigation_started_on": today, "investigation_scope": "排污口下游5公里河段", "damage_exists": True,
            "damage_extent": "下游5公里河段", "damage_degree": "水体镍超标3倍", "obligor_identified": True,
            "damage_facts": "企业通过暗管排放含镍废水。", "needs_assessment": False}),
        ("conclude_investigation", {"investigation_conclusion": "claim", "legal_basis": "《民法典》第一千二百三十四条",
                                    "handling_suggestion": "建议开展磋商"}),
        ("prepare_consultation", {
            "team_claimant": "××省生态环境厅法规处", "invited_units": "福州市人民检察院", "meeting_time": "另行通知",
            "meeting_place": "省生态环境厅3楼会议室", "reply_due_date": today, "complex_case": False,
            "cause": "违法排放含镍废水", "investigation_summary": "经调查，损害事实清楚。", "notice_date": today}),
        ("record_notice_service", {"served_on": today, "service_method": "direct"}),
        ("record_obligor_reply", {"obligor_reply": "accepts", "replied_on": today}),
    ]


def load_demo(runtime: Runtime) -> bool:
    """Create the demo users and cases once; returns False when the database already had users."""
    with runtime.db.transaction() as s:
        ensure_departments(s)
        if s.execute(select(User.id).limit(1)).first() is not None:
            return False
    upsert_department(runtime, "eco_env", "生态环境", "××省生态环境厅", "环赔", uscc="11350000MB0196348B",
                      legal_representative="张某某", address="××省××市××路1号", contact="0591-00000000")
    for username, roles, dept, name in DEMO_USERS:
        create_user(runtime, username, "demo", roles, dept, name)
    today = clock.today().isoformat()
    lead = {"lead_source": "inspection", "description": "督察发现企业暗管排放含镍废水", "location": "福建省福州市马尾区",
            "found_on": today, "department": "eco_env", "obligors": [COMPANY]}
    steps = _steps_to_consultation(today)
    _case(runtime, dict(lead, title="某化工公司偷排含镍废水案（待核查线索）"), [])
    _case(runtime, dict(lead, title="某矿山企业非法占用林地案（待审批）", lead_source="petition"), steps[:2])
    _case(runtime, dict(lead, title="某养殖场废水直排案（不予索赔）", lead_source="admin_penalty"),
          [("screen_lead", {"screening_result": "no_claim", "screening_reason": "已另案处理"})])
    _case(runtime, dict(lead, title="闽江支流镍污染案（调查中）"), steps[:4])
    _case(runtime, dict(lead, title="某电镀厂含铬废水案（磋商中）", lead_source="special_action", obligors=[COMPANY, PERSON]),
          steps)
    return True


def _case(runtime: Runtime, lead: dict[str, Any], steps: list[tuple[str, dict[str, Any]]]) -> None:
    case_id = cases.register_lead(runtime, get_actor(runtime, "officer1"), lead)["id"]
    for bpmn_id, data in steps:
        item = next(t for t in cases.get_case(runtime, get_actor(runtime, "supervisor1"), case_id)["tasks"]
                    if t["task"] == bpmn_id)
        tasks.complete(runtime, get_actor(runtime, ROLE_USER[item["candidate_role"]]), item["id"], data)
