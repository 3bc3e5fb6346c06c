"""Department administration for system administrators: list the departments; create one or change its name, full
name, case-number prefix and the claimant's details that forms 5–7 print (统一社会信用代码, 法定代表人, 地址, 联系方式).

The change itself is ``engine.auth.users.upsert_department`` (one transaction, audited as ``department_created`` /
``department_updated`` with before and after, by the acting administrator); this use case checks the role and every
field first, with Chinese messages by field, so a page can show each next to its input."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select

from engine.auth import users
from engine.common.actor import Actor
from engine.common.errors import Forbidden, NotFound, ValidationFailed
from engine.forms.validation import is_valid_uscc
from engine.store.models import Department
from engine.store.runtime import Runtime

FIELDS = ("id", *users.DEPARTMENT_FIELDS)
LABELS = {"id": "部门编号", "name": "简称", "full_name": "全称", "number_prefix": "案件编号前缀",
          "uscc": "统一社会信用代码", "legal_representative": "法定代表人", "address": "地址", "contact": "联系方式"}
MAX_LENGTH = {"name": 100, "full_name": 200, "number_prefix": 20, "uscc": 18, "legal_representative": 100,
              "address": 300, "contact": 100}
NEW_ID = re.compile(r"[a-z][a-z0-9_]{0,39}")


def _require_admin(actor: Actor) -> None:
    if not actor.has("admin"):
        raise Forbidden("只有系统管理员可以管理部门")


def _view(dept: Department) -> dict[str, Any]:
    return {"id": dept.id, **{f: getattr(dept, f) or "" for f in users.DEPARTMENT_FIELDS}}


def list_departments(runtime: Runtime, actor: Actor) -> dict[str, Any]:
    _require_admin(actor)
    with runtime.db.transaction() as s:
        return {"items": [_view(d) for d in s.execute(select(Department).order_by(Department.id)).scalars()]}


def get_department(runtime: Runtime, actor: Actor, dept_id: str) -> dict[str, Any]:
    _require_admin(actor)
    with runtime.db.transaction() as s:
        dept = s.get(Department, dept_id)
        if dept is None:
            raise NotFound(f"部门 {dept_id} 不存在")
        return _view(dept)


def _checked(body: dict[str, Any], exists: bool) -> dict[str, str]:
    unknown = sorted(set(body) - set(FIELDS))
    if unknown:
        raise ValidationFailed("未知字段：" + "、".join(unknown), dict.fromkeys(unknown, "未知字段"))
    values: dict[str, str] = {}
    problems: dict[str, str] = {}
    for key in FIELDS:
        raw = body.get(key, "")
        if raw is None:
            raw = ""
        if not isinstance(raw, str):
            problems[key] = "应为文本"
            continue
        values[key] = raw.strip()
    if not values.get("id"):
        problems["id"] = "请填写部门编号"
    elif not exists and not NEW_ID.fullmatch(values["id"]):
        problems["id"] = "部门编号以小写字母开头，只能由小写字母、数字和下划线组成（不超过40个字符）"
    if not values.get("name"):
        problems["name"] = "请填写部门简称"
    for key, limit in MAX_LENGTH.items():
        if key not in problems and len(values.get(key, "")) > limit:
            problems[key] = f"不超过{limit}个字符"
    uscc = values.get("uscc", "").upper()
    if uscc and "uscc" not in problems:
        values["uscc"] = uscc
        if len(uscc) != 18:
            problems["uscc"] = "统一社会信用代码应为18位"
        elif not is_valid_uscc(uscc):
            problems["uscc"] = "统一社会信用代码校验码不正确"
    if problems:
        raise ValidationFailed("部门信息未通过校验：" + "、".join(LABELS.get(k, k) for k in problems), problems)
    return values


def save_department(runtime: Runtime, actor: Actor, body: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    """Create the department ``body["id"]`` or change it; returns (the department, created). An empty detail
    leaves the stored value as it is (``upsert_department`` never blanks a detail a document may need)."""
    _require_admin(actor)
    dept_id = body.get("id")
    with runtime.db.transaction() as s:
        exists = isinstance(dept_id, str) and s.get(Department, dept_id.strip()) is not None
    values = _checked(body, exists)
    details = {k: values[k] for k in users.DEPARTMENT_DETAILS if values.get(k)}
    users.upsert_department(runtime, values["id"], values["name"], values.get("full_name", ""),
                            values.get("number_prefix", ""), actor=actor, **details)
    return {**values}, not exists
