"""Users and departments: creation, passwords (argon2), authentication."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.common.actor import Actor
from engine.common.errors import Unauthorized, ValidationFailed
from engine.forms.validation import is_valid_uscc
from engine.store.models import Department, User
from engine.store.runtime import Runtime

ROLES = ("officer", "division_head", "department_head", "supervisor", "analyst", "admin")
_hasher = PasswordHasher()
_DUMMY = _hasher.hash("not-a-password")

DEFAULT_DEPARTMENTS = [
    ("eco_env", "生态环境", "××省生态环境厅", "环赔"), ("natural_resources", "自然资源", "××省自然资源厅", "自然赔"),
    ("housing", "住房城乡建设", "××省住房和城乡建设厅", "住建赔"), ("water", "水利", "××省水利厅", "水赔"),
    ("agriculture", "农业农村", "××省农业农村厅", "农赔"), ("forestry", "林业和草原", "××省林业局", "林赔"),
]


def actor_of(user: User) -> Actor:
    return Actor(user.username, user.display_name or user.username, tuple(user.role_list), user.department_id)


def ensure_departments(session: Session) -> None:
    for dept_id, name, full_name, prefix in DEFAULT_DEPARTMENTS:
        if session.get(Department, dept_id) is None:
            session.add(Department(id=dept_id, name=name, full_name=full_name, number_prefix=prefix))
    session.flush()


DEPARTMENT_DETAILS = ("uscc", "legal_representative", "address", "contact")


def upsert_department(runtime: Runtime, dept_id: str, name: str, full_name: str = "", prefix: str = "",
                      **details: str) -> None:
    """Create or update a department; ``details`` (统一社会信用代码, 法定代表人, 地址, 联系方式) fill the documents."""
    if not dept_id or not name:
        raise ValidationFailed("部门编号和名称为必填项", {"id": "必填", "name": "必填"})
    unknown = set(details) - set(DEPARTMENT_DETAILS)
    if unknown:
        raise ValidationFailed("未知的部门信息：" + "、".join(sorted(unknown)), {k: "未知字段" for k in unknown})
    if details.get("uscc") and not is_valid_uscc(details["uscc"]):
        raise ValidationFailed("\"统一社会信用代码\"校验码不正确", {"uscc": "校验码不正确"})
    with runtime.db.transaction() as s:
        dept = s.get(Department, dept_id) or Department(id=dept_id, name=name)
        dept.name, dept.full_name, dept.number_prefix = name, full_name or dept.full_name, prefix or dept.number_prefix
        for key, value in details.items():
            if value:
                setattr(dept, key, value)
        s.add(dept)


def create_user(runtime: Runtime, username: str, password: str | None, roles: list[str], department: str | None,
                display_name: str = "") -> Actor:
    bad = [r for r in roles if r not in ROLES]
    if bad:
        raise ValidationFailed(f"未知角色：{'、'.join(bad)}", {"roles": "可选：" + "、".join(ROLES)})
    if not username:
        raise ValidationFailed("\"用户名\"为必填项", {"username": "必填"})
    with runtime.db.transaction() as s:
        if department and s.get(Department, department) is None:
            raise ValidationFailed("部门不存在", {"department": "部门不存在"})
        user = s.execute(select(User).where(User.username == username)).scalar()
        if user is None:
            user = User(username=username)
            s.add(user)
        user.roles = ",".join(roles)
        user.department_id = department
        user.display_name = display_name or user.display_name or username
        user.password_hash = _hasher.hash(password) if password else "!"
        s.flush()
        return actor_of(user)


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
