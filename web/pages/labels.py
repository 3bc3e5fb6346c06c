"""Chinese words for the ids a page shows (roles, stages, statuses, events), and the Jinja filters that use them."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from flask import Flask

from engine.common import clock
from engine.services.case_ledger import STAGE_LABELS, STATUS_LABELS
from engine.services.dashboard import FAILURE_REASONS

ROLES = {"officer": "经办人", "division_head": "机构负责人", "department_head": "部门负责人", "supervisor": "督办人员",
         "analyst": "流程管理员", "admin": "系统管理员", "system": "系统"}
EVENTS = {"created": "任务生成", "claimed": "签收", "completed": "办结", "message": "收到消息", "timer": "期限到达",
          "document": "生成文书", "incident": "流程异常", "note": "记录", "incident_fix": "异常处理",
          "model_replay": "流程回放", "migrated": "版本迁移", "clock_moved": "拨动时钟"}
GROUP_OUTCOMES = {"agreed": "磋商达成一致", "failed": "磋商不成", "closed": "已办结"}
DEADLINE_STATES = {"running": "计时中", "paused": "暂停计时", "met": "按期完成", "lapsed": "逾期完成"}
NOTIFICATION_KINDS = {"reminder": "到期提醒", "overdue": "逾期", "escalation": "督办", "assigned": "新任务",
                      "report": "报告"}
OBLIGATION_STATES = {"done": "已履行", "open": "待履行", "overdue": "已逾期"}
OBLIGATION_KINDS = {"restoration": "生态环境修复", "payment": "缴纳赔偿金", "labour_service": "劳务代偿",
                    "carbon_credit": "认购碳汇", "restocking": "增殖放流", "technology_upgrade": "技改抵扣",
                    "alternative_restoration": "替代修复", "apology": "公开赔礼道歉", "other": "其他"}
OBLIGOR_KINDS = {"company": "单位", "person": "自然人"}


def local_time(value: Any, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """An ISO time (UTC in the data) as Beijing time."""
    if not value:
        return ""
    when = datetime.fromisoformat(value) if isinstance(value, str) else value
    if isinstance(when, datetime):
        return when.astimezone(clock.LOCAL_TZ).strftime(fmt)
    return str(value)


def chinese_date(value: Any) -> str:
    """2026-06-01 → 2026年6月1日."""
    if not value:
        return ""
    day = date.fromisoformat(value[:10]) if isinstance(value, str) else value
    if isinstance(day, datetime):
        day = day.astimezone(clock.LOCAL_TZ).date()
    return f"{day.year}年{day.month}月{day.day}日" if isinstance(day, date) else str(value)


def days_left(days: int | None) -> str:
    if days is None:
        return ""
    if days < 0:
        return f"已逾期{-days}天"
    if days == 0:
        return "今天到期"
    return f"剩{days}天"


def money(value: Any) -> str:
    """1250000.00 → 1,250,000.00 (元, two decimals; what is not a number is shown as it is)."""
    if value in (None, ""):
        return ""
    try:
        return f"{Decimal(str(value)):,.2f}"
    except (InvalidOperation, ValueError):
        return str(value)


def install(app: Flask) -> None:
    tables = {"role": ROLES, "stage": STAGE_LABELS, "status": STATUS_LABELS, "event": EVENTS,
              "outcome": GROUP_OUTCOMES, "deadline_state": DEADLINE_STATES, "notification": NOTIFICATION_KINDS,
              "failure": FAILURE_REASONS, "obligation_state": OBLIGATION_STATES, "obligation": OBLIGATION_KINDS,
              "obligor_kind": OBLIGOR_KINDS}

    def make(table: dict[str, str]) -> Any:
        return lambda value: table.get(value, value) if value is not None else ""

    for name, table in tables.items():
        app.add_template_filter(make(table), f"{name}_label")
    app.add_template_filter(local_time, "local_time")
    app.add_template_filter(chinese_date, "cn_date")
    app.add_template_filter(days_left, "days_left")
    app.add_template_filter(money, "money")
