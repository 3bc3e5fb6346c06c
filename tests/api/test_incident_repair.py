"""Repairing a stuck case through the API: a supervisor corrects the data and retries, or returns the case to
the task whose input caused the failure; officers may not; bad input is a 422 naming the field."""

from __future__ import annotations

from tests.integration.test_incidents import _stuck_at_form4


def test_correct_and_retry_over_the_api(runtime, as_user, monkeypatch):
    case, incident = _stuck_at_form4(runtime, monkeypatch)
    supervisor, officer = as_user("supervisor1"), as_user("officer1")
    url = f"/api/v1/incidents/{incident['id']}"
    assert officer.post(f"{url}/data", json={"data": {"notice_date": "2026-07-01"}, "reason": "补录"}).status_code == 403
    bad = supervisor.post(f"{url}/data", json={"data": {"notice_date": "2026-07-01"}})
    assert bad.status_code == 422 and "reason" in bad.json["error"]["fields"]
    assert supervisor.post(f"{url}/data", json={"data": "x", "reason": "补录"}).status_code == 422
    fixed = supervisor.post(f"{url}/data", json={"data": {"notice_date": case.today()}, "reason": "补录通知日期"})
    assert fixed.status_code == 200 and fixed.json["after"] == {"notice_date": case.today()}
    retried = supervisor.post(f"{url}/retry")
    assert retried.status_code == 200 and retried.json["resolved"] is True
    assert supervisor.get(f"/api/v1/cases/{case.id}").json["has_incident"] is False


def test_return_to_task_over_the_api(runtime, as_user, monkeypatch):
    case, incident = _stuck_at_form4(runtime, monkeypatch)
    supervisor = as_user("supervisor1")
    url = f"/api/v1/incidents/{incident['id']}/return"
    assert supervisor.post(url, json={"reason": "补充", "task": 5}).status_code == 400
    unknown = supervisor.post(url, json={"reason": "补充", "task": "no_such_task"})
    assert unknown.status_code == 422 and "task" in unknown.json["error"]["fields"]
    back = supervisor.post(url, json={"reason": "通知日期漏填"})
    assert back.status_code == 200 and back.json["element"] == "prepare_consultation"
    assert supervisor.post(url, json={"reason": "again"}).status_code == 409
    assert "prepare_consultation" in [t["task"] for t in as_user("officer1").get(f"/api/v1/cases/{case.id}").json["tasks"]]
