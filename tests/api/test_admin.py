"""Clock, notifications, holidays, incidents and process models through the API."""

from __future__ import annotations

import io
from pathlib import Path

from engine.common import clock
from engine.services.startup import start
from engine.store.models import Notification
from engine.store.runtime import ROOT, Config, Runtime
from web import create_app

from .conftest import CLAIM_START, Caller, do, make_token, new_case, open_task


def test_clock_read_and_move(runtime, as_user):
    admin = as_user("admin1")
    now = admin.get("/api/v1/admin/clock").json
    assert now["simulated"] is True and now["now"].startswith("2026-06-01T09:00:00+08:00")
    assert as_user("officer1").get("/api/v1/admin/clock").status_code == 200
    moved = admin.post("/api/v1/admin/clock", json={"advance": "P1D"})
    assert moved.status_code == 200 and moved.json["now"].startswith("2026-06-02T01:00:00")
    moved = admin.post("/api/v1/admin/clock", json={"set": "2026-07-01T09:00:00+08:00"})
    assert moved.status_code == 200
    assert clock.now().isoformat().startswith("2026-07-01T01:00:00")
    for body, field in [({"set": "2026-06-01T09:00:00+08:00"}, "set"), ({"set": "2026-08-01T09:00:00"}, "set"),
                        ({"advance": "91 days"}, "advance"), ({"advance": "P99999D"}, "advance"),
                        ({"advance": 5}, "advance"), ({}, "advance"), ({"advance": "P1D", "set": "x"}, "advance"),
                        ({"set": "9999-12-31T23:59:59+08:00"}, "set"), ({"when": "P1D"}, "when")]:
        refused = admin.post("/api/v1/admin/clock", json=body)
        assert refused.status_code == 422, body
        assert field in refused.json["error"]["fields"], body
    assert as_user("officer1").post("/api/v1/admin/clock", json={"advance": "P1D"}).status_code == 403
    assert as_user("supervisor1").post("/api/v1/admin/clock", json={"advance": "P1D"}).status_code == 403


def test_clock_moves_fire_timers(runtime, as_user):
    officer = as_user("officer1")
    case_id = new_case(officer)["id"]
    as_user("admin1").post("/api/v1/admin/clock", json={"advance": "P31D"})
    supervisor = as_user("supervisor1")
    tasks = supervisor.get(f"/api/v1/tasks?scope=group&case={case_id}").json["items"]
    assert [t["task"] for t in tasks] == ["urge_claim_start"]  # the lead-decision escalation fired


def test_clock_refused_outside_demo(db_url):
    prod = Runtime(Config(database_url=db_url, demo=False))
    try:
        start(prod)
        from engine.auth.users import create_user, ensure_departments

        with prod.db.transaction() as s:
            ensure_departments(s)
        create_user(prod, "admin1", None, ["admin"], None)
        client = create_app(prod).test_client()
        admin = Caller(client, make_token(prod, "admin1"))
        assert admin.get("/api/v1/admin/clock").json["simulated"] is False
        refused = admin.post("/api/v1/admin/clock", json={"advance": "P1D"})
        assert refused.status_code == 403 and "演示" in refused.json["error"]["message"]
    finally:
        prod.close()
        clock.use(clock.Clock())


def test_notifications(runtime, as_user):
    officer = as_user("officer1")
    case_id = new_case(officer)["id"]
    with runtime.db.transaction() as s:
        s.add_all([
            Notification(username="officer1", at=clock.now(), kind="assigned", case_id=case_id, text="给王经办"),
            Notification(role="officer", department_id="eco_env", at=clock.now(), kind="reminder", text="生态环境经办人"),
            Notification(role="officer", department_id="water", at=clock.now(), kind="reminder", text="水利经办人"),
            Notification(role="supervisor", at=clock.now(), kind="escalation", text="督办"),
        ])
    texts = {n["text"] for n in officer.get("/api/v1/notifications").json["items"]}
    assert texts == {"给王经办", "生态环境经办人"}
    water = as_user("officer2")
    assert {n["text"] for n in water.get("/api/v1/notifications").json["items"]} == {"水利经办人"}
    assert {n["text"] for n in as_user("supervisor1").get("/api/v1/notifications").json["items"]} >= {"督办"}
    first = officer.get("/api/v1/notifications").json["items"][0]
    assert set(first) == {"id", "at", "kind", "case_id", "task_id", "text", "read"}
    read = officer.post(f"/api/v1/notifications/{first['id']}/read")
    assert read.status_code == 200 and read.json["read"] is True
    unread = officer.get("/api/v1/notifications?unread=true").json["items"]
    assert first["id"] not in [n["id"] for n in unread] and len(unread) == 1
    assert water.post(f"/api/v1/notifications/{first['id']}/read").status_code == 404
    assert officer.post("/api/v1/notifications/999999/read").status_code == 404
    assert officer.get("/api/v1/notifications?unread=perhaps").status_code == 400


def test_holidays(as_user):
    officer, admin = as_user("officer1"), as_user("admin1")
    table = officer.get("/api/v1/holidays?year=2026").json
    assert table["year"] == 2026 and table["source"] == "chinese-calendar"
    assert {"date": "2026-10-01", "kind": "holiday", "name": "国庆节"} in [
        {k: d[k] for k in ("date", "kind", "name")} for d in table["days"]] or any(
        d["date"] == "2026-10-01" and d["kind"] == "holiday" for d in table["days"])
    assert officer.get("/api/v1/holidays").json["year"] == 2026  # the clock's year
    days = [{"date": "2027-01-01", "kind": "holiday", "name": "元旦"},
            {"date": "2027-02-07", "kind": "workday", "name": "春节调休"}]
    assert officer.put("/api/v1/holidays/2027", json={"days": days}).status_code == 403
    saved = admin.put("/api/v1/holidays/2027", json={"year": 2027, "source": "admin", "days": days})
    assert saved.status_code == 200
    assert [d["date"] for d in saved.json["days"]] == ["2027-01-01", "2027-02-07"]
    assert officer.get("/api/v1/holidays?year=2027").json["source"] == "admin"
    bad = admin.put("/api/v1/holidays/2027", json={"days": [{"date": "2027-02-30", "kind": "holiday", "name": "x"},
                                                             {"date": "2027-01-04", "kind": "workday", "name": ""}]})
    assert bad.status_code == 422 and len(bad.json["error"]["fields"]) == 2
    assert admin.put("/api/v1/holidays/2027", json={"days": "none"}).status_code == 422
    assert admin.put("/api/v1/holidays/2028", json={"year": 2027, "days": []}).status_code == 422
    assert admin.put("/api/v1/holidays/99999", json={"days": []}).status_code == 422
    assert admin.put("/api/v1/holidays/2027", json={"days": [{"date": " 2027-01-01 ", "kind": "holiday",
                                                               "name": " 元旦 "}]}).status_code == 200
    assert officer.get("/api/v1/holidays?year=1800").status_code == 400


def test_incidents_list_and_retry(runtime, as_user):
    officer = as_user("officer1")
    case_id = new_case(officer)["id"]
    for username, bpmn_id, data in CLAIM_START[:3]:
        do(as_user(username), case_id, bpmn_id, data)
    runtime.config.case_number_format = "{prefix}〔{year}〕{serial}号"  # misconfigured: the numbering step fails
    task = open_task(officer, case_id, "approve_claim_start_department")
    out = as_user("dept1").post(f"/api/v1/tasks/{task['id']}/complete", json={"data": {"approved": True, "opinion": "同意"}})
    assert out.status_code == 200 and out.json["incident"]["element"] == "give_case_number"
    supervisor = as_user("supervisor1")
    items = supervisor.get("/api/v1/incidents").json["items"]
    assert len(items) == 1 and items[0]["case_id"] == case_id
    assert supervisor.get(f"/api/v1/incidents?case={case_id}").json["items"] == items
    assert officer.get("/api/v1/incidents").status_code == 403
    assert officer.post(f"/api/v1/incidents/{items[0]['id']}/retry").status_code == 403
    runtime.config.case_number_format = "{prefix}〔{year}〕{seq}号"
    retried = supervisor.post(f"/api/v1/incidents/{items[0]['id']}/retry")
    assert retried.status_code == 200 and retried.json == {"resolved": True, "incident": None}
    assert supervisor.post(f"/api/v1/incidents/{items[0]['id']}/retry").status_code == 409
    assert supervisor.post("/api/v1/incidents/4242/retry").status_code == 404
    assert as_user("admin1").get("/api/v1/incidents").json["items"] == []


def _upload(caller, content, filename="lead_screening.bpmn"):
    data = {"file": (io.BytesIO(content), filename)}
    return caller.client.post("/api/v1/process-models", data=data, headers=caller.headers,
                              content_type="multipart/form-data")


def test_process_models(runtime, as_user):
    analyst = as_user("analyst1")
    new_case(as_user("officer1"))
    models = analyst.get("/api/v1/process-models").json["items"]
    by_id = {m["id"]: m for m in models}
    assert set(by_id) >= {"eco_damage_claim", "consultation", "lead_screening"}
    main = by_id["eco_damage_claim"]["versions"]
    assert main[0]["version"] == 1 and main[0]["cases"] == 1 and main[0]["deployed_by"] == "system"
    detail = analyst.get("/api/v1/process-models/eco_damage_claim/versions/1").json
    assert "screen_lead" in detail["xml"] and detail["checksum"] == main[0]["checksum"]
    assert analyst.get("/api/v1/process-models/eco_damage_claim/versions/9").status_code == 404
    assert analyst.get("/api/v1/process-models/nope/versions/1").status_code == 404
    assert as_user("officer1").get("/api/v1/process-models").status_code == 403
    assert as_user("admin1").get("/api/v1/process-models/eco_damage_claim/versions/1").status_code == 403

    text = (ROOT / "bpmn" / "lead_screening.bpmn").read_text(encoding="utf-8")
    same = _upload(analyst, text.encode())
    assert same.status_code == 200 and same.json["created"] is False and same.json["version"] == 1
    changed = text.replace("</bpmn:definitions>", "<!-- v2 --></bpmn:definitions>")
    deployed = _upload(analyst, changed.encode())
    assert deployed.status_code == 201 and deployed.json["version"] == 2 and deployed.json["deployed_by"] == "analyst1"
    versions = {m["id"]: m for m in analyst.get("/api/v1/process-models").json["items"]}["lead_screening"]["versions"]
    assert [v["version"] for v in versions] == [1, 2]

    broken = text.replace('id="screen_pending_leads"', 'id="renamed_task"')
    refused = _upload(analyst, broken.encode())
    assert refused.status_code == 422 and "screen_pending_leads" in refused.json["error"]["fields"]["ids"]
    assert _upload(analyst, b"<not xml").status_code == 422
    assert _upload(analyst, b"\xff\xfe").status_code == 422
    assert _upload(analyst, text.encode(), filename="x.txt").status_code == 422
    assert _upload(as_user("officer1"), changed.encode()).status_code == 403
    no_file = analyst.client.post("/api/v1/process-models", data={}, headers=analyst.headers,
                                  content_type="multipart/form-data")
    assert no_file.status_code == 400
    assert analyst.post("/api/v1/process-models", json={"xml": text}).status_code == 400


def test_bpmn_upload_does_not_resolve_external_entities(runtime, as_user, tmp_path: Path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-CONTENT", encoding="utf-8")
    text = (ROOT / "bpmn" / "lead_screening.bpmn").read_text(encoding="utf-8")
    head, rest = text.split("?>", 1) if text.startswith("<?xml") else ("", text)
    hostile = (head + "?>" if head else "") + (
        f'<!DOCTYPE definitions [<!ENTITY xxe SYSTEM "file://{secret}">]>') + rest.replace(
        "</bpmn:definitions>", "<bpmn:documentation>&xxe;</bpmn:documentation></bpmn:definitions>", 1)
    analyst = as_user("analyst1")
    response = _upload(analyst, hostile.encode())
    assert response.status_code in (201, 422)
    assert "TOP-SECRET-CONTENT" not in response.get_data(as_text=True)
    if response.status_code == 201:
        detail = analyst.get(f"/api/v1/process-models/lead_screening/versions/{response.json['version']}").json
        assert "TOP-SECRET-CONTENT" not in detail["xml"]
    billion = ('<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
               + "".join(f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10 if i else "&lol;" * 10}">'
                         for i in range(9))
               + ']><bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL">&lol8;</bpmn:definitions>')
    assert _upload(analyst, billion.encode()).status_code == 422


def test_upload_lists_every_problem(as_user):
    text = (ROOT / "bpmn" / "eco_damage_claim.bpmn").read_text(encoding="utf-8")
    broken = (text.replace('calledElement="consultation"', 'calledElement="ghost_consultation"')
              .replace('calledElement="performance"', 'calledElement="ghost_performance"')
              .replace('id="close_case"', 'id="closing_renamed"'))
    refused = _upload(as_user("analyst1"), broken.encode(), filename="eco_damage_claim.bpmn")
    assert refused.status_code == 422
    fields = refused.json["error"]["fields"]
    assert "close_case" in fields["ids"]
    assert "ghost_consultation" in fields["calledElement"] and "ghost_performance" in fields["calledElement"]
    long_id = (ROOT / "bpmn" / "lead_screening.bpmn").read_text(encoding="utf-8").replace(
        'id="lead_screening"', 'id="' + "p" * 120 + '"')
    assert "process" in _upload(as_user("analyst1"), long_id.encode()).json["error"]["fields"]


def test_oversized_upload_is_413(as_user):
    response = _upload(as_user("analyst1"), b"<a>" + b"x" * (6 * 1024 * 1024) + b"</a>")
    assert response.status_code == 413
    assert response.json["error"]["code"] == "payload_too_large"
