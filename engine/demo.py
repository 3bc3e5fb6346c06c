"""Demo data for ``serve --demo`` on an empty database: the users of API.md and a few cases at different stages."""

from __future__ import annotations

from sqlalchemy import select

from . import cases, tasks
from .models import User
from .runtime import Engine
from .users import create_user, ensure_departments, get_actor

DEMO_USERS = [
    ("officer1", ["officer"], "eco_env", "王经办"), ("officer2", ["officer"], "water", "赵经办"),
    ("division1", ["division_head"], "eco_env", "李处长"), ("dept1", ["department_head"], "eco_env", "张厅长"),
    ("supervisor1", ["supervisor"], None, "陈督办"), ("analyst1", ["analyst"], None, "周流程"),
    ("admin1", ["admin"], None, "系统管理员"),
]

COMPANY = {"name": "福州某化工有限公司", "kind": "company", "uscc": "91350100M000100Y43", "address": "福建省福州市马尾区某路1号",
           "legal_representative": "林某", "position": "执行董事", "group": 1}


def load_demo(engine: Engine) -> bool:
    """Create the demo users and cases once; returns False when the database already had users."""
    with engine.db.transaction() as s:
        ensure_departments(s)
        if s.execute(select(User.id).limit(1)).first() is not None:
            return False
    for username, roles, dept, name in DEMO_USERS:
        create_user(engine, username, "demo", roles, dept, name)
    officer = get_actor(engine, "officer1")
    lead = {"lead_source": "inspection", "description": "督察发现企业暗管排放含镍废水", "location": "福建省福州市马尾区",
            "found_on": "2026-05-20", "department": "eco_env", "obligors": [COMPANY]}
    cases.register_lead(engine, officer, dict(lead, title="某化工公司偷排含镍废水案（线索）"))
    second = cases.register_lead(engine, officer, dict(lead, title="某矿山企业非法占用林地案", lead_source="petition"))
    _complete(engine, second["id"], "screen_lead", "officer1",
              {"screening_result": "start_claim", "screening_reason": "损害事实清楚"})
    _complete(engine, second["id"], "register_claim_start", "officer1",
              {"cause": "非法占用林地造成生态破坏", "case_summary": "企业越界开采，破坏林地约20亩。", "obligors": [COMPANY]})
    third = cases.register_lead(engine, officer, dict(lead, title="某养殖场废水直排案", lead_source="admin_penalty"))
    _complete(engine, third["id"], "screen_lead", "officer1", {"screening_result": "no_claim", "screening_reason": "已另案处理"})
    return True


def _complete(engine: Engine, case_id: int, bpmn_id: str, username: str, data: dict[str, object]) -> None:
    actor = get_actor(engine, username)
    item = next(t for t in cases.get_case(engine, actor, case_id)["tasks"] if t["task"] == bpmn_id)
    tasks.complete(engine, actor, item["id"], data)
