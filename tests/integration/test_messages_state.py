"""A message is accepted only where the case's state allows it: not on a closed case, and a court's acceptance
of the same public-interest suit (same court case number) is registered once."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from engine.common.errors import Conflict
from engine.services import messages
from engine.store.models import ProcessInstance

from .driver import Case

ACCEPTED = {"court": "福州市中级人民法院", "case_number": "（2026）闽01民初9号", "accepted_on": "2026-06-01"}


def _court_notice_instances(runtime, case_id: int) -> int:
    with runtime.db.transaction() as s:
        return int(s.execute(select(func.count()).select_from(ProcessInstance).where(
            ProcessInstance.case_id == case_id, ProcessInstance.process_id == "pil_court_notice")).scalar_one())


def test_no_message_on_a_closed_case(runtime):
    case = Case(runtime)
    case.do("screen_lead", {"screening_result": "no_claim", "screening_reason": "不属于生态环境损害"})
    with pytest.raises(Conflict, match="案件已结束") as refused:
        messages.deliver(runtime, case.officer, case.id, "pil_case_accepted", dict(ACCEPTED))
    assert "name" in refused.value.fields
    assert _court_notice_instances(runtime, case.id) == 0
    assert [h for h in case.view()["history"] if h["event"] == "message"] == []


def test_the_same_court_case_number_twice_is_a_conflict(runtime):
    case = Case(runtime)
    messages.deliver(runtime, case.officer, case.id, "pil_case_accepted", dict(ACCEPTED))
    with pytest.raises(Conflict, match="（2026）闽01民初9号") as refused:
        messages.deliver(runtime, case.officer, case.id, "pil_case_accepted", dict(ACCEPTED))
    assert "case_number" in refused.value.fields
    assert _court_notice_instances(runtime, case.id) == 1
    assert case.open_tasks().count("chase_court_notice") == 0
    # a second suit (another number) is its own court notice
    messages.deliver(runtime, case.officer, case.id, "pil_case_accepted", dict(ACCEPTED, case_number="（2026）闽01民初10号"))
    assert _court_notice_instances(runtime, case.id) == 2
    # still refused later, whatever step the first court notice process has reached
    case.advance("P11D")
    case.do("chase_court_notice", {"chased_on": case.today(), "chase_note": "电话催告"})
    with pytest.raises(Conflict):
        messages.deliver(runtime, case.officer, case.id, "pil_case_accepted", dict(ACCEPTED))


def test_the_messages_a_case_can_take_now(runtime):
    from engine.services import case_messages

    def offered(case: Case) -> dict[str, list[int]]:
        return {m["name"]: m["groups"] for m in case_messages.available(runtime, case.officer, case.id)}

    case = Case(runtime)
    assert offered(case) == {"pil_case_accepted": []}
    messages.deliver(runtime, case.officer, case.id, "pil_case_accepted", dict(ACCEPTED))
    assert offered(case) == {"pil_case_accepted": [], "court_notice_received": []}
    consulting = Case(runtime)
    consulting.start_claim()
    consulting.investigate()
    consulting.prepare_and_serve()
    assert offered(consulting)["obligor_requests_restoration"] == [1]
    closed = Case(runtime)
    closed.do("screen_lead", {"screening_result": "no_claim", "screening_reason": "不属于生态环境损害"})
    assert offered(closed) == {}
