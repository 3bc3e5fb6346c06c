"""Engine failures become incidents: the person's work stays done, the real cause is shown, a retry resumes."""

from __future__ import annotations

import pytest

from engine.auth.users import get_actor
from engine.common.errors import Conflict, Forbidden, ValidationFailed
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
    message = out["incident"]["message"]
    assert message.startswith("案件编号格式") and ". :" not in message and message.count("无效") == 1  # said once, in Chinese
    assert "detail" not in out["incident"]  # the technical detail is for supervisors only
    view = case.view()
    assert "approve_claim_start_department" not in [t["task"] for t in view["tasks"]]  # the approval is kept
    assert view["variables"]["claim_start_department"]["approved"] is True
    assert view["number"] is None and view["documents"] == []  # nothing half-done
    assert [h["event"] for h in view["history"]].count("incident") == 1
    supervisor = get_actor(runtime, "supervisor1")
    open_ = incidents.open_incidents(runtime, supervisor, case.id)
    assert len(open_) == 1 and open_[0]["element"] == "give_case_number"
    assert "ValueError" in open_[0]["detail"] and "KeyError" in open_[0]["detail"]
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


PREPARE = {"team_claimant": "××省生态环境厅法规处", "invited_units": "福州市人民检察院", "meeting_time": "2026年7月10日上午9时",
           "meeting_place": "省生态环境厅3楼会议室", "reply_due_date": "2026-07-08", "complex_case": False,
           "cause": "违法排放含镍废水", "investigation_summary": "经调查，损害事实清楚。"}


def _stuck_at_form4(runtime, monkeypatch) -> tuple[Case, dict]:
    """A case whose consultation notice (form 4) cannot be rendered: the preparation was accepted without the
    notice date (as an older form allowed), so the case stops on an incident at ``render_form4``."""
    from engine.forms import schemas

    case = Case(runtime, obligors=[COMPANY])
    case.start_claim()
    case.investigate()
    item = case.task("prepare_consultation")
    with monkeypatch.context() as m:
        m.setattr(schemas, "check", lambda bpmn_dir, form_id, data, context: data)  # the old, lenient form
        out = tasks.complete(runtime, case.officer, item["id"], dict(PREPARE))
    assert out["incident"] is not None and out["incident"]["element"] == "render_form4"
    return case, out["incident"]


def test_a_supervisor_corrects_the_data_and_the_retry_gets_past(runtime, monkeypatch):
    case, incident = _stuck_at_form4(runtime, monkeypatch)
    view = case.view()
    assert view["has_incident"] is True and view["stage"] == "consultation"  # the stage does not fall back
    supervisor = get_actor(runtime, "supervisor1")
    with pytest.raises(Forbidden):
        incidents.correct_data(runtime, case.officer, incident["id"], {"notice_date": case.today()}, "补录")
    with pytest.raises(ValidationFailed) as refused:
        incidents.correct_data(runtime, supervisor, incident["id"], {"__class__": 1}, "补录")
    assert "data" in refused.value.fields
    with pytest.raises(ValidationFailed) as no_reason:
        incidents.correct_data(runtime, supervisor, incident["id"], {"notice_date": case.today()}, "")
    assert "reason" in no_reason.value.fields
    fixed = incidents.correct_data(runtime, supervisor, incident["id"], {"notice_date": case.today()}, "补录通知日期")
    assert fixed["before"] == {"notice_date": None} and fixed["after"] == {"notice_date": case.today()}
    done = incidents.retry(runtime, supervisor, incident["id"])
    assert done == {"resolved": True, "incident": None}
    view = case.view()
    assert view["has_incident"] is False
    assert 4 in [d["form"] for d in view["documents"]]
    assert "record_notice_service" in [t["task"] for t in view["tasks"]]
    fixes = [h for h in view["history"] if h["event"] == "incident_fix"]
    assert fixes and fixes[0]["detail"]["before"] == {"notice_date": None} and fixes[0]["detail"]["reason"] == "补录通知日期"


def test_a_supervisor_returns_the_case_to_the_task_whose_input_failed(runtime, monkeypatch):
    case, incident = _stuck_at_form4(runtime, monkeypatch)
    supervisor = get_actor(runtime, "supervisor1")
    back = incidents.return_to_task(runtime, supervisor, incident["id"], reason="通知日期漏填，请补充")
    assert back["element"] == "prepare_consultation"
    view = case.view()
    assert view["has_incident"] is False
    reopened = case.task("prepare_consultation")
    assert reopened["id"] == back["task"] and reopened["state"] == "open"
    offered = tasks.get_task(runtime, case.officer, reopened["id"])["data"]
    assert offered["meeting_place"] == PREPARE["meeting_place"]  # what the officer typed is kept
    case.do("prepare_consultation", dict(PREPARE, notice_date=case.today()))
    view = case.view()
    assert 4 in [d["form"] for d in view["documents"]]
    assert "record_notice_service" in [t["task"] for t in view["tasks"]]
    assert any(h["event"] == "incident_fix" and "退回任务" in h["title"] for h in view["history"])
    with pytest.raises(Conflict):  # the incident was closed by the return
        incidents.retry(runtime, supervisor, incident["id"])
