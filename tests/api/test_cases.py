"""Cases through the API: register, ledger with filters and pages, detail, messages, documents, diagram, audit."""

from __future__ import annotations

from urllib.parse import unquote

from engine.store.models import Document
from tests.integration.driver import COMPANY, LEAD

from .conftest import new_case, open_task, start_claim


def test_create_case_starts_the_process(as_user):
    officer = as_user("officer1")
    response = officer.post("/api/v1/cases", json={**LEAD, "obligors": [COMPANY]})
    assert response.status_code == 201
    view = response.json
    assert response.headers["Location"] == f"/api/v1/cases/{view['id']}"
    assert view["number"] is None and view["status"] == "open" and view["stage"] == "lead"
    assert [t["task"] for t in view["tasks"]] == ["screen_lead"]
    assert view["obligors"][0]["group"] == 1
    for key in ("deadlines", "documents", "history", "variables", "groups"):
        assert key in view
    assert view["history"][0]["event"] == "note"
    assert officer.get(f"/api/v1/cases/{view['id']}").json["id"] == view["id"]


def test_create_case_refusals(as_user):
    officer = as_user("officer1")
    refused = officer.post("/api/v1/cases", json={**LEAD, "found_on": "2026-02-30", "title": ""})
    assert refused.status_code == 422
    assert {"found_on", "title"} <= set(refused.json["error"]["fields"])
    bad_uscc = officer.post("/api/v1/cases", json={**LEAD, "obligors": [{**COMPANY, "uscc": "91350100M000100Y44"}]})
    assert bad_uscc.status_code == 422 and "obligors.0.uscc" in bad_uscc.json["error"]["fields"]
    too_long = officer.post("/api/v1/cases", json={**LEAD, "location": "地" * 301})
    assert too_long.status_code == 422 and "location" in too_long.json["error"]["fields"]
    big_group = officer.post("/api/v1/cases", json={**LEAD, "obligors": [{**COMPANY, "group": 10**12}]})
    assert big_group.status_code == 422
    assert officer.post("/api/v1/cases", json={**LEAD, "department": "water"}).status_code == 403
    assert as_user("supervisor1").post("/api/v1/cases", json=LEAD).status_code == 403
    assert as_user("division1").post("/api/v1/cases", json=LEAD).status_code == 403


def test_malformed_bodies(as_user):
    officer = as_user("officer1")
    cases = [
        ({"data": "{not json", "content_type": "application/json"}, 400),
        ({"data": "[1, 2]", "content_type": "application/json"}, 400),
        ({"data": "", "content_type": "application/json"}, 400),
        ({"data": '{"title": NaN}', "content_type": "application/json"}, 400),
        ({"data": '{"title": 1e999}', "content_type": "application/json"}, 400),
        ({"data": b'{"title": "\xff"}', "content_type": "application/json"}, 400),
        ({"data": '{"title": "a\\u0000b"}', "content_type": "application/json"}, 400),
        ({"data": '{"title": "\\ud800"}', "content_type": "application/json"}, 400),
        ({"data": "[" * 5000 + "]" * 5000, "content_type": "application/json"}, 400),
        ({"data": "title=x", "content_type": "application/x-www-form-urlencoded"}, 400),
        ({"data": '{"title": "x"}', "content_type": "text/plain"}, 400),
    ]
    for kwargs, status in cases:
        response = officer.client.post("/api/v1/cases", headers=officer.headers, **kwargs)
        assert response.status_code == status, (kwargs, response.json)
        assert response.json["error"]["message"]
    assert "JSON" in officer.client.post("/api/v1/cases", headers=officer.headers, data="{",
                                         content_type="application/json").json["error"]["message"]


def test_oversized_body_is_413(as_user):
    officer = as_user("officer1")
    body = '{"description": "' + "x" * (1024 * 1024 + 10) + '"}'
    response = officer.client.post("/api/v1/cases", headers=officer.headers, data=body, content_type="application/json")
    assert response.status_code == 413
    assert response.json["error"]["code"] == "payload_too_large"
    huge = officer.client.post("/api/v1/cases", headers=officer.headers, data=b"x" * (17 * 1024 * 1024),
                               content_type="application/json")
    assert huge.status_code == 413


def test_ledger_filters_and_pages(as_user):
    officer = as_user("officer1")
    ids = [new_case(officer, title=f"线索{i}号")["id"] for i in range(5)]
    new_case(as_user("officer2"), department="water", title="水利线索")
    page = officer.get("/api/v1/cases?per_page=2&page=1").json
    assert page["total"] == 5 and [c["id"] for c in page["items"]] == ids[::-1][:2]
    assert [c["id"] for c in officer.get("/api/v1/cases?per_page=2&page=3").json["items"]] == [ids[0]]
    assert officer.get("/api/v1/cases?per_page=2&page=9").json["items"] == []
    assert officer.get("/api/v1/cases?q=线索3号").json["total"] == 1
    assert officer.get("/api/v1/cases?stage=lead&overdue=false").json["total"] == 5
    assert officer.get("/api/v1/cases?overdue=true").json["total"] == 0
    assert officer.get("/api/v1/cases?department=water").json["total"] == 0  # not visible to eco_env
    assert as_user("supervisor1").get("/api/v1/cases").json["total"] == 6
    assert as_user("officer2").get("/api/v1/cases").json["total"] == 1
    for bad in ("page=0", "page=abc", "per_page=500", "overdue=maybe", "page=99999999999", "sort=id", "q=" + "x" * 300):
        response = officer.get(f"/api/v1/cases?{bad}")
        assert response.status_code == 400, bad
        assert response.json["error"]["fields"]


def test_case_detail_404(as_user):
    officer = as_user("officer1")
    assert officer.get("/api/v1/cases/999").status_code == 404
    assert officer.get("/api/v1/cases/99999999999").status_code == 404
    assert officer.get("/api/v1/cases/abc").status_code == 404
    case_id = new_case(officer)["id"]
    assert as_user("officer2").get(f"/api/v1/cases/{case_id}").status_code == 404
    assert as_user("analyst1").get(f"/api/v1/cases/{case_id}").status_code == 404


def test_messages(as_user):
    officer = as_user("officer1")
    case_id = new_case(officer)["id"]
    url = f"/api/v1/cases/{case_id}/messages"
    accepted = officer.post(f"{url}/pil_case_accepted", json={"court": "福州市中级人民法院", "case_number": "（2026）闽01民初1号",
                                                                "accepted_on": "2026-05-30"})
    assert accepted.status_code == 202
    assert accepted.json["id"] == case_id
    early = officer.post(f"{url}/court_notice_received", json={"court": "福州市中级人民法院", "received_on": "2026-05-01"})
    assert early.status_code == 422 and "received_on" in early.json["error"]["fields"]  # before the acceptance
    bad = officer.post(f"{url}/court_notice_received", json={"court": "", "received_on": "2026-13-01"})
    assert bad.status_code == 422 and {"court", "received_on"} <= set(bad.json["error"]["fields"])
    notice = officer.post(f"{url}/court_notice_received", json={"court": "福州市中级人民法院", "received_on": "2026-06-01"})
    assert notice.status_code == 202
    assert "coordinate_with_court" in [t["task"] for t in notice.json["tasks"]]
    nothing_waits = officer.post(f"{url}/restoration_completed", json={"completed_on": "2026-06-01"})
    assert nothing_waits.status_code == 409
    assert officer.post(f"{url}/no_such_message", json={}).status_code == 404
    assert officer.post(f"{url}/restoration_completed", json={"completed_on": 5, "x": 1}).status_code == 422
    assert as_user("analyst1").post(f"{url}/restoration_completed", json={"completed_on": "2026-06-01"}).status_code == 404
    assert as_user("division1").post(f"{url}/restoration_completed",
                                     json={"completed_on": "2026-06-01"}).status_code == 403


def test_documents_list_and_download(runtime, as_user):
    officer = as_user("officer1")
    case_id = new_case(officer)["id"]
    assert officer.get(f"/api/v1/cases/{case_id}/documents").json == []
    view = start_claim(as_user, case_id)
    docs = officer.get(f"/api/v1/cases/{case_id}/documents").json
    assert [d["form"] for d in docs] == [1]
    assert {"id", "form", "title", "version", "created_at", "created_by", "task"} <= set(docs[0])
    response = officer.get(f"/api/v1/documents/{docs[0]['id']}")
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    assert response.data[:2] == b"PK"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment; ")
    name = unquote(disposition.split("filename*=UTF-8''", 1)[1])
    assert name == f"{view['number']}-索赔启动登记表-v1.docx"
    assert officer.get(f"/api/v1/documents/{docs[0]['id']}?format=odt").status_code == 422
    assert officer.get("/api/v1/documents/424242").status_code == 404
    assert as_user("officer2").get(f"/api/v1/documents/{docs[0]['id']}").status_code == 404
    assert as_user("supervisor1").get(f"/api/v1/documents/{docs[0]['id']}").status_code == 200


def test_download_names_cannot_traverse(runtime, as_user):
    officer = as_user("officer1")
    case_id = new_case(officer)["id"]
    start_claim(as_user, case_id)
    with runtime.db.transaction() as s:
        doc = s.query(Document).filter_by(case_id=case_id).one()
        doc.filename = '../../etc/passwd\r\nX-Evil: 1\\..\\a:b*?"<>|.docx'
        doc_id = doc.id
    response = officer.get(f"/api/v1/documents/{doc_id}")
    assert response.status_code == 200
    assert "X-Evil" not in response.headers
    name = unquote(response.headers["Content-Disposition"].split("filename*=UTF-8''", 1)[1])
    assert "/" not in name and "\\" not in name and ".." not in name and "\n" not in name
    assert name.endswith(".docx")
    assert 'filename="document-' in response.headers["Content-Disposition"]


def test_diagram_marks_active_and_completed(as_user):
    officer = as_user("officer1")
    case_id = new_case(officer)["id"]
    diagram = officer.get(f"/api/v1/cases/{case_id}/diagram").json
    assert diagram["xml"].lstrip().startswith("<?xml") or "<bpmn:definitions" in diagram["xml"]
    assert "screen_lead" in diagram["active"]
    assert "screen_lead" not in diagram["completed"]
    assert set(diagram["called"]) >= {"consultation", "damage_assessment", "performance"}
    start_claim(as_user, case_id)
    diagram = officer.get(f"/api/v1/cases/{case_id}/diagram").json
    assert {"screen_lead", "register_claim_start", "approve_claim_start_division"} <= set(diagram["completed"])
    assert "conduct_investigation" in diagram["active"]
    for element in diagram["active"] + diagram["completed"]:
        assert f'id="{element}"' in diagram["xml"] or any(f'id="{element}"' in x for x in diagram["called"].values())


def test_audit_json_and_csv(as_user):
    officer = as_user("officer1")
    case_id = new_case(officer)["id"]
    task = open_task(officer, case_id, "screen_lead")
    officer.post(f"/api/v1/tasks/{task['id']}/claim")
    trail = officer.get(f"/api/v1/cases/{case_id}/audit").json
    events = [i["event"] for i in trail["items"]]
    assert "claimed" in events and "created" in events
    for before, after in zip(trail["items"], trail["items"][1:], strict=False):
        assert after["id"] > before["id"]
    csv = officer.get(f"/api/v1/cases/{case_id}/audit?format=csv")
    assert csv.status_code == 200 and csv.mimetype == "text/csv"
    text = csv.data.decode("utf-8-sig")
    assert text.splitlines()[0].startswith("序号,时间,操作人")
    assert len(text.strip().splitlines()) == len(trail["items"]) + 1
    assert "filename*=UTF-8''" in csv.headers["Content-Disposition"]
    assert officer.get(f"/api/v1/cases/{case_id}/audit?format=xml").status_code == 400
    assert as_user("officer2").get(f"/api/v1/cases/{case_id}/audit?format=csv").status_code == 404


def test_csv_cells_cannot_become_formulas(as_user):
    officer = as_user("officer1")
    case_id = new_case(officer, title="=HYPERLINK(\"http://x\")")["id"]
    text = officer.get(f"/api/v1/cases/{case_id}/audit?format=csv").data.decode("utf-8-sig")
    assert ",=HYPERLINK" not in text


def test_pdf_download_when_the_pdf_service_is_installed(as_user):

    from engine.documents.pdf import available

    officer = as_user("officer1")
    case_id = new_case(officer)["id"]
    start_claim(as_user, case_id)
    doc_id = officer.get(f"/api/v1/cases/{case_id}/documents").json[0]["id"]
    response = officer.get(f"/api/v1/documents/{doc_id}?format=pdf")
    assert response.status_code == (200 if available() else 503), response.get_json()
    if response.status_code == 200:
        assert response.mimetype == "application/pdf" and response.data[:4] == b"%PDF"
        assert unquote(response.headers["Content-Disposition"].split("filename*=UTF-8''", 1)[1]).endswith(".pdf")
    else:
        assert response.json["error"]["code"] == "pdf_unavailable"
    assert as_user("officer2").get(f"/api/v1/documents/{doc_id}?format=pdf").status_code == 404
