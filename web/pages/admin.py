"""Administration pages (系统管理, role admin): users, departments (with the claimant's details forms 5–7 print), the
holiday table and the settings. Each form posts with its CSRF token; a refusal re-renders the form with the message
next to its field and everything typed kept. The changes are the services' (audited there): ``admin_users``,
``admin_departments``, ``holiday_admin``, ``settings``."""

from __future__ import annotations

import re
from typing import Any

from flask import Response, flash, redirect, render_template, request, url_for

from engine.auth.users import ROLES
from engine.common import clock
from engine.common.errors import Forbidden, NotFound, ValidationFailed
from engine.services import admin_departments, admin_users, directory, holiday_admin, settings

from . import actor, pages, runtime
from .labels import ROLES as ROLE_NAMES

BLANK_HOLIDAY_ROWS = 5
MAX_HOLIDAY_ROWS = 366
PROBLEM_ROW = re.compile(r"^第 (\d+) 项")


def _require_admin() -> None:
    if not actor().has("admin"):
        raise Forbidden("只有系统管理员可以使用系统管理")


def _redirect(endpoint: str, **values: Any) -> Response:
    return redirect(url_for(endpoint, **values), code=303)  # type: ignore[return-value]


def _fields(exc: ValidationFailed) -> dict[str, str]:
    return {str(k): str(v) for k, v in exc.fields.items()}


@pages.get("/admin")
def admin_home() -> Response:
    _require_admin()
    return _redirect("pages.admin_users_page")


# --- users ---

@pages.get("/admin/users")
def admin_users_page() -> str:
    items = admin_users.list_users(runtime(), actor())["items"]
    return render_template("admin/users.html", users=items, departments=directory.department_names(runtime()),
                           role_names=ROLE_NAMES)


def _user_form(user: dict[str, Any], new: bool, errors: dict[str, str] | None = None,
               message: str | None = None) -> str:
    return render_template("admin/user_form.html", user=user, new=new, errors=errors or {}, message=message,
                           roles=ROLES, role_names=ROLE_NAMES, departments=directory.department_names(runtime()))


def _find_user(username: str) -> dict[str, Any]:
    for item in admin_users.list_users(runtime(), actor())["items"]:
        if item["username"] == username:
            return dict(item)
    raise NotFound(f"用户 {username} 不存在")


def _user_body(username: str, new: bool) -> dict[str, Any]:
    form = request.form
    body: dict[str, Any] = {"username": username, "display_name": form.get("display_name", "").strip(),
                            "roles": form.getlist("roles"), "department": form.get("department") or None,
                            "active": form.get("active") == "1"}
    if form.get("password"):
        body["password"] = form["password"]
    elif new:
        body["password"] = None
    return body


@pages.get("/admin/users/new")
def admin_user_new() -> str:
    _require_admin()
    return _user_form({"username": "", "display_name": "", "roles": [], "department": None, "active": True}, True)


@pages.post("/admin/users/new")
def admin_user_create() -> Response | tuple[str, int]:
    _require_admin()
    username = request.form.get("username", "").strip()
    body = _user_body(username, True)
    if username and any(u["username"] == username for u in admin_users.list_users(runtime(), actor())["items"]):
        return _user_form(body, True, {"username": "该用户名已存在"}, "用户名已被使用"), 422
    if not body["roles"]:
        return _user_form(body, True, {"roles": "请至少选择一个角色"}, "新建用户须给出角色"), 422
    try:
        admin_users.save_user(runtime(), actor(), body)
    except ValidationFailed as exc:
        return _user_form(body, True, _fields(exc), exc.message), 422
    flash(f"已新建用户：{username}", "success")
    return _redirect("pages.admin_users_page")


@pages.get("/admin/users/<username>")
def admin_user_edit(username: str) -> str:
    _require_admin()
    return _user_form(_find_user(username), False)


@pages.post("/admin/users/<username>")
def admin_user_save(username: str) -> Response | tuple[str, int]:
    _require_admin()
    _find_user(username)
    body = _user_body(username, False)
    if not body["roles"]:
        return _user_form(body, False, {"roles": "请至少选择一个角色"}, "用户须至少有一个角色"), 422
    try:
        admin_users.save_user(runtime(), actor(), body)
    except ValidationFailed as exc:
        return _user_form(body, False, _fields(exc), exc.message), 422
    flash(f"已保存用户：{username}" + ("（密码已更新，原有登录已失效）" if "password" in body else ""), "success")
    return _redirect("pages.admin_users_page")


@pages.post("/admin/users/<username>/active")
def admin_user_active(username: str) -> Response:
    _require_admin()
    _find_user(username)
    active = request.form.get("active") == "1"
    try:
        admin_users.save_user(runtime(), actor(), {"username": username, "active": active})
        flash(f"已{'启用' if active else '停用'}用户：{username}", "success")
    except ValidationFailed as exc:
        flash(exc.message, "error")
    return _redirect("pages.admin_users_page")


# --- departments ---

@pages.get("/admin/departments")
def admin_departments_page() -> str:
    items = admin_departments.list_departments(runtime(), actor())["items"]
    return render_template("admin/departments.html", departments=items)


def _department_form(dept: dict[str, Any], new: bool, errors: dict[str, str] | None = None,
                     message: str | None = None) -> str:
    return render_template("admin/department_form.html", dept=dept, new=new, errors=errors or {}, message=message,
                           labels=admin_departments.LABELS, limits=admin_departments.MAX_LENGTH)


def _department_body(dept_id: str) -> dict[str, Any]:
    body: dict[str, Any] = {"id": dept_id}
    for key in admin_departments.FIELDS[1:]:
        body[key] = request.form.get(key, "").strip()
    return body


@pages.get("/admin/departments/new")
def admin_department_new() -> str:
    _require_admin()
    return _department_form(dict.fromkeys(admin_departments.FIELDS, ""), True)


@pages.post("/admin/departments/new")
def admin_department_create() -> Response | tuple[str, int]:
    _require_admin()
    dept_id = request.form.get("id", "").strip()
    body = _department_body(dept_id)
    if dept_id in directory.department_names(runtime()):
        return _department_form(body, True, {"id": "该部门编号已存在"}, "部门编号已被使用"), 422
    try:
        admin_departments.save_department(runtime(), actor(), body)
    except ValidationFailed as exc:
        return _department_form(body, True, _fields(exc), exc.message), 422
    flash(f"已新建部门：{body['name']}", "success")
    return _redirect("pages.admin_departments_page")


@pages.get("/admin/departments/<name:dept_id>")
def admin_department_edit(dept_id: str) -> str:
    return _department_form(admin_departments.get_department(runtime(), actor(), dept_id), False)


@pages.post("/admin/departments/<name:dept_id>")
def admin_department_save(dept_id: str) -> Response | tuple[str, int]:
    admin_departments.get_department(runtime(), actor(), dept_id)
    body = _department_body(dept_id)
    try:
        admin_departments.save_department(runtime(), actor(), body)
    except ValidationFailed as exc:
        return _department_form(body, False, _fields(exc), exc.message), 422
    flash(f"已保存部门：{body['name']}", "success")
    return _redirect("pages.admin_departments_page")


# --- holidays ---

def _holiday_page(year: int, rows: list[dict[str, Any]], source: str | None, errors: dict[int, list[str]] | None = None,
                  message: str | None = None, loose: list[str] | None = None) -> str:
    shown = rows + [{"date": "", "kind": "holiday", "name": ""} for _ in range(BLANK_HOLIDAY_ROWS)]
    this_year = clock.today().year
    return render_template("admin/holidays.html", year=year, rows=shown, source=source, errors=errors or {},
                           message=message, loose=loose or [], years=list(range(this_year - 2, this_year + 3)))


@pages.get("/admin/holidays")
def admin_holidays_page() -> str:
    _require_admin()
    year = request.args.get("year", "")
    table = holiday_admin.get_year(runtime(), int(year) if year.isdigit() and len(year) == 4 else None)
    return _holiday_page(table["year"], list(table["days"]), table["source"])


def _holiday_rows() -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for i in range(MAX_HOLIDAY_ROWS + BLANK_HOLIDAY_ROWS):
        if f"days-{i}-date" not in request.form:
            break
        row = {"date": request.form.get(f"days-{i}-date", "").strip(),
               "kind": request.form.get(f"days-{i}-kind", "holiday"),
               "name": request.form.get(f"days-{i}-name", "").strip()}
        if request.form.get(f"days-{i}-remove") == "1" or not (row["date"] or row["name"]):
            continue
        rows.append(row)
    return rows


@pages.post("/admin/holidays/<id:year>")
def admin_holidays_save(year: int) -> Response | tuple[str, int]:
    _require_admin()
    rows = _holiday_rows()
    try:
        holiday_admin.put_year(runtime(), actor(), year, {"year": year, "days": rows})
    except ValidationFailed as exc:
        by_row: dict[int, list[str]] = {}
        loose: list[str] = []
        for text in _fields(exc).values():
            found = PROBLEM_ROW.match(text)
            if found and 1 <= int(found.group(1)) <= len(rows):
                by_row.setdefault(int(found.group(1)) - 1, []).append(text)
            else:
                loose.append(text)
        return _holiday_page(year, rows, None, by_row, exc.message, loose), 422
    flash(f"已保存 {year} 年节假日表（{len(rows)} 项）", "success")
    return _redirect("pages.admin_holidays_page", year=year)


# --- settings ---

def _settings_page(values: dict[str, Any] | None = None, errors: dict[str, str] | None = None,
                   message: str | None = None) -> str:
    current = settings.get_settings(runtime(), actor())
    if values:
        current = {**current, **values}
    return render_template("admin/settings.html", settings=current, errors=errors or {}, message=message)


@pages.get("/admin/settings")
def admin_settings_page() -> str:
    return _settings_page()


@pages.post("/admin/settings/reminder_days")
def admin_settings_reminders() -> Response | tuple[str, int]:
    _require_admin()
    typed: dict[str, str] = {}
    days: dict[str, int] = {}
    errors: dict[str, str] = {}
    for name in settings.DEADLINE_LABELS:
        raw = request.form.get(f"reminder_days.{name}", "").strip()
        typed[name] = raw
        if not (raw.isascii() and raw.isdigit()) or int(raw) > 365:
            errors[f"reminder_days.{name}"] = "请填写 0–365 之间的整数天数"
        else:
            days[name] = int(raw)
    if errors:
        return _settings_page({"reminder_days": typed}, errors, "提醒天数填写有误"), 422
    try:
        settings.save_setting(runtime(), actor(), "reminder_days", days)
    except ValidationFailed as exc:
        return _settings_page({"reminder_days": typed}, _fields(exc), exc.message), 422
    flash("已保存提醒天数", "success")
    return _redirect("pages.admin_settings_page")


@pages.post("/admin/settings/case_number_format")
def admin_settings_number_format() -> Response | tuple[str, int]:
    _require_admin()
    value = request.form.get("case_number_format", "").strip()
    try:
        settings.save_setting(runtime(), actor(), "case_number_format", value)
    except ValidationFailed as exc:
        return _settings_page({"case_number_format": value}, _fields(exc), exc.message), 422
    flash("已保存案件编号格式", "success")
    return _redirect("pages.admin_settings_page")
