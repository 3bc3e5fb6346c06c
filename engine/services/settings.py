"""Administrator settings kept in the database (reminder windows, the case-number format): read them with their
defaults, change one (administrators; the command line as its operator), validated, audited before and after."""

from __future__ import annotations

from typing import Any

from engine.common.actor import SYSTEM, Actor
from engine.common.errors import Forbidden, ValidationFailed
from engine.services import reminders
from engine.store import audit
from engine.store.models import Setting
from engine.store.runtime import Runtime
from engine.store.settings import case_number_format

EDITABLE = ("reminder_days", "case_number_format")
LABELS = {"reminder_days": "提醒天数", "case_number_format": "案件编号格式"}


def _check(key: str, value: Any) -> None:
    if key not in EDITABLE:
        raise ValidationFailed(f"不能修改的设置：{key}", {"key": "可选：" + "、".join(EDITABLE)})
    valid_days = isinstance(value, dict) and all(isinstance(v, int) and 0 <= v <= 365 for v in value.values())
    if key == "reminder_days" and not valid_days:
        raise ValidationFailed("\"提醒天数\"应为 {期限名: 天数}，天数为 0–365 的整数",
                               {"reminder_days": "格式不正确"})
    if key == "case_number_format":
        if not isinstance(value, str) or "{seq" not in value:
            raise ValidationFailed("\"案件编号格式\"须包含 {seq}（序号）", {"case_number_format": "缺少 {seq}"})
        try:
            value.format(prefix="环赔", year=2026, seq=1, department="eco_env")
        except (KeyError, IndexError, ValueError) as exc:
            raise ValidationFailed(f"\"案件编号格式\"无效：{exc}（可用 {{prefix}} {{year}} {{seq}} {{department}}）",
                                   {"case_number_format": "格式无效"}) from exc


def put_setting(runtime: Runtime, key: str, value: Any, actor: Actor = SYSTEM) -> None:
    _check(key, value)
    with runtime.db.transaction() as s:
        row = s.get(Setting, key)
        before = None if row is None else row.value
        if row is None:
            s.add(Setting(key=key, value=value))
        else:
            row.value = value
        if before != value:
            audit.record(s, who=actor.username, event_name="setting_changed", case_id=None,
                         title=f"修改设置：{LABELS[key]}（{key}）", detail={"key": key, "before": before, "after": value})


#: the deadlines the diagrams compute (docs/procedure.md §11.5), by name, and "*" for any other
DEADLINE_LABELS = {"lead_decision": "线索核查期限", "investigation": "调查期限", "consultation": "磋商期限",
                   "obligor_reply": "答复期限", "restoration": "修复期限", "payment": "赔偿金缴纳期限",
                   "court_notice": "法院告知期限", "court_coordination": "与法院沟通对接期限", "*": "其他期限（默认）"}


def _require_admin(actor: Actor) -> None:
    if not actor.has("admin"):
        raise Forbidden("只有系统管理员可以修改系统设置")


def get_settings(runtime: Runtime, actor: Actor) -> dict[str, Any]:
    """The reminder days per deadline (defaults filled in) and the case-number format in force."""
    _require_admin(actor)
    with runtime.db.transaction() as s:
        days = reminders.reminder_days(s)
        return {"reminder_days": {name: days.get(name, days["*"]) for name in DEADLINE_LABELS},
                "deadline_labels": dict(DEADLINE_LABELS),
                "case_number_format": case_number_format(s, runtime.config.case_number_format),
                "labels": dict(LABELS)}


def save_setting(runtime: Runtime, actor: Actor, key: str, value: Any) -> None:
    """Change one setting (validated and audited with its value before and after by ``put_setting``)."""
    _require_admin(actor)
    put_setting(runtime, key, value, actor=actor)
