"""Through the pages, in Chromium, on the demo service: supervisor1 finds a case from the dashboard; the demo
clock (moved by admin1 through the API) brings its investigation deadline within the week, then past it; the
case's row is then red (overdue) on the ledger and on the dashboard, and the Excel export of the overdue cases,
downloaded and read back with openpyxl, holds that row. The admin and public pages fit a 768-wide tablet with every
input labelled."""

from __future__ import annotations

import json
import re
import urllib.request
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from .conftest import PASSWORD

TITLE = "闽江支流镍污染案（调查中）"  # a demo case: investigation deadline 60 days, no timer, overdue flag only


def _api(base: str, path: str, body: dict[str, Any], token: str | None = None) -> dict[str, Any]:
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(base + path, data=json.dumps(body).encode(), headers=headers, method="POST")
    with urllib.request.urlopen(request, timeout=120) as response:
        answer: dict[str, Any] = json.loads(response.read())
        return answer


def _advance(base: str, duration: str) -> None:
    token = _api(base, "/api/v1/auth/token", {"username": "admin1", "password": PASSWORD})["token"]
    _api(base, "/api/v1/admin/clock", {"advance": duration}, token)


def _open(who: Any, path: str, username: str = "supervisor1") -> None:
    """Open a page; after the clock moved past the login's lifetime the login page comes first, and then the page."""
    who.go(path)
    if "/login" in who.page.url:
        who.page.get_by_label("用户名").fill(username)
        who.page.get_by_label("密码").fill(PASSWORD)
        who.page.get_by_role("button", name="登录").click()
        who.page.wait_for_url("**" + path)


def _cn_date(text: str, after: str) -> date:
    found = re.search(re.escape(after) + r"\D*(\d{4})年(\d{1,2})月(\d{1,2})日", text)
    assert found, text[:3000]
    return date(int(found.group(1)), int(found.group(2)), int(found.group(3)))


def _investigation_due_on(who: Any) -> date:
    """The case's investigation deadline as its page shows it (60 days, rolled past rest days)."""
    who.go("/ledger?q=" + TITLE)
    who.page.get_by_role("link", name=TITLE).click()
    who.page.wait_for_url(re.compile(r"/cases/\d+$"))
    return _cn_date(who.page.locator("main").inner_text(), "调查期限")


def test_supervisor_sees_the_case_then_it_goes_overdue_on_the_ledger_and_in_the_export(
        person: Any, server: str, tmp_path: Path) -> None:
    from openpyxl import load_workbook

    supervisor = person("supervisor1")
    page = supervisor.page
    supervisor.go("/dashboard")
    stage_row = page.locator("section[aria-labelledby='by-stage'] tr", has_text="调查").first
    stage_row.get_by_role("link").click()
    page.wait_for_url(re.compile(r"/ledger\?.*stage=investigation"))
    row = page.locator("#ledger-table tbody tr", has_text=TITLE)
    assert row.count() == 1 and "is-overdue" not in (row.get_attribute("class") or "")

    due_on = _investigation_due_on(supervisor)
    supervisor.go("/dashboard")
    today = _cn_date(page.locator(".page-sub").first.inner_text(), "截至")
    assert TITLE not in page.locator("section[aria-labelledby='overdue-title']").inner_text()
    assert TITLE not in page.locator("section[aria-labelledby='soon-title']").inner_text()

    _advance(server, f"P{(due_on - today).days - 3}D")  # three days before the deadline
    _open(supervisor, "/dashboard")
    soon = page.locator("section[aria-labelledby='soon-title']")
    assert TITLE in soon.inner_text(), (due_on, today, soon.inner_text())
    assert "调查期限" in soon.locator("li", has_text=TITLE).inner_text()
    supervisor.shot("08-dashboard-due-soon")

    _advance(server, "P5D")  # two days past it
    _open(supervisor, "/dashboard")
    overdue = page.locator("section[aria-labelledby='overdue-title'] li", has_text=TITLE)
    assert overdue.count() == 1 and "is-overdue" in (overdue.get_attribute("class") or "")
    page.locator(".stat-alert").click()  # the overdue count opens the ledger filtered to the overdue cases
    page.wait_for_url(re.compile(r"/ledger\?.*overdue=1"))
    row = page.locator("#ledger-table tbody tr", has_text=TITLE)
    assert row.count() == 1 and "is-overdue" in (row.get_attribute("class") or "")
    red = row.locator("td").first.evaluate("el => getComputedStyle(el).backgroundColor")
    white = page.locator("#ledger-table thead th").first.evaluate("el => getComputedStyle(el).backgroundColor")
    assert red != white and red not in ("rgba(0, 0, 0, 0)", "rgb(255, 255, 255)"), red
    assert "已逾期" in row.inner_text()
    supervisor.shot("09-ledger-overdue")

    with page.expect_download() as download:
        page.get_by_role("link", name=re.compile("导出 Excel")).click()
    assert download.value.suggested_filename.endswith(".xlsx")
    saved = tmp_path / "ledger-overdue.xlsx"
    download.value.save_as(saved)
    book = load_workbook(saved, read_only=True)
    rows = [list(r) for r in book.active.iter_rows(values_only=True)]
    header, body = rows[0], rows[1:]
    assert "案件名称" in header and "是否逾期" in header
    mine = [r for r in body if r[header.index("案件名称")] == TITLE]
    assert len(mine) == 1, body
    assert str(mine[0][header.index("是否逾期")]) in ("是", "True", "1"), mine[0]
    listed = page.locator("#ledger-table tbody tr").count()
    assert len(body) >= listed  # exactly the filtered rows (all pages of them)


@pytest.mark.parametrize("path", ["/admin/users", "/admin/users/officer1", "/admin/departments/eco_env",
                                  "/admin/holidays", "/admin/settings", "/public"])
def test_admin_and_public_pages_fit_a_768_wide_tablet(person: Any, path: str) -> None:
    tablet = person("admin1", width=768, height=1024)
    tablet.go(path)
    tablet.page.wait_for_load_state("networkidle")
    overflow = tablet.page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 1, f"{path} is {overflow}px wider than the screen"
    unlabeled = tablet.page.evaluate("""() => [...document.querySelectorAll('input, select, textarea')]
        .filter(el => el.type !== 'hidden' && el.offsetParent !== null)
        .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label'))
        .map(el => el.name || el.id)""")
    assert unlabeled == [], unlabeled
    tablet.shot("10-tablet" + re.sub(r"[^a-z0-9]+", "-", path))
