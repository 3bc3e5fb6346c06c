"""Registering a lead, the inbox, the task form (validation next to the field, the typed values kept, a 409 said
plainly), claim and unclaim — through the pages, as a person would."""

from __future__ import annotations

import re
from typing import Any

from engine.auth.users import get_actor
from engine.services import cases, tasks, worklist
from engine.store.runtime import Runtime
from tests.integration.driver import COMPANY, LEAD, PERSON

LEAD_FORM = [("lead_source", "inspection"), ("title", "页面登记的镍污染线索"), ("description", "督察发现暗管排放"),
             ("location", "福建省福州市马尾区"), ("found_on", "2026-05-20"), ("department", "eco_env"),
             ("obligors.0.name", COMPANY["name"]), ("obligors.0.kind", "company"), ("obligors.0.uscc", COMPANY["uscc"]),
             ("obligors.0.address", COMPANY["address"]),
             ("obligors.3.name", PERSON["name"]), ("obligors.3.kind", "person"),
             ("obligors.3.id_number", PERSON["id_number"]), ("obligors.3.address", PERSON["address"])]


def _case_id(response: Any) -> int:
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    found = re.search(r"/cases/(\d+)$", response.headers["Location"])
    assert found
    return int(found.group(1))


def _task_id(runtime: Runtime, case_id: int, bpmn_id: str) -> str:
    view = cases.get_case(runtime, get_actor(runtime, "supervisor1"), case_id)
    return str(next(t["id"] for t in view["tasks"] if t["task"] == bpmn_id))


def test_register_a_lead_with_two_obligors(runtime: Runtime, browser_as: Any) -> None:
    browser = browser_as("officer1")
    form = browser.text("/leads/new")
    for label in ("线索来源", "线索名称", "线索情况", "发生地点", "发现日期", "承办部门", "赔偿义务人", "统一社会信用代码"):
        assert label in form
    assert "中央和省级生态环境保护督察" in form  # the enum's labels, not its ids
    case_id = _case_id(browser.post("/leads/new", LEAD_FORM))
    view = cases.get_case(runtime, get_actor(runtime, "officer1"), case_id)
    assert [o["name"] for o in view["obligors"]] == [COMPANY["name"], PERSON["name"]]
    page = browser.text(f"/cases/{case_id}")
    assert "页面登记的镍污染线索" in page and "线索核查" in page and "线索登记" in page


def test_an_invalid_uscc_is_named_next_to_its_field_and_the_rest_is_kept(browser_as: Any) -> None:
    browser = browser_as("officer1")
    bad = [(k, "91350100M000100Y44" if k == "obligors.0.uscc" else v) for k, v in LEAD_FORM]
    response = browser.post("/leads/new", bad)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    error = re.search(r'<p class="field-error" id="f-obligors-0-uscc-error">([^<]+)</p>', page)
    assert error and "统一社会信用代码" in error.group(1) and "校验码" in error.group(1)
    assert 'value="91350100M000100Y44"' in page  # what was typed
    assert 'value="页面登记的镍污染线索"' in page and "督察发现暗管排放" in page and PERSON["id_number"] in page
    assert 'aria-invalid="true"' in page


def test_a_missing_field_is_required_in_chinese(browser_as: Any) -> None:
    browser = browser_as("officer1")
    response = browser.post("/leads/new", [(k, v) for k, v in LEAD_FORM if k != "title"])
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert re.search(r'id="f-title-error">[^<]*必填', page)


def test_screen_a_lead_from_the_task_form_and_a_second_completion_is_a_plain_409(
        runtime: Runtime, browser_as: Any) -> None:
    case_id = cases.register_lead(runtime, get_actor(runtime, "officer1"), {**LEAD, "obligors": [COMPANY]})["id"]
    task_id = _task_id(runtime, case_id, "screen_lead")
    first, second = browser_as("officer1"), browser_as("officer1")
    page = first.text(f"/tasks/{task_id}")
    assert "核查结论" in page and "启动索赔" in page and "线索核查期限" in page  # the form and the deadline beside it
    second.get(f"/tasks/{task_id}")
    data = {"screening_result": "start_claim", "screening_reason": "损害事实清楚"}
    response = first.post(f"/tasks/{task_id}", data)
    assert response.status_code == 303 and response.headers["Location"] == f"/cases/{case_id}"
    response = second.post(f"/tasks/{task_id}", data)
    assert response.status_code == 409
    text = response.get_data(as_text=True)
    assert "已由" in text and "办结" in text and "未提交" in text
    case_page = first.text(f"/cases/{case_id}")
    assert "已办结：线索核查" in case_page and "索赔启动登记" in case_page  # what comes next


def test_the_inbox_lists_my_and_my_roles_tasks_and_claim_moves_one_to_me(runtime: Runtime, browser_as: Any) -> None:
    case_id = cases.register_lead(runtime, get_actor(runtime, "officer1"), {**LEAD, "obligors": [COMPANY]})["id"]
    browser = browser_as("officer1")
    page = browser.text("/inbox")
    assert LEAD["title"] in page and "线索核查" in page and "待签收" in page
    task_id = _task_id(runtime, case_id, "screen_lead")
    response = browser.post(f"/tasks/{task_id}/claim", {"next": "/inbox"})
    assert response.status_code == 303
    page = browser.text("/inbox")
    assert "已签收：线索核查" in page and "退回" in page
    browser.post(f"/tasks/{task_id}/unclaim", {"next": "/inbox"})
    assert "已退回签收" in browser.text("/inbox")
    assert LEAD["title"] not in browser_as("division1").text("/inbox")  # not a division head's task


def test_the_worklist_matches_the_api_inbox(runtime: Runtime) -> None:
    officer = get_actor(runtime, "officer1")
    for _ in range(3):
        cases.register_lead(runtime, officer, {**LEAD, "obligors": [COMPANY]})
    first = tasks.inbox(runtime, officer, "group")["items"][0]
    tasks.claim(runtime, officer, first["id"])
    for username in ("officer1", "officer2", "division1", "supervisor1"):
        actor = get_actor(runtime, username)
        expected = {t["id"] for t in tasks.inbox(runtime, actor, "mine")["items"]} | \
                   {t["id"] for t in tasks.inbox(runtime, actor, "group")["items"]}
        page = worklist.worklist(runtime, actor, per_page=100)
        assert {t["id"] for t in page["items"]} == expected, username
        assert worklist.header(runtime, actor)["open_tasks"] == len(expected)
    done = worklist.worklist(runtime, officer, view="done")
    assert done["total"] == 0
