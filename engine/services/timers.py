"""Fire due timers (one instance per transaction, in due-time order) and move the simulated clock."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from engine.common import clock
from engine.common.actor import SYSTEM, Actor
from engine.common.errors import Forbidden, ValidationFailed
from engine.process.instances import advance, open_run
from engine.services.reminders import scan
from engine.store import audit
from engine.store.models import ProcessInstance, Setting, WaitingTimer
from engine.store.runtime import Runtime


def due_instances(runtime: Runtime, until: datetime) -> list[tuple[int, datetime]]:
    """(instance id, earliest due time) of every instance with a timer due by ``until``, earliest first."""
    with runtime.db.transaction() as s:
        rows = s.execute(select(WaitingTimer.instance_id, WaitingTimer.due_at).where(WaitingTimer.due_at <= until)
                         .order_by(WaitingTimer.due_at)).all()
    seen: dict[int, datetime] = {}
    for instance_id, due_at in rows:
        seen.setdefault(int(instance_id), _aware(due_at))
    return sorted(seen.items(), key=lambda kv: kv[1])


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=clock.LOCAL_TZ).astimezone()


def wake_instance(runtime: Runtime, instance_id: int, actor: Actor = SYSTEM) -> int:
    """Load one instance, fire what is due, run and save it (one transaction); returns the timers fired."""
    with runtime.db.transaction() as s:
        inst = s.get(ProcessInstance, instance_id)
        if inst is None or inst.status == "completed":
            return 0
        now = clock.now()
        due = s.execute(select(WaitingTimer).where(WaitingTimer.instance_id == instance_id,
                                                   WaitingTimer.due_at <= now)).scalars().all()
        if not due:
            return 0
        due_ids = [t.id for t in due]
        run = open_run(runtime, s, inst, actor)
        advance(run, lambda wf: None, fire_timers=True)
        s.flush()
        still = set(s.execute(select(WaitingTimer.id).where(WaitingTimer.id.in_(due_ids))).scalars())
        due = [t for t in due if t.id not in still]
        for timer in due:
            audit.record(s, who=actor.username, event_name="timer", case_id=inst.case_id, task=timer.bpmn_id,
                         title=f"定时事件到期：{timer.bpmn_id}", detail={"due_at": _aware(timer.due_at).isoformat()})
        return len(due)


def fire_due_timers(runtime: Runtime, actor: Actor = SYSTEM) -> int:
    """Fire every timer due now; repeats while firing makes further timers due (chained deadlines)."""
    fired = 0
    for _ in range(100):
        batch = due_instances(runtime, clock.now())
        if not batch:
            break
        count = sum(wake_instance(runtime, instance_id, actor) for instance_id, _ in batch)
        fired += count
        if count == 0:
            break
    return fired


def advance_clock(runtime: Runtime, actor: Actor, *, by: str | None = None, to: str | None = None) -> dict[str, Any]:
    """Move the simulated clock forward, stopping at each due timer on the way so they fire in order."""
    current = clock.active()
    if not runtime.config.demo or not isinstance(current, clock.SimulatedClock):
        raise Forbidden("只有演示或测试模式可以调整时钟")
    if not actor.has("admin") and not actor.is_system:
        raise Forbidden("只有系统管理员可以调整时钟")
    if (by is None) == (to is None):
        raise ValidationFailed("请给出 advance 或 set 之一", {"advance": "二选一", "set": "二选一"})
    try:
        target = clock.now() + clock.parse_duration(by) if by else datetime.fromisoformat(str(to))
    except (ValueError, TypeError) as exc:
        field = "advance" if by else "set"
        raise ValidationFailed(f"时间格式不正确：{exc}", {field: "应为 ISO 8601 时长（如 P91D）或带时区的时间"}) from exc
    if target.tzinfo is None:
        raise ValidationFailed("时间须带时区，例如 2027-03-01T09:00:00+08:00", {"set": "缺少时区"})
    if target < clock.now():
        raise ValidationFailed("模拟时钟只能向前拨动", {"set": "不能早于当前模拟时间"})
    # SpiffWorkflow fires a timer once "now" is strictly past its due time, hence the one-second step.
    for _ in range(10_000):
        pending = [p for p in due_instances(runtime, target) if p[1] > clock.now()]
        step = min(pending[0][1] + timedelta(seconds=1), target) if pending else target
        current.set(max(step, clock.now()))
        _persist(runtime)
        fire_due_timers(runtime, actor if actor.is_system else SYSTEM)
        scan(runtime)
        if clock.now() >= target:
            break
    return {"now": clock.now().isoformat()}


def _persist(runtime: Runtime) -> None:
    with runtime.db.transaction() as s:
        row = s.get(Setting, "simulated_now")
        if row is None:
            s.add(Setting(key="simulated_now", value=clock.now().isoformat()))
        else:
            row.value = clock.now().isoformat()

