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
    for role_user in ("officer1", "supervisor1", "division1"):
        assert as_user(role_user).get("/api/v1/process-models/eco_damage_claim/versions/1").status_code == 403
    # administrators manage the procedure with the analysts (as they may validate, replay and deploy a change)
    assert as_user("admin1").get("/api/v1/process-models/eco_damage_claim/versions/1").status_code == 200

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


# --- administrative changes are audited (issue 9 §4) ---


def _admin_rows(runtime, *events):
    from sqlalchemy import select

    from engine.store.models import AuditEvent

    with runtime.db.transaction() as s:
        rows = s.execute(select(AuditEvent).where(AuditEvent.event.in_(events)).order_by(AuditEvent.id)).scalars()
        return [{"who": r.who, "event": r.event, "case_id": r.case_id, "title": r.title, "detail": r.detail}
                for r in rows]


def test_moving_the_clock_is_audited(runtime, as_user):
    admin = as_user("admin1")
    assert admin.post("/api/v1/admin/clock", json={"advance": "P1D"}).status_code == 200
    assert admin.post("/api/v1/admin/clock", json={"set": "2026-07-01T09:00:00+08:00"}).status_code == 200
    assert admin.post("/api/v1/admin/clock", json={"advance": "P99999D"}).status_code == 422  # refused: no row
    rows = _admin_rows(runtime, "clock_moved")
    assert [r["title"] for r in rows] == ["拨动模拟时钟：2026-06-01 09:00 → 2026-06-02 09:00",
                                          "拨动模拟时钟：2026-06-02 09:00 → 2026-07-01 09:00"]
    assert rows[0]["who"] == "admin1" and rows[0]["case_id"] is None
    assert rows[0]["detail"]["advance"] == "P1D" and rows[1]["detail"]["set"] == "2026-07-01T09:00:00+08:00"
    assert rows[1]["detail"]["before"].startswith("2026-06-02T01:00:00")
    assert rows[1]["detail"]["after"].startswith("2026-07-01T01:00:00")

    from engine.common.actor import SYSTEM
    from engine.services.clock_admin import audited_advance

    audited_advance(runtime, SYSTEM, by="PT1H")  # what the command line can call
    assert _admin_rows(runtime, "clock_moved")[-1]["title"] == "拨动模拟时钟：2026-07-01 09:00 → 2026-07-01 10:00"


def test_replacing_a_holiday_table_is_audited(runtime, as_user):
    admin = as_user("admin1")
    days = [{"date": "2027-01-01", "kind": "holiday", "name": "元旦"},
            {"date": "2027-02-07", "kind": "workday", "name": "春节调休"}]
    assert admin.put("/api/v1/holidays/2027", json={"days": days}).status_code == 200
    assert admin.put("/api/v1/holidays/2027", json={"days": days}).status_code == 200  # the same: no row
    assert admin.put("/api/v1/holidays/2027", json={"days": days[:1]}).status_code == 200
    rows = _admin_rows(runtime, "holidays_replaced")
    assert [r["title"] for r in rows] == ["替换 2027 年节假日表（新增2项，删除0项）", "替换 2027 年节假日表（新增0项，删除1项）"]
    assert rows[1]["who"] == "admin1" and rows[1]["case_id"] is None
    assert rows[1]["detail"]["removed"] == [days[1]] and rows[1]["detail"]["after"] == {"source": "admin", "days": 1}

    from engine.common.actor import SYSTEM
    from engine.services.holiday_admin import put_year_csv

    assert put_year_csv(runtime, SYSTEM, 2028, "2028-01-01,holiday,元旦\n") == 1  # the command line's way
    last = _admin_rows(runtime, "holidays_replaced")[-1]
    assert (last["who"], last["title"]) == ("system", "替换 2028 年节假日表（新增1项，删除0项）")


def test_deploying_a_process_is_audited(runtime, as_user):
    text = (ROOT / "bpmn" / "lead_screening.bpmn").read_text(encoding="utf-8")
    changed = text.replace("</bpmn:definitions>", "<!-- v2 --></bpmn:definitions>")
    assert _upload(as_user("analyst1"), changed.encode()).status_code == 201
    rows = [r for r in _admin_rows(runtime, "note") if r["title"].startswith("部署流程 lead_screening")]
    assert [(r["who"], r["title"], r["case_id"]) for r in rows] == [
        ("system", "部署流程 lead_screening 第1版", None), ("analyst1", "部署流程 lead_screening 第2版", None)]


def test_users_are_administered_through_the_api_and_audited(runtime, as_user):
    admin = as_user("admin1")
    listed = admin.get("/api/v1/admin/users").json["items"]
    assert {"username": "officer2", "display_name": "赵经办", "roles": ["officer"], "department": "water",
            "active": True} in listed
    assert all("password" not in str(u) for u in listed)
    for who in ("officer1", "supervisor1", "analyst1"):
        assert as_user(who).get("/api/v1/admin/users").status_code == 403
        assert as_user(who).post("/api/v1/admin/users", json={"username": "x", "roles": []}).status_code == 403

    created = admin.post("/api/v1/admin/users", json={"username": "officer9", "display_name": "钱经办",
                                                       "roles": ["officer"], "department": "eco_env",
                                                       "password": "初始密码-123"})
    assert created.status_code == 201
    assert created.json == {"username": "officer9", "display_name": "钱经办", "roles": ["officer"],
                            "department": "eco_env", "active": True}
    moved = admin.post("/api/v1/admin/users", json={"username": "officer9", "roles": ["officer", "division_head"],
                                                     "department": "water"})
    assert moved.status_code == 200 and moved.json["roles"] == ["officer", "division_head"]
    assert admin.post("/api/v1/admin/users", json={"username": "officer9", "password": "另一个密码-456"}).status_code == 200
    assert admin.post("/api/v1/admin/users", json={"username": "officer9", "active": False}).status_code == 200
    assert admin.post("/api/v1/admin/users", json={"username": "officer9", "active": False}).status_code == 200

    for body, field in [({"roles": ["officer"]}, "username"), ({"username": "x y", "roles": ["officer"]}, "username"),
                        ({"username": "new1"}, "roles"), ({"username": "new1", "roles": ["boss"]}, "roles"),
                        ({"username": "officer9", "department": "nowhere"}, "department"),
                        ({"username": "officer9", "password": "short"}, "password"),
                        ({"username": "officer9", "password": 12345678}, "password"),
                        ({"username": "officer9", "active": "no"}, "active"),
                        ({"username": "officer9", "password_hash": "x"}, "password_hash"),
                        ({"username": "admin1", "active": False}, "active"),
                        ({"username": "admin1", "roles": ["officer"]}, "roles")]:
        refused = admin.post("/api/v1/admin/users", json=body)
        assert refused.status_code == 422, body
        assert field in refused.json["error"]["fields"], (body, refused.json)

    rows = [r for r in _admin_rows(runtime, "user_created", "user_updated", "password_changed", "user_deactivated")
            if r["detail"]["username"] == "officer9"]
    assert [(r["who"], r["event"], r["title"]) for r in rows] == [
        ("admin1", "user_created", "新建用户 officer9"),
        ("admin1", "user_updated", "修改用户 officer9：部门、角色"),
        ("admin1", "password_changed", "修改用户 officer9 的密码"),
        ("admin1", "user_deactivated", "停用用户 officer9")]
    assert rows[0]["detail"]["password"] == "set"
    assert rows[1]["detail"]["changes"] == {"department": {"before": "eco_env", "after": "water"},
                                            "roles": {"before": ["officer"], "after": ["officer", "division_head"]}}
    assert rows[2]["detail"] == {"username": "officer9", "changes": {}, "password": "changed", "tokens_revoked": 0}
    assert rows[3]["detail"]["changes"] == {"active": {"before": True, "after": False}}
    with runtime.db.transaction() as s:
        from sqlalchemy import select

        from engine.store.models import AuditEvent, User

        hashes = [u.password_hash for u in s.execute(select(User)).scalars() if u.password_hash != "!"]
        trail = " ".join(f"{r.title} {r.detail}" for r in s.execute(select(AuditEvent)).scalars())
    assert hashes and not any(h in trail or h[-20:] in trail for h in hashes)
    assert "初始密码-123" not in trail and "另一个密码-456" not in trail and "argon2" not in trail


def test_settings_and_departments_are_audited(runtime):
    from engine.auth.users import get_actor, upsert_department
    from engine.services.settings import put_setting

    admin = get_actor(runtime, "admin1")
    put_setting(runtime, "reminder_days", {"consultation": 10}, actor=admin)
    put_setting(runtime, "reminder_days", {"consultation": 10}, actor=admin)  # unchanged: no row
    put_setting(runtime, "case_number_format", "{prefix}〔{year}〕第{seq}号")
    upsert_department(runtime, "ecology", "生态", "××省生态厅", "生赔", actor=admin)
    upsert_department(runtime, "ecology", "生态", "××省生态厅", "生赔", actor=admin, contact="0591-1")
    rows = _admin_rows(runtime, "setting_changed", "department_created", "department_updated")
    assert [(r["who"], r["event"], r["title"]) for r in rows] == [
        ("system", "department_created", "预置部门：生态环境、自然资源、住房城乡建设、水利、农业农村、林业和草原"),
        ("admin1", "setting_changed", "修改设置：提醒天数（reminder_days）"),
        ("system", "setting_changed", "修改设置：案件编号格式（case_number_format）"),
        ("admin1", "department_created", "新建部门 ecology（生态）"),
        ("admin1", "department_updated", "修改部门 ecology（生态）")]
    assert rows[1]["detail"] == {"key": "reminder_days", "before": None, "after": {"consultation": 10}}
    assert rows[4]["detail"]["changes"] == {"contact": {"before": "", "after": "0591-1"}}
    assert all(r["case_id"] is None for r in rows)


# --- exporting the whole audit chain ---


def test_audit_export_json_pages_and_filters(runtime, as_user):
    officer = as_user("officer1")
    first = new_case(officer)["id"]
    second = new_case(officer, title="另一条线索")["id"]
    as_user("admin1").post("/api/v1/admin/clock", json={"advance": "P2D"})
    for who in ("officer1", "division1", "dept1", "analyst1"):
        refused = as_user(who).get("/api/v1/audit")
        assert refused.status_code == 403 and refused.json["error"]["code"] == "forbidden"
    supervisor = as_user("supervisor1")
    everything = supervisor.get("/api/v1/audit?limit=1000").json
    assert everything["next"] is None
    ids = [i["id"] for i in everything["items"]]
    assert ids == sorted(ids) and len(ids) >= 6
    assert {i["case_id"] for i in everything["items"]} >= {None, first, second}
    assert all(i["mac"] and len(i["mac"]) == 64 for i in everything["items"])

    pages, after = [], 0
    while True:
        page = as_user("admin1").get(f"/api/v1/audit?limit=2&after={after}").json
        pages.append(page["items"])
        if page["next"] is None:
            break
        assert len(page["items"]) == 2
        after = page["next"]
    assert [i["id"] for p in pages for i in p] == ids

    only_first = supervisor.get(f"/api/v1/audit?case={first}").json["items"]
    assert only_first and {i["case_id"] for i in only_first} == {first}
    assert only_first == supervisor.get(f"/api/v1/cases/{first}/audit").json["items"]
    clock_rows = supervisor.get("/api/v1/audit?event=clock_moved,holidays_replaced").json["items"]
    assert [i["event"] for i in clock_rows] == ["clock_moved"]
    today = supervisor.get("/api/v1/audit?from=2026-06-01&to=2026-06-01").json["items"]
    later = supervisor.get("/api/v1/audit?from=2026-06-02").json["items"]
    assert [i["id"] for i in today + later] == ids and later[0]["event"] == "clock_moved"
    exact = supervisor.get("/api/v1/audit", query_string={"from": "2026-06-03T09:00:00+08:00"}).json["items"]
    assert [i["event"] for i in exact] == ["clock_moved"]
    unencoded = supervisor.get("/api/v1/audit?to=2026-06-01T23:59:59+08:00").json["items"]  # "+" read as " "
    assert [i["id"] for i in unencoded] == [i["id"] for i in today]
    for query, field in [("from=yesterday", "from"), ("to=2026-06-01T09:00:00", "to"), ("from=2026-02-30", "from"),
                         ("from=2026-06-02&to=2026-06-01", "from"), ("event=DROP TABLE", "event"),
                         ("case=0", "case"), ("after=-1", "after"), ("limit=5000", "limit"), ("format=xml", "format"),
                         ("who=admin1", "who")]:
        refused = supervisor.get(f"/api/v1/audit?{query}")
        assert refused.status_code == 400, query
        assert field in refused.json["error"]["fields"], (query, refused.json)


def test_audit_export_csv_is_streamed_and_safe(runtime, as_user, monkeypatch):
    from engine.services import audit_export

    monkeypatch.setattr(audit_export, "BATCH", 3)  # several batches
    from engine.auth.users import create_user

    officer = as_user("officer1")
    case_id = new_case(officer, title="=HYPERLINK(\"http://x\")")["id"]
    create_user(runtime, "=1+2", None, ["admin"], None)  # the command line takes any name
    assert as_user("=1+2").post("/api/v1/admin/clock", json={"advance": "PT1H"}).status_code == 200
    admin = as_user("admin1")
    items = admin.get("/api/v1/audit?limit=1000").json["items"]
    response = admin.get("/api/v1/audit?format=csv")
    assert response.status_code == 200 and response.mimetype == "text/csv" and response.is_streamed
    assert "filename*=UTF-8''" in response.headers["Content-Disposition"]
    text = response.data.decode("utf-8")
    assert text.startswith("\ufeff序号,时间,操作人,事件,案件ID,")
    import csv as csv_module

    rows = list(csv_module.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert len(rows) == len(items) + 1 and [int(r[0]) for r in rows[1:]] == [i["id"] for i in items]
    assert not [c for row in rows for c in row if c[:1] in ("=", "+", "-", "@")]
    assert [r[2] for r in rows if r[3] == "clock_moved"] == ["'=1+2"]  # the operator's name, defused
    per_case = officer.get(f"/api/v1/cases/{case_id}/audit?format=csv").data.decode("utf-8")
    assert per_case.splitlines()[0] == text.splitlines()[0]  # one format
    filtered = admin.get(f"/api/v1/audit?format=csv&case={case_id}").data.decode("utf-8")
    assert filtered.splitlines()[1:] == per_case.splitlines()[1:]
    assert as_user("officer1").get("/api/v1/audit?format=csv").status_code == 403
    empty = admin.get("/api/v1/audit?format=csv&event=nothing_like_this").data.decode("utf-8")
    assert empty.strip() == text.splitlines()[0]
