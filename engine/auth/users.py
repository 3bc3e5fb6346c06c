"""Users and departments: creation and changes (audited), passwords (argon2), authentication.

Every change of a user or a department writes an audit row (no case; before/after of what changed; never a
password or its hash). A changed password or a deactivation revokes the user's API tokens in the same transaction.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from engine.common import clock
from engine.common.actor import SYSTEM, Actor
from engine.common.errors import NotFound, Unauthorized, ValidationFailed
from engine.forms.validation import is_valid_uscc
from engine.store import audit
from engine.store.models import ApiToken, Department, User
from engine.store.runtime import Runtime

ROLES = ("officer", "division_head", "department_head", "supervisor", "analyst", "admin")
ROLE_NAMES = {"officer": "经办人", "division_head": "处室负责人", "department_head": "部门负责人",
              "supervisor": "督办人员", "analyst": "流程管理员", "admin": "系统管理员"}
NO_PASSWORD = "!"  # the hash of a user nobody can log in as
_hasher = PasswordHasher()
_DUMMY = _hasher.hash("not-a-password")

DEFAULT_DEPARTMENTS = [
    ("eco_env", "生态环境", "××省生态环境厅", "环赔"), ("natural_resources", "自然资源", "××省自然资源厅", "自然赔"),
    ("housing", "住房城乡建设", "××省住房和城乡建设厅", "住建赔"), ("water", "水利", "××省水利厅", "水赔"),
    ("agriculture", "农业农村", "××省农业农村厅", "农赔"), ("forestry", "林业和草原", "××省林业局", "林赔"),
]


def actor_of(user: User) -> Actor:
    return Actor(user.username, user.display_name or user.username, tuple(user.role_list), user.department_id)


# --- departments ---

DEPARTMENT_DETAILS = ("uscc", "legal_representative", "address", "contact")
DEPARTMENT_FIELDS = ("name", "full_name", "number_prefix", *DEPARTMENT_DETAILS)


def _department_view(dept: Department | None) -> dict[str, Any]:
    return {} if dept is None else {f: getattr(dept, f) for f in DEPARTMENT_FIELDS}


def ensure_departments(session: Session) -> None:
    """The six departments of the procedure, created once (one audit row for those created)."""
    created = []
    for dept_id, name, full_name, prefix in DEFAULT_DEPARTMENTS:
        if session.get(Department, dept_id) is None:
            session.add(Department(id=dept_id, name=name, full_name=full_name, number_prefix=prefix))
            created.append(dept_id)
    session.flush()
    if created:
        audit.record(session, who=SYSTEM.username, event_name="department_created", case_id=None,
                     title="预置部门：" + "、".join(n for d, n, _, _ in DEFAULT_DEPARTMENTS if d in created),
                     detail={"departments": created})


def upsert_department(runtime: Runtime, dept_id: str, name: str, full_name: str = "", prefix: str = "", *,
                      actor: Actor = SYSTEM, **details: str) -> None:
    """Create or update a department; ``details`` (统一社会信用代码, 法定代表人, 地址, 联系方式) fill the documents."""
    if not dept_id or not name:
        raise ValidationFailed("部门编号和名称为必填项", {"id": "必填", "name": "必填"})
    unknown = set(details) - set(DEPARTMENT_DETAILS)
    if unknown:
        raise ValidationFailed("未知的部门信息：" + "、".join(sorted(unknown)), {k: "未知字段" for k in unknown})
    if details.get("uscc") and not is_valid_uscc(details["uscc"]):
        raise ValidationFailed("\"统一社会信用代码\"校验码不正确", {"uscc": "校验码不正确"})
    with runtime.db.transaction() as s:
        existing = s.get(Department, dept_id)
        before = _department_view(existing)
        dept = existing or Department(id=dept_id, name=name)
        dept.name, dept.full_name, dept.number_prefix = name, full_name or dept.full_name, prefix or dept.number_prefix
        for key, value in details.items():
            if value:
                setattr(dept, key, value)
        s.add(dept)
        s.flush()
        changes = audit.changed_fields(before, _department_view(dept))
        if changes:
            audit.record(s, who=actor.username, event_name="department_updated" if existing else "department_created",
                         case_id=None, title=f"{'修改' if existing else '新建'}部门 {dept_id}（{name}）"[:300],
                         detail={"department": dept_id, "changes": changes})


# --- users ---

USER_FIELDS = ("display_name", "roles", "department", "active", "password")
FIELD_NAMES = {"display_name": "姓名", "roles": "角色", "department": "部门", "active": "状态", "password": "密码"}


def user_view(user: User) -> dict[str, Any]:
    """A user as administrators see it (never the password hash)."""
    return {"username": user.username, "display_name": user.display_name, "roles": user.role_list,
            "department": user.department_id, "active": bool(user.active)}


def _validated(session: Session, changes: Mapping[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(changes) - set(USER_FIELDS))
    if unknown:
        raise ValidationFailed("未知字段：" + "、".join(unknown), dict.fromkeys(unknown, "未知字段"))
    problems: dict[str, str] = {}
    roles = changes.get("roles", [])
    if not isinstance(roles, list | tuple) or not all(isinstance(r, str) for r in roles):
        problems["roles"] = "应为角色列表"
    elif [r for r in roles if r not in ROLES]:
        bad = [r for r in roles if r not in ROLES]
        raise ValidationFailed(f"未知角色：{'、'.join(bad)}", {"roles": "可选：" + "、".join(ROLES)})
    department = changes.get("department")
    if department is not None and not isinstance(department, str):
        problems["department"] = "应为部门编号或 null"
    elif department and session.get(Department, department) is None:
        problems["department"] = "部门不存在"
    name = changes.get("display_name", "")
    if not isinstance(name, str) or len(name) > 100:
        problems["display_name"] = "应为不超过100字的文本"
    if not isinstance(changes.get("active", True), bool):
        problems["active"] = "应为 true 或 false"
    password = changes.get("password")
    if password is not None and (not isinstance(password, str) or len(password) > 1024):
        problems["password"] = "应为不超过1024个字符的文本，或 null（不能登录）"
    if problems:
        raise ValidationFailed("用户信息未通过校验：" + "、".join(FIELD_NAMES.get(k, k) for k in problems), problems)
    out = dict(changes)
    if "roles" in out:
        out["roles"] = list(dict.fromkeys(out["roles"]))
    return out


def _password_change(user: User, password: str | None) -> str | None:
    """The new hash, or None when ``password`` is what the user already has."""
    if password is None or password == "":
        return None if user.password_hash == NO_PASSWORD else NO_PASSWORD
    if user.password_hash != NO_PASSWORD:
        try:
            if _hasher.verify(user.password_hash, password):
                return None
        except (VerificationError, InvalidHashError):
            pass
    return _hasher.hash(password)


def revoke_tokens(session: Session, username: str) -> int:
    """Revoke every live token of ``username``; returns how many."""
    live = (ApiToken.username == username, ApiToken.revoked_at.is_(None))
    count = int(session.execute(select(func.count(ApiToken.id)).where(*live)).scalar_one())
    if count:
        session.execute(update(ApiToken).where(*live).values(revoked_at=clock.now()))
    return count


def save_user(runtime: Runtime, actor: Actor, username: str, changes: Mapping[str, Any], *,
              must_exist: bool = False) -> tuple[dict[str, Any], bool]:
    """Create ``username`` (``roles`` required) or change what ``changes`` names: ``display_name``, ``roles``,
    ``department``, ``active``, ``password`` (None or "": nobody can log in). Returns (the user, created).

    One audit row per call that changes something; a changed password or a deactivation revokes the user's tokens."""
    if not isinstance(username, str) or not username or len(username) > 80:
        raise ValidationFailed("\"用户名\"为必填项（不超过80个字符）", {"username": "必填"})
    with runtime.db.transaction() as s:
        values = _validated(s, changes)
        user = s.execute(select(User).where(User.username == username)).scalar()
        created = user is None
        if user is None:
            if must_exist:
                raise NotFound(f"用户 {username} 不存在")
            if "roles" not in values:
                raise ValidationFailed("新建用户须给出角色", {"roles": "必填"})
            user = User(username=username, display_name=username, roles="", password_hash=NO_PASSWORD, active=True)
            s.add(user)
            before: dict[str, Any] = {}
        else:
            before = user_view(user)
        if "roles" in values:
            user.roles = ",".join(values["roles"])
        if "department" in values:
            user.department_id = values["department"] or None
        if values.get("display_name"):
            user.display_name = values["display_name"]
        if "active" in values:
            user.active = values["active"]
        new_hash = _password_change(user, values["password"]) if "password" in values else None
        if new_hash is not None:
            user.password_hash = new_hash
        s.flush()
        after = user_view(user)
        changed = audit.changed_fields(before, {k: v for k, v in after.items() if k != "username" or not created})
        detail: dict[str, Any] = {"username": username, "changes": changed}
        if new_hash is not None:
            detail["password"] = ("cleared" if new_hash == NO_PASSWORD else "set" if created else "changed")
        deactivated = bool(not created and before["active"] and not user.active)
        if not created and (new_hash is not None or deactivated):
            detail["tokens_revoked"] = revoke_tokens(s, username)
        if created or changed or new_hash is not None:
            event, title = _describe(username, created, deactivated, changed, new_hash)
            audit.record(s, who=actor.username, event_name=event, case_id=None, title=title[:300], detail=detail)
        return after, created


def _describe(username: str, created: bool, deactivated: bool, changed: dict[str, Any],
              new_hash: str | None) -> tuple[str, str]:
    if created:
        return "user_created", f"新建用户 {username}"
    if deactivated:
        return "user_deactivated", f"停用用户 {username}"
    if not changed:
        what = "清除" if new_hash == NO_PASSWORD else "修改"
        return "password_changed", f"{what}用户 {username} 的密码"
    fields = [FIELD_NAMES[k] for k in changed] + (["密码"] if new_hash is not None else [])
    if changed.get("active", {}).get("after") is True:
        return "user_updated", f"启用用户 {username}（{'、'.join(fields)}）"
    return "user_updated", f"修改用户 {username}：{'、'.join(fields)}"


def create_user(runtime: Runtime, username: str, password: str | None, roles: list[str], department: str | None,
                display_name: str = "", *, actor: Actor = SYSTEM) -> Actor:
    """Create or update a user with these roles, department and password (None: nobody can log in)."""
    changes: dict[str, Any] = {"roles": roles, "department": department, "password": password}
    if display_name:
        changes["display_name"] = display_name
    view, _ = save_user(runtime, actor, username, changes)
    return Actor(view["username"], view["display_name"] or view["username"], tuple(view["roles"]),
                 view["department"])


def list_users(session: Session) -> list[dict[str, Any]]:
    return [user_view(u) for u in session.execute(select(User).order_by(User.username)).scalars()]


def check_password(session: Session, username: str, password: str) -> User | None:
    """The active user whose password this is, else None; an unknown name costs the same time as a known one."""
    user = session.execute(select(User).where(User.username == username, User.active.is_(True))).scalar()
    stored = user.password_hash if user is not None else _DUMMY
    try:
        _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return None
    return user


def authenticate(runtime: Runtime, username: str, password: str) -> Actor:
    with runtime.db.transaction() as s:
        user = check_password(s, username, password)
        if user is None:
            raise Unauthorized("用户名或密码错误")
        return actor_of(user)


def get_actor(runtime: Runtime, username: str) -> Actor:
    with runtime.db.transaction() as s:
        user = s.execute(select(User).where(User.username == username)).scalar()
        if user is None:
            raise Unauthorized("用户不存在")
        return actor_of(user)
