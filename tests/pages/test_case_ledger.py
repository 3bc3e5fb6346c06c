"""The case page, department scoping across every page, the ledger with its Excel export, the dashboard and the
notifications."""

from __future__ import annotations

import io
from typing import Any

from openpyxl import load_workbook

from engine.auth.users import get_actor
from engine.services import case_ledger, cases
from engine.services.case_ledger import LedgerFilter
from engine.store.runtime import Runtime
from tests.integration.driver import COMPANY, LEAD, Case


def _claim_started(runtime: Runtime, title: str = "闽江支流镍污染页面案") -> Case:
    case = Case(runtime)
    cases_view = cases.get_case(runtime, get_actor(runtime, "officer1"), case.id)
    assert cases_view["title"] == LEAD["title"]
    with runtime.db.transaction() as s:  # a distinctive title to look for in other people's pages
        from engine.store.models import Case as CaseRow

        row = s.get(CaseRow, case.id)
        assert row is not None
        row.title = title
    case.start_claim()
    return case


def test_the_case_page_shows_steps_deadlines_documents_and_the_diagram(runtime: Runtime, browser_as: Any) -> None:
    case = _claim_started(runtime)
    browser = browser_as("officer1")
    page = browser.text(f"/cases/{case.id}")
    view = case.view()
    assert view["number"] in page and "开展生态环境损害调查" in page and "调查期限" in page
    assert "索赔启动登记表" in page and f"/documents/{view['documents'][0]['id']}.docx" in page
    assert "法院受理公益诉讼案件" in page  # the one message the case can take now
    assert "赔偿义务人申请自行修复" not in page  # nothing waits for it yet
    diagram = browser.get(f"/cases/{case.id}/diagram.json").json
    assert "conduct_investigation" in diagram["active"] and "screen_lead" in diagram["completed"]
    download = browser.get(f"/documents/{view['documents'][0]['id']}.docx")
    assert download.status_code == 200 and download.data[:2] == b"PK"
    assert "filename*=UTF-8''" in download.headers["Content-Disposition"]


def test_a_message_is_recorded_from_its_small_form(runtime: Runtime, browser_as: Any) -> None:
    case = _claim_started(runtime)
    browser = browser_as("officer1")
    browser.get(f"/cases/{case.id}")
    response = browser.post(f"/cases/{case.id}/messages/pil_case_accepted",
                            {"court": "福州市中级人民法院", "case_number": "（2026）闽01民初1号"})
    assert response.status_code == 422  # accepted_on missing: said next to the field, the rest kept
    text = response.get_data(as_text=True)
    assert "受理日期" in text and "（2026）闽01民初1号" in text
    response = browser.post(f"/cases/{case.id}/messages/pil_case_accepted",
                            {"court": "福州市中级人民法院", "case_number": "（2026）闽01民初1号",
                             "accepted_on": case.today()})
    assert response.status_code == 303
    page = browser.text(f"/cases/{case.id}")
    assert "已登记：法院受理公益诉讼案件" in page and "收到法院告知" in page  # now the court's notice can come


def test_another_departments_case_is_not_found_and_appears_nowhere(runtime: Runtime, browser_as: Any) -> None:
    title = "仅生态环境部门可见的案件"
    case = _claim_started(runtime, title)
    view = case.view()
    other = browser_as("officer2")
    assert other.get(f"/cases/{case.id}").status_code == 404
    assert title not in other.get(f"/cases/{case.id}").get_data(as_text=True)
    assert other.get(f"/cases/{case.id}/diagram.json").status_code == 404
    assert other.get(f"/documents/{view['documents'][0]['id']}.docx").status_code == 404
    task_id = view["tasks"][0]["id"]
    assert other.get(f"/tasks/{task_id}").status_code == 404
    for url in ("/inbox", "/inbox?view=done", "/ledger", "/dashboard", "/notifications", "/leads/new"):
        text = other.text(url)
        for secret in (title, view["number"], COMPANY["name"], COMPANY["uscc"]):
            assert secret not in text, (url, secret)
    for q in (title, COMPANY["name"], view["number"]):  # searching finds nothing (the box echoes the query only)
        text = other.text(f"/ledger?q={q}")
        assert "没有符合条件的案件" in text and text.count(q) == 1 and f'value="{q}"' in text
    sheet = load_workbook(io.BytesIO(other.get("/ledger/export.xlsx").data), read_only=True).active
    assert sheet is not None and all(title not in str(row) for row in sheet.iter_rows(values_only=True))
    supervisor = browser_as("supervisor1")
    assert title in supervisor.text("/ledger") and title in supervisor.text(f"/cases/{case.id}")


def test_the_ledger_filters_and_exports_exactly_the_filtered_rows(runtime: Runtime, browser_as: Any) -> None:
    officer = get_actor(runtime, "officer1")
    started = _claim_started(runtime, "已启动索赔的台账案件")
    for i in range(3):
        cases.register_lead(runtime, officer, {**LEAD, "title": f"台账线索{i}", "obligors": [COMPANY]})
    browser = browser_as("supervisor1")
    page = browser.text("/ledger?stage=lead")
    assert "台账线索0" in page and "已启动索赔的台账案件" not in page
    page = browser.text("/ledger?stage=investigation")
    assert "已启动索赔的台账案件" in page and "台账线索0" not in page
    response = browser.get("/ledger/export.xlsx?stage=lead&sort=old")
    assert response.status_code == 200 and response.mimetype.endswith("spreadsheetml.sheet")
    rows = list(load_workbook(io.BytesIO(response.data), read_only=True).active.iter_rows(values_only=True))
    assert rows[0][:2] == ("编号", "案件名称")
    assert [r[1] for r in rows[1:]] == ["台账线索0", "台账线索1", "台账线索2"]
    assert rows[1][4] == "线索" and rows[1][13] == COMPANY["name"]
    by_search = list(load_workbook(io.BytesIO(browser.get("/ledger/export.xlsx?q=已启动").data),
                                   read_only=True).active.iter_rows(values_only=True))
    assert [r[1] for r in by_search[1:]] == ["已启动索赔的台账案件"] and by_search[1][0] == started.view()["number"]
    total = case_ledger.search(runtime, get_actor(runtime, "supervisor1"), LedgerFilter(year=2026))["total"]
    assert total == 4
    assert browser.get("/ledger?stage=nonsense").status_code == 400


def test_the_dashboard_counts_link_to_the_ledger(runtime: Runtime, browser_as: Any) -> None:
    _claim_started(runtime, "看板上的调查案件")
    cases.register_lead(runtime, get_actor(runtime, "officer1"), {**LEAD, "title": "看板线索", "obligors": [COMPANY]})
    browser = browser_as("supervisor1")
    page = browser.text("/dashboard")
    assert "监督看板" in page and "办理中案件按阶段" in page
    assert "/ledger?stage=investigation&amp;status=open" in page or "/ledger?status=open&amp;stage=investigation" in page
    assert 'id="dashboard-data"' in page
    assert "看板上的调查案件" in browser.text("/ledger?stage=investigation&status=open")


def test_notifications_are_listed_and_marked_read(runtime: Runtime, browser_as: Any) -> None:
    _claim_started(runtime)  # the claim start is reported to the supervisor
    browser = browser_as("supervisor1")
    page = browser.text("/notifications")
    assert "已启动索赔" in page and "未读" in page
    from engine.services import notifications

    items = notifications.for_actor(runtime, get_actor(runtime, "supervisor1"), unread=True)["items"]
    assert items
    response = browser.post(f"/notifications/{items[0]['id']}/read", {"next": "/notifications"})
    assert response.status_code == 303
    after = notifications.for_actor(runtime, get_actor(runtime, "supervisor1"), unread=True)["items"]
    assert len(after) == len(items) - 1
    assert browser_as("officer2").post(f"/notifications/{items[0]['id']}/read").status_code in (303, 404)
