"""The administrator's settings page as use cases: read the settings in force (with their defaults) and change
one, for administrators only. The validation and the audited write are ``engine.services.settings.put_setting``."""

from __future__ import annotations

from typing import Any

from engine.common.actor import Actor
from engine.common.errors import Forbidden
from engine.services import reminders, settings
from engine.store.runtime import Runtime
from engine.store.settings import case_number_format

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
                "labels": dict(settings.LABELS)}


def save_setting(runtime: Runtime, actor: Actor, key: str, value: Any) -> None:
    """Change one setting (validated and audited with its value before and after by ``put_setting``)."""
    _require_admin(actor)
    settings.put_setting(runtime, key, value, actor=actor)
