"""Engine failures become incidents: the person's work stays done, the real cause is shown, a retry resumes."""

from __future__ import annotations

import pytest

from engine.auth.users import get_actor
from engine.common.errors import Forbidden
from engine.services import incidents, tasks

from .driver import COMPANY, Case


def test_failing_service_task_keeps_the_approval_and_retry_resumes(runtime):
    case = Case(runtime)
    case.do("screen_lead", {"screening_result": "start_claim", "screening_reason": "符合启动情形"})
    case.do("register_claim_start", {"cause": "违法排污", "case_summary": "偷排", "obligors": [COMPANY]})
    case.do("approve_claim_start_division", {"approved": True, "opinion": "同意"})
    runtime.config.case_number_format = "{prefix}〔{year}〕{serial}号"  # a misconfigured number format
    item = case.task("approve_claim_start_department")
    out = tasks.complete(runtime, get_actor(runtime, "dept1"), item["id"], {"approved": True, "opinion": "同意"})
    assert out["incident"]["element"] == "give_case_number"
    assert "serial" in out["incident"]["message"]
    view = case.view()
    assert "approve_claim_start_department" not in [t["task"] for t in view["tasks"]]  # the approval is kept
    assert view["variables"]["claim_start_department"]["approved"] is True
    assert view["number"] is None and view["documents"] == []  # nothing half-done
    assert [h["event"] for h in view["history"]].count("incident") == 1
    supervisor = get_actor(runtime, "supervisor1")
    open_ = incidents.open_incidents(runtime, supervisor, case.id)
    assert len(open_) == 1 and open_[0]["element"] == "give_case_number"
    with pytest.raises(Forbidden):
        incidents.retry(runtime, case.officer, open_[0]["id"])
    again = incidents.retry(runtime, supervisor, open_[0]["id"])  # still broken: a new incident, not a crash
    assert again["resolved"] is False and "serial" in again["incident"]["message"]
    runtime.config.case_number_format = "{prefix}〔{year}〕{seq}号"
    done = incidents.retry(runtime, supervisor, again["incident"]["id"])
    assert done == {"resolved": True, "incident": None}
    view = case.view()
    assert view["number"] == "环赔〔2026〕1号"
    assert [d["form"] for d in view["documents"]] == [1]
    assert "conduct_investigation" in [t["task"] for t in view["tasks"]]
    assert incidents.open_incidents(runtime, supervisor, case.id) == []
