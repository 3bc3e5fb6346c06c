"""User administration for system administrators: list the users; create one, or change its name, roles,
department, password or whether it is active. Changes are audited by ``engine.auth.users``; a new password or a
deactivation revokes the user's tokens there, in the same transaction."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select

from engine.auth import users
from engine.common.actor import Actor
from engine.common.errors import Forbidden, ValidationFailed
from engine.store.models import User
from engine.store.runtime import Runtime

FIELDS = ("username", *users.USER_FIELDS)
NEW_USERNAME = re.compile(r"[A-Za-z0-9_.@-]{1,80}")
MIN_PASSWORD = 8


def _require_admin(actor: Actor) -> None:
    if not actor.has("admin"):
        raise Forbidden("只有系统管理员可以管理用户")


def list_users(runtime: Runtime, actor: Actor) -> dict[str, Any]:
    _require_admin(actor)
    with runtime.db.transaction() as s:
        return {"items": users.list_users(s)}


def save_user(runtime: Runtime, actor: Actor, body: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    """Create the user ``body["username"]`` (``roles`` required) or change the fields the body names; returns
    (the user, created). ``password`` null: nobody can log in as the user until a new one is set."""
    _require_admin(actor)
    unknown = sorted(set(body) - set(FIELDS))
    if unknown:
        raise ValidationFailed("未知字段：" + "、".join(unknown), dict.fromkeys(unknown, "未知字段"))
    username = body.get("username")
    if not isinstance(username, str) or not username:
        raise ValidationFailed("\"用户名\"为必填项", {"username": "必填"})
    password = body.get("password")
    if isinstance(password, str) and len(password) < MIN_PASSWORD:
        raise ValidationFailed(f"密码至少 {MIN_PASSWORD} 个字符", {"password": f"至少 {MIN_PASSWORD} 个字符"})
    with runtime.db.transaction() as s:
        exists = s.execute(select(User.id).where(User.username == username)).first() is not None
    if not exists and not NEW_USERNAME.fullmatch(username):
        raise ValidationFailed("用户名只能由字母、数字和 _ . @ - 组成（不超过80个字符）", {"username": "格式不正确"})
    if username == actor.username and (body.get("active") is False or (
            isinstance(body.get("roles"), list) and "admin" not in body["roles"])):
        raise ValidationFailed("不能停用自己，也不能取消自己的系统管理员角色",
                               {"active" if body.get("active") is False else "roles": "不能对自己这样做"})
    changes = {k: v for k, v in body.items() if k != "username"}
    return users.save_user(runtime, actor, username, changes)
