"""The service's clock for people and scripts: read it; move the simulated one (demo and test mode, admins), which
is audited with the time before and after."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from engine.common import clock
from engine.common.actor import Actor
from engine.common.errors import Forbidden, ValidationFailed
from engine.services.timers import advance_clock
from engine.store import audit
from engine.store.runtime import Runtime

_DURATION = re.compile(r"P(?:\d{1,4}W|(?=\d|T\d)(?:\d{1,5}D)?(?:T(?=\d)(?:\d{1,6}H)?(?:\d{1,7}M)?(?:\d{1,8}S)?)?)")
# Moving years ahead at once would only fire a flood of cycle timers; ten years is more than any case needs.
LIMIT = timedelta(days=3660)


def clock_status(runtime: Runtime) -> dict[str, Any]:
    current = clock.active()
    return {"now": clock.now().astimezone(clock.LOCAL_TZ).isoformat(),
            "simulated": bool(runtime.config.demo and isinstance(current, clock.SimulatedClock))}


def move_clock(runtime: Runtime, actor: Actor, body: dict[str, Any]) -> dict[str, Any]:
    """``{"advance": "P91D"}`` or ``{"set": "2027-03-01T09:00:00+08:00"}``; fires every timer due on the way."""
    if not runtime.config.demo or not isinstance(clock.active(), clock.SimulatedClock):
        raise Forbidden("只有演示或测试模式可以调整时钟")
    if not actor.has("admin"):
        raise Forbidden("只有系统管理员可以调整时钟")
    unknown = sorted(set(body) - {"advance", "set"})
    if unknown:
        raise ValidationFailed("未知字段：" + "、".join(unknown), dict.fromkeys(unknown, "未知字段"))
    by, to = body.get("advance"), body.get("set")
    if (by is None) == (to is None):
        raise ValidationFailed("请给出 advance 或 set 之一", {"advance": "二选一", "set": "二选一"})
    if by is not None:
        if not isinstance(by, str) or not _DURATION.fullmatch(by):
            raise ValidationFailed("时长格式不正确", {"advance": "应为 ISO 8601 时长，例如 P91D、PT2H"})
        if clock.parse_duration(by) > LIMIT:
            raise ValidationFailed("一次最多拨动十年", {"advance": "不超过 P3660D"})
        return audited_advance(runtime, actor, by=by)
    if not isinstance(to, str):
        raise ValidationFailed("时间格式不正确", {"set": "应为带时区的 ISO 8601 时间"})
    try:
        target = datetime.fromisoformat(to)
    except ValueError as exc:
        raise ValidationFailed("时间格式不正确", {"set": "应为带时区的 ISO 8601 时间"}) from exc
    if target.tzinfo is None:
        raise ValidationFailed("时间须带时区，例如 2027-03-01T09:00:00+08:00", {"set": "缺少时区"})
    if target - clock.now() > LIMIT:
        raise ValidationFailed("一次最多拨动十年", {"set": "不能晚于当前模拟时间十年以上"})
    return audited_advance(runtime, actor, to=to)


def _local(when: datetime) -> str:
    return when.astimezone(clock.LOCAL_TZ).strftime("%Y-%m-%d %H:%M")


def audited_advance(runtime: Runtime, actor: Actor, *, by: str | None = None, to: str | None = None) -> dict[str, Any]:
    """``timers.advance_clock`` with its audit row (written even when firing a timer on the way failed), from when
    to when; what ``eco-claims clock`` should call too."""
    before = clock.now()
    try:
        return advance_clock(runtime, actor, by=by, to=to)
    finally:
        after = clock.now()
        if after != before:
            with runtime.db.transaction() as s:
                audit.record(s, who=actor.username, event_name="clock_moved", case_id=None,
                             title=f"拨动模拟时钟：{_local(before)} → {_local(after)}",
                             detail={"before": before.isoformat(), "after": after.isoformat(),
                                     **({"advance": by} if by is not None else {"set": to})})
