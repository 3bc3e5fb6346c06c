"""Through the pages, in Chromium: officer1 registers a lead with two obligors (an invalid 统一社会信用代码 first:
the Chinese message next to the field, the other inputs kept), screens it and registers the claim start;
division1 and dept1 approve from their inboxes; the case page shows the diagram with conduct_investigation
highlighted and form 1 listed; officer2 of another department cannot open the case and never sees its title;
the supervisor's dashboard and ledger; the pages fit a 768-wide tablet."""

from __future__ import annotations

import re
import shutil
from typing import Any

import pytest

TITLE = "浏览器测试：某钢铁公司超标排放酸性废水案"
COMPANY = ("福州某钢铁有限公司", "91350100M000100Y43", "福建省福州市长乐区某路8号")
PERSON = ("林某某", "11010519491231002X", "福建省福州市长乐区某村")
BAD_USCC = "91350100M000100Y44"

state: dict[str, Any] = {}


def _open_task(who: Any, title: str, step: str) -> None:
    who.go("/inbox")
    row = who.page.locator("tr", has_text=title).filter(has_text=step)
    row.get_by_role("link", name="办理").click()
    who.page.wait_for_url(re.compile(r"/tasks/"))


def _submit(who: Any) -> None:
    who.page.get_by_role("button", name="提交办结").click()
    who.page.wait_for_url(re.compile(r"/cases/\d+$"))


def test_officer_registers_screens_and_starts_the_claim(person: Any) -> None:
    officer = person()
    officer.go("/inbox")
    officer.page.wait_for_url(re.compile(r"/login\?next="))
    officer.shot("01-login")
    officer.login("officer1")
    officer.shot("02-inbox")
    badge = officer.page.locator("#task-count").inner_text()
    assert badge.strip().isdigit()

    page = officer.page
    page.get_by_role("link", name="登记线索").click()
    page.get_by_label("线索来源").select_option("inspection")
    page.get_by_label("线索名称").fill(TITLE)
    page.get_by_label("线索情况").fill("专项执法巡查发现企业超标排放酸性废水")
    page.get_by_label("发生地点").fill("福建省福州市长乐区")
    page.get_by_role("button", name="添加赔偿义务人").click()
    page.locator("#f-obligors-0-name").fill(COMPANY[0])
    page.locator("input[name='obligors.0.kind'][value='company']").check()
    assert page.locator("#f-obligors-0-uscc").is_visible() and not page.locator("#f-obligors-0-id_number").is_visible()
    page.locator("#f-obligors-0-uscc").fill(BAD_USCC)
    assert "校验码不正确" in page.locator("#f-obligors-0-uscc-live").inner_text()  # checked as typed
    page.locator("#f-obligors-0-address").fill(COMPANY[2])
    page.get_by_role("button", name="添加赔偿义务人").click()
    page.locator("#f-obligors-1-name").fill(PERSON[0])
    page.locator("input[name='obligors.1.kind'][value='person']").check()
    page.locator("#f-obligors-1-id_number").fill(PERSON[1])
    page.locator("#f-obligors-1-address").fill(PERSON[2])
    page.get_by_role("button", name="登记", exact=True).click()

    # the server refuses the code: its Chinese message sits next to the field, everything typed is still there
    error = page.locator("#f-obligors-0-uscc-error")
    error.wait_for()
    assert "统一社会信用代码" in error.inner_text() and "校验码" in error.inner_text()
    assert page.locator("#f-obligors-0-uscc").input_value() == BAD_USCC
    assert page.get_by_label("线索名称").input_value() == TITLE
    assert page.locator("#f-obligors-1-id_number").input_value() == PERSON[1]
    assert page.locator("#f-obligors-1-name").input_value() == PERSON[0]
    page.locator("#f-obligors-0-name").scroll_into_view_if_needed()
    page.evaluate("window.scrollBy(0, 120)")
    officer.shot("03-form-with-error")

    page.locator("#f-obligors-0-uscc").fill(COMPANY[1])
    page.get_by_role("button", name="登记", exact=True).click()
    page.wait_for_url(re.compile(r"/cases/\d+$"))
    state["case_url"] = page.url.removeprefix(officer.base)
    assert TITLE in page.locator("h1").inner_text()
    assert COMPANY[0] in page.content() and PERSON[0] in page.content()

    _open_task(officer, TITLE, "线索核查")
    page.get_by_label("启动索赔").check()
    page.get_by_label("理由").fill("损害事实清楚，符合索赔启动情形")
    _submit(officer)

    page.locator(".current-tasks").get_by_role("link", name="索赔启动登记").click()
    page.get_by_label("案由").fill("超标排放酸性废水造成地表水生态环境损害")
    page.get_by_label("案情简介及启动索赔理由").fill("企业超标排放酸性废水，下游水体pH异常，拟启动索赔。")
    assert page.locator("#f-obligors-0-name").input_value() == COMPANY[0]  # carried over from the lead
    _submit(officer)
    assert "机构负责人" in page.locator(".current-tasks").inner_text() or "审批" in page.content()
    officer.logout()


def test_division_and_department_heads_approve_from_their_inboxes(person: Any) -> None:
    if "case_url" not in state:
        pytest.skip("the case was not registered")
    for username in ("division1", "dept1"):
        head = person(username)
        _open_task(head, TITLE, "审批" if username == "division1" else "")
        head.page.get_by_label("是", exact=True).check()
        head.page.get_by_label("审批意见").fill("同意启动索赔")
        _submit(head)
        head.logout()


def test_case_page_shows_the_diagram_and_form_1(person: Any) -> None:
    if "case_url" not in state:
        pytest.skip("the case was not registered")
    officer = person("officer1")
    officer.go(state["case_url"])
    page = officer.page
    active = page.locator('#diagram g.djs-element.is-active[data-element-id="conduct_investigation"]')
    active.wait_for(timeout=15000)
    assert page.locator('#diagram g.djs-element.is-completed[data-element-id="screen_lead"]').count() == 1
    documents = page.locator("#documents").inner_text()
    assert "索赔启动登记表" in documents
    number = page.locator(".case-number").inner_text()
    assert "〔" in number
    state["number"] = number
    page.locator("#diagram-title").scroll_into_view_if_needed()
    officer.shot("04-case", full_page=True)
    if shutil.which("soffice"):
        with page.expect_download() as download:
            page.locator("#documents").get_by_role("link", name="PDF").first.click()
        assert download.value.suggested_filename.endswith(".pdf")


def test_another_department_cannot_open_the_case_or_see_its_title(person: Any) -> None:
    if "case_url" not in state:
        pytest.skip("the case was not registered")
    other = person("officer2")
    response = other.go(state["case_url"])
    assert response is not None and response.status == 404
    assert TITLE not in other.page.content()
    for path in ("/inbox", "/inbox?view=done", "/ledger", "/dashboard", "/notifications", "/leads/new",
                 "/ledger?q=" + COMPANY[0]):
        other.go(path)
        html = other.page.content()
        assert TITLE not in html and COMPANY[1] not in html, path
        if "number" in state:
            assert state["number"] not in html, path


def test_supervisor_dashboard_and_ledger(person: Any) -> None:
    supervisor = person("supervisor1")
    supervisor.go("/dashboard")
    supervisor.page.locator("#chart-stages svg").first.wait_for(timeout=15000)
    supervisor.shot("05-dashboard")
    supervisor.page.locator(".stat").first.click()
    supervisor.page.wait_for_url(re.compile(r"/ledger\?"))
    supervisor.go("/ledger")
    if "case_url" in state:
        assert TITLE in supervisor.page.content()
    supervisor.shot("06-ledger")


@pytest.mark.parametrize("path", ["/inbox", "/ledger", "/dashboard", "/leads/new", "case"])
def test_pages_fit_a_768_wide_tablet(person: Any, path: str) -> None:
    if path == "case":
        if "case_url" not in state:
            pytest.skip("the case was not registered")
        path = state["case_url"]
    tablet = person("officer1" if path != "/dashboard" else "supervisor1", width=768, height=1024)
    tablet.go(path)
    tablet.page.wait_for_load_state("networkidle")
    overflow = tablet.page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 1, f"{path} is {overflow}px wider than the screen"
    # every visible input has a label
    unlabeled = tablet.page.evaluate("""() => [...document.querySelectorAll('input, select, textarea')]
        .filter(el => el.type !== 'hidden' && el.offsetParent !== null)
        .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label'))
        .map(el => el.name || el.id)""")
    assert unlabeled == [], unlabeled
    if path == "/inbox":
        tablet.shot("07-inbox-768")
