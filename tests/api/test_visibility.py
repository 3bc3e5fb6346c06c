"""Every path of the OpenAPI document that takes an id: a user of another department gets 404 for an eco_env
case's ids (an invisible case, task, document or notification does not exist for them)."""

from __future__ import annotations

import re

from engine.common import clock
from engine.store.models import Notification

from .conftest import new_case, open_task, start_claim

# Paths whose id is not a case's (or whose role check comes first, which says nothing about the case).
NOT_CASE_IDS = {
    "/api/v1/process-models/{process_id}/versions/{version}": 403,  # analysts only
    "/api/v1/holidays/{year}": 403,  # admins only
    "/api/v1/incidents/{incident_id}/retry": 403,  # supervisors and admins only
    "/api/v1/incidents/{incident_id}/data": 403,
    "/api/v1/process-models/{process_id}/diff": 403,  # analysts only
    "/api/v1/incidents/{incident_id}/return": 403,
}


def test_every_id_path_hides_another_departments_case(runtime, app, as_user):
    officer = as_user("officer1")
    case_id = new_case(officer)["id"]
    start_claim(as_user, case_id)
    task = open_task(officer, case_id, "conduct_investigation")
    document_id = officer.get(f"/api/v1/cases/{case_id}/documents").json[0]["id"]
    with runtime.db.transaction() as s:
        note = Notification(role="officer", department_id="eco_env", at=clock.now(), kind="reminder",
                            case_id=case_id, text="提醒")
        s.add(note)
        s.flush()
        notification_id = note.id
    values = {"case_id": case_id, "task_id": task["id"], "document_id": document_id, "name": "restoration_completed",
              "notification_id": notification_id, "incident_id": 1, "process_id": "eco_damage_claim", "version": 1,
              "year": 2027}
    bodies = {"/api/v1/tasks/{task_id}/complete": {"data": {}},
              "/api/v1/cases/{case_id}/messages/{name}": {"completed_on": "2026-06-01"},
              "/api/v1/holidays/{year}": {"days": []},
              "/api/v1/incidents/{incident_id}/data": {"data": {"notice_date": "2026-07-01"}, "reason": "补录"},
              "/api/v1/incidents/{incident_id}/return": {"reason": "补录"}}
    spec = app.test_client().get("/api/v1/openapi.json").json
    water = as_user("officer2")
    checked = 0
    for path, operations in spec["paths"].items():
        names = re.findall(r"{(\w+)}", path)
        if not names:
            continue
        url = path.format(**{n: values[n] for n in names})
        for method in operations:
            expected = NOT_CASE_IDS.get(path, 404)
            call = getattr(water.client, method)
            kwargs = {"json": bodies[path]} if path in bodies else {}
            response = call(url, headers=water.headers, **kwargs)
            assert response.status_code == expected, (method, url, response.status_code, response.get_json())
            assert response.json["error"]["code"] in ("not_found", "forbidden")
            # the owner's department does see each of them (the 404 is about visibility, not a wrong id)
            if expected == 404 and method == "get":
                assert getattr(officer.client, method)(url, headers=officer.headers).status_code == 200, url
            checked += 1
    assert checked >= 12
