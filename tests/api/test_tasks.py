"""The inbox through the API: scopes, detail with form and data, claim, unclaim, complete and their refusals."""

from __future__ import annotations

import uuid

from engine.auth.users import create_user

from .conftest import new_case, open_task


def test_scopes(runtime, as_user):
    officer, other = as_user("officer1"), as_user("officer2")
    case_id = new_case(officer)["id"]
    assert officer.get("/api/v1/tasks").json["items"] == []  # default scope: mine
    group = officer.get("/api/v1/tasks?scope=group").json["items"]
    assert [t["task"] for t in group] == ["screen_lead"]
    item = group[0]
    assert {"id", "case_id", "case_number", "task", "title", "assignee", "candidate_role", "department",
            "created_at", "due_at", "overdue"} <= set(item)
    assert item["case_id"] == case_id and item["candidate_role"] == "officer" and item["department"] == "eco_env"
    assert other.get("/api/v1/tasks?scope=group").json["items"] == []
    assert other.get("/api/v1/tasks?scope=all").json["items"] == []
    assert as_user("supervisor1").get("/api/v1/tasks?scope=all").json["items"][0]["id"] == item["id"]
    assert officer.post(f"/api/v1/tasks/{item['id']}/claim").status_code == 200
    assert [t["id"] for t in officer.get("/api/v1/tasks?scope=mine").json["items"]] == [item["id"]]
    assert officer.get("/api/v1/tasks?scope=group").json["items"] == []
    assert officer.get(f"/api/v1/tasks?scope=all&case={case_id}").json["items"][0]["assignee"] == "officer1"
    assert officer.get("/api/v1/tasks?scope=all&case=424242").json["items"] == []
    for bad in ("scope=everything", "case=abc", "case=0", "foo=1"):
        assert officer.get(f"/api/v1/tasks?{bad}").status_code == 400, bad


def test_detail_has_form_and_data(as_user):
    officer = as_user("officer1")
    case_id = new_case(officer)["id"]
    task = open_task(officer, case_id, "screen_lead")
    detail = officer.get(f"/api/v1/tasks/{task['id']}").json
    assert detail["form"]["type"] == "object"
    assert "screening_result" in detail["form"]["properties"]
    assert detail["form"]["properties"]["screening_result"]["enum"] == ["start_claim", "no_claim"]
    assert isinstance(detail["data"], dict)
    assert officer.get(f"/api/v1/tasks/{uuid.uuid4()}").status_code == 404
    assert officer.get("/api/v1/tasks/not-a-uuid").status_code == 404
    assert as_user("officer2").get(f"/api/v1/tasks/{task['id']}").status_code == 404


def test_claim_unclaim_complete(runtime, as_user):
    create_user(runtime, "officer3", None, ["officer"], "eco_env", "孙经办")
    officer, colleague = as_user("officer1"), as_user("officer3")
    case_id = new_case(officer)["id"]
    task = open_task(officer, case_id, "screen_lead")
    url = f"/api/v1/tasks/{task['id']}"
    claimed = officer.post(f"{url}/claim")
    assert claimed.status_code == 200 and claimed.json["assignee"] == "officer1"
    assert officer.post(f"{url}/claim").status_code == 200  # claiming one's own task again changes nothing
    assert colleague.post(f"{url}/claim").status_code == 409
    assert colleague.post(f"{url}/unclaim").status_code == 409
    done = {"data": {"screening_result": "no_claim", "screening_reason": "不属于生态环境损害"}}
    assert colleague.post(f"{url}/complete", json=done).status_code == 409  # assigned to someone else
    assert officer.post(f"{url}/unclaim").json["assignee"] is None
    assert as_user("division1").post(f"{url}/claim").status_code == 403  # wrong role
    bad = officer.post(f"{url}/complete", json={"data": {"screening_result": "maybe"}})
    assert bad.status_code == 422
    assert {"screening_result", "screening_reason"} <= set(bad.json["error"]["fields"])
    assert officer.post(f"{url}/complete", json={"screening_result": "no_claim"}).status_code == 400
    assert officer.post(f"{url}/complete", json={"data": []}).status_code == 400
    result = colleague.post(f"{url}/complete", json=done)
    assert result.status_code == 200
    assert result.json["case"]["status"] == "lead_closed"
    assert result.json["incident"] is None
    assert officer.post(f"{url}/complete", json=done).status_code == 409
    assert officer.post(f"{url}/claim").status_code == 409
    assert officer.post(f"{url}/unclaim").status_code == 409
    assert officer.get(url).json["state"] == "completed"


def test_other_department_cannot_act_on_participating_case(runtime, as_user):
    from engine.store.models import CaseDepartment

    officer = as_user("officer1")
    case_id = new_case(officer)["id"]
    with runtime.db.transaction() as s:
        s.add(CaseDepartment(case_id=case_id, department_id="water"))
    task = open_task(officer, case_id, "screen_lead")
    water = as_user("officer2")
    assert water.get(f"/api/v1/cases/{case_id}").status_code == 200  # a participating department sees it
    assert water.get(f"/api/v1/tasks/{task['id']}").status_code == 200
    assert water.post(f"/api/v1/tasks/{task['id']}/claim").status_code == 403  # but acts only on its own work
