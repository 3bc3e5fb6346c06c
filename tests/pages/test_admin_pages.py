"""Administration pages (role admin): users, departments, the holiday table and the settings. Every form posts with
its CSRF token; a refusal shows the Chinese message next to its field and keeps what was typed; every change is
saved and audited; anyone else gets 403."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from engine.auth.users import get_actor
from engine.services import admin_users, holiday_admin
from engine.store.models import AuditEvent, Department
from engine.store.runtime import Runtime

ADMIN_PAGES = ("/admin/users", "/admin/users/new", "/admin/users/officer1", "/admin/departments",
               "/admin/departments/new", "/admin/departments/eco_env", "/admin/holidays", "/admin/settings")


def _events(runtime: Runtime, name: str) -> list[AuditEvent]:
    with runtime.db.transaction() as s:
        rows = list(s.execute(select(AuditEvent).where(AuditEvent.event == name).order_by(AuditEvent.id)).scalars())
        s.expunge_all()
        return rows


@pytest.mark.parametrize("username", ["officer1", "supervisor1", "analyst1"])
def test_only_administrators_reach_the_admin_pages(runtime: Runtime, browser_as: Any, username: str) -> None:
    other = browser_as(username)
    for url in ADMIN_PAGES:
        assert other.get(url).status_code == 403, url
    assert "系统管理" not in other.text("/inbox")
    assert other.post("/admin/users/new", {"username": "mallory", "roles": "admin"}).status_code == 403
    assert other.post("/admin/settings/case_number_format", {"case_number_format": "{seq}"}).status_code == 403
    assert other.post("/admin/departments/eco_env", {"name": "改名"}).status_code == 403
    assert other.post("/admin/holidays/2026", {"days-0-date": ""}).status_code == 403
    assert [u["username"] for u in admin_users.list_users(runtime, get_actor(runtime, "admin1"))["items"]
            if u["username"] == "mallory"] == []


def test_admin_pages_open_for_an_administrator(browser_as: Any) -> None:
    admin = browser_as("admin1")
    for url in ADMIN_PAGES:
        page = admin.text(url)
        assert "系统管理" in page and 'aria-current="page"' in page, url


def test_a_form_without_its_csrf_token_is_refused(browser_as: Any) -> None:
    admin = browser_as("admin1")
    response = admin.client.post("/admin/users/new", data={"username": "nocsrf", "roles": "officer"})
    assert response.status_code == 400 and "安全令牌" in response.get_data(as_text=True)


def test_users_are_created_changed_deactivated_and_audited(runtime: Runtime, browser_as: Any) -> None:
    admin = browser_as("admin1")
    admin.get("/admin/users/new")
    typed = [("username", "officer3"), ("display_name", "孙经办"), ("roles", "officer"), ("department", "eco_env"),
             ("active", "1"), ("password", "short")]
    refused = admin.post("/admin/users/new", typed)
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    assert "至少 8 个字符" in page and 'value="officer3"' in page and 'value="孙经办"' in page
    assert 'value="officer" checked' in page and 'value="eco_env" selected' in page

    no_role = admin.post("/admin/users/new", [("username", "officer3"), ("display_name", "孙经办"), ("active", "1")])
    assert no_role.status_code == 422 and "新建用户须给出角色" in no_role.get_data(as_text=True)

    done = admin.post("/admin/users/new", [*typed[:-1], ("password", "secret-pass-1")])
    assert done.status_code == 303
    listed = admin.text("/admin/users")
    assert "officer3" in listed and "孙经办" in listed
    assert _events(runtime, "user_created")[-1].who == "admin1"

    duplicate = admin.post("/admin/users/new", [*typed[:-1], ("password", "secret-pass-1")])
    assert duplicate.status_code == 422 and "该用户名已存在" in duplicate.get_data(as_text=True)

    admin.get("/admin/users/officer3")
    changed = admin.post("/admin/users/officer3", [("display_name", "孙经办人"), ("roles", "officer"),
                                                  ("roles", "division_head"), ("department", "eco_env"),
                                                  ("active", "1"), ("password", "another-pass-2")])
    assert changed.status_code == 303
    users = {u["username"]: u for u in admin_users.list_users(runtime, get_actor(runtime, "admin1"))["items"]}
    assert users["officer3"]["roles"] == ["officer", "division_head"] and users["officer3"]["display_name"] == "孙经办人"
    updated = _events(runtime, "user_updated")[-1]
    assert updated.who == "admin1" and updated.detail.get("password") == "changed"
    assert "another-pass-2" not in str(updated.detail)

    admin.get("/admin/users")
    assert admin.post("/admin/users/officer3/active", {"active": "0"}).status_code == 303
    assert "已停用" in admin.text("/admin/users")
    assert _events(runtime, "user_deactivated")[-1].detail["username"] == "officer3"

    myself = admin.post("/admin/users/admin1", [("display_name", "管理员"), ("roles", "officer"), ("active", "1")])
    assert myself.status_code == 422 and "不能取消自己的系统管理员角色" in myself.get_data(as_text=True)


def test_departments_keep_the_claimants_details_for_the_forms(runtime: Runtime, browser_as: Any) -> None:
    admin = browser_as("admin1")
    admin.get("/admin/departments/eco_env")
    typed = {"name": "生态环境", "full_name": "××省生态环境厅", "number_prefix": "环赔", "uscc": "11350000MB0196348C",
             "legal_representative": "张某某", "address": "××省××市××路1号", "contact": "0591-00000000"}
    refused = admin.post("/admin/departments/eco_env", typed)
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    assert "统一社会信用代码校验码不正确" in page and 'value="××省××市××路1号"' in page and 'value="张某某"' in page
    assert admin.post("/admin/departments/eco_env", dict(typed, uscc="11350000MB0196348B")).status_code == 303
    with runtime.db.transaction() as s:
        dept = s.get(Department, "eco_env")
        assert dept is not None and (dept.uscc, dept.legal_representative) == ("11350000MB0196348B", "张某某")
    event = _events(runtime, "department_updated")[-1]
    assert event.who == "admin1" and "uscc" in event.detail["changes"]
    assert "11350000MB0196348B" in admin.text("/admin/departments")

    admin.get("/admin/departments/new")
    bad = admin.post("/admin/departments/new", {"id": "Bad Id", "name": ""})
    assert bad.status_code == 422
    text = bad.get_data(as_text=True)
    assert "部门编号以小写字母开头" in text and "请填写部门简称" in text and 'value="Bad Id"' in text
    assert admin.post("/admin/departments/new", {"id": "ecology", "name": "生态", "full_name": "××省生态厅"}).status_code == 303
    assert _events(runtime, "department_created")[-1].detail["department"] == "ecology"
    assert "××省生态厅" in admin.text("/admin/departments")


def test_the_holiday_table_is_replaced_with_errors_by_row(runtime: Runtime, browser_as: Any) -> None:
    admin = browser_as("admin1")
    page = admin.text("/admin/holidays?year=2027")
    assert "2027 年" in page
    rows = {"days-0-date": "2027-01-01", "days-0-kind": "holiday", "days-0-name": "元旦",
            "days-1-date": "2027-01-02", "days-1-kind": "holiday", "days-1-name": "",
            "days-2-date": "", "days-2-kind": "holiday", "days-2-name": ""}
    refused = admin.post("/admin/holidays/2027", rows)
    assert refused.status_code == 422
    text = refused.get_data(as_text=True)
    assert "第 2 项" in text and 'id="f-days-1-error"' in text and 'value="元旦"' in text and 'value="2027-01-02"' in text
    rows["days-1-name"] = "元旦"
    assert admin.post("/admin/holidays/2027", rows).status_code == 303
    table = holiday_admin.get_year(runtime, 2027)
    assert [(d["date"], d["name"]) for d in table["days"]] == [("2027-01-01", "元旦"), ("2027-01-02", "元旦")]
    assert _events(runtime, "holidays_replaced")[-1].who == "admin1"
    removal = {"days-0-date": "2027-01-01", "days-0-kind": "holiday", "days-0-name": "元旦",
               "days-1-date": "2027-01-02", "days-1-kind": "holiday", "days-1-name": "元旦", "days-1-remove": "1"}
    assert admin.post("/admin/holidays/2027", removal).status_code == 303
    assert [d["date"] for d in holiday_admin.get_year(runtime, 2027)["days"]] == ["2027-01-01"]


def test_settings_are_validated_saved_and_audited(runtime: Runtime, browser_as: Any) -> None:
    admin = browser_as("admin1")
    page = admin.text("/admin/settings")
    assert "磋商期限" in page and "{prefix}〔{year}〕{seq}号" in page
    refused = admin.post("/admin/settings/case_number_format", {"case_number_format": "{prefix}〔{year}〕号"})
    assert refused.status_code == 422
    text = refused.get_data(as_text=True)
    assert "须包含 {seq}" in text and 'value="{prefix}〔{year}〕号"' in text and 'id="f-case_number_format-error"' in text
    assert admin.post("/admin/settings/case_number_format",
                      {"case_number_format": "{prefix}〔{year}〕第{seq:03d}号"}).status_code == 303
    assert "第{seq:03d}号" in admin.text("/admin/settings")
    event = _events(runtime, "setting_changed")[-1]
    assert event.who == "admin1" and event.detail["key"] == "case_number_format"

    days = {f"reminder_days.{name}": "3" for name in ("lead_decision", "investigation", "consultation", "obligor_reply",
                                                     "restoration", "payment", "court_notice", "court_coordination", "*")}
    bad = admin.post("/admin/settings/reminder_days", dict(days, **{"reminder_days.consultation": "十"}))
    assert bad.status_code == 422
    text = bad.get_data(as_text=True)
    assert "请填写 0–365 之间的整数天数" in text and 'value="十"' in text
    assert admin.post("/admin/settings/reminder_days", dict(days, **{"reminder_days.consultation": "10"})).status_code == 303
    event = _events(runtime, "setting_changed")[-1]
    assert event.detail["key"] == "reminder_days" and event.detail["after"]["consultation"] == 10
    assert 'name="reminder_days.consultation" value="10"' in admin.text("/admin/settings")
