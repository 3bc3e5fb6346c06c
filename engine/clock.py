"""The one source of "now": the real clock in production, a simulated one in demo and test mode.

SpiffWorkflow computes timer due times with ``datetime.now(timezone.utc)`` inside its timer module; there is
no injection point, so :func:`install` replaces that module's ``datetime`` name with a subclass whose
``now()`` asks the active clock. Everything else in the engine calls :func:`now` directly.
"""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo

LOCAL_TZ = ZoneInfo("Asia/Shanghai")


class Clock:
    """The real clock."""

    simulated = False

    def now(self) -> datetime:
        return datetime.now(UTC)


class SimulatedClock(Clock):
    """A clock that stands still until moved forward (never back); the time is persisted by its owner."""

    simulated = True

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("simulated clock needs a tz-aware start")
        self._now = start.astimezone(UTC)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def set(self, when: datetime) -> datetime:
        with self._lock:
            when = when.astimezone(UTC)
            if when < self._now:
                raise ValueError("模拟时钟只能向前拨动")
            self._now = when
            return self._now


_active: Clock = Clock()


def active() -> Clock:
    return _active


def use(clock: Clock) -> None:
    """Make ``clock`` the engine's clock (the service calls this once at start; tests per test)."""
    global _active
    _active = clock


def now() -> datetime:
    return _active.now()


def real_now() -> datetime:
    """Wall-clock time, whatever clock is active (for bookkeeping that must not follow a simulated clock)."""
    return datetime.now(UTC)


def today() -> date:
    return _active.now().astimezone(LOCAL_TZ).date()


class _ClockDatetime(datetime):
    """``datetime`` whose ``now`` follows the active clock (only SpiffWorkflow's timer module sees it)."""

    @classmethod
    def now(cls, tz: tzinfo | None = None) -> _ClockDatetime:
        moment = _active.now()
        value = moment.astimezone(tz) if tz is not None else moment.astimezone(LOCAL_TZ).replace(tzinfo=None)
        return cls.fromtimestamp(value.timestamp(), value.tzinfo) if tz is not None else cls(
            value.year, value.month, value.day, value.hour, value.minute, value.second, value.microsecond)


def install() -> None:
    """Route SpiffWorkflow's timer arithmetic through the active clock."""
    from SpiffWorkflow.bpmn.specs.event_definitions import timer

    timer.datetime = _ClockDatetime


def parse_duration(text: str) -> timedelta:
    """An ISO 8601 duration of days/hours/minutes (``P91D``, ``PT2H``) as a timedelta."""
    from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition

    try:
        parts = TimerEventDefinition.parse_iso_duration(str(text))
    except Exception as exc:  # the library raises a bare Exception for malformed text
        raise ValueError(f"不是 ISO 8601 时长：{text!r}") from exc
    if parts.get("years") or parts.get("months"):
        raise ValueError("时长不能以年或月表示，请用天数，例如 P91D")
    return timedelta(
        weeks=parts.get("weeks", 0), days=parts.get("days", 0), hours=parts.get("hours", 0),
        minutes=parts.get("minutes", 0), seconds=parts.get("seconds", 0))
