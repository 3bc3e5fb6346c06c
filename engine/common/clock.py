"""The one source of "now": the real clock in production, a simulated one in demo and test mode.

Everything in the engine calls :func:`now`; SpiffWorkflow's timer module is routed here by
``engine/process/spiff_clock.py``.
"""

from __future__ import annotations

import re
import threading
from datetime import UTC, date, datetime, timedelta
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


_DURATION = re.compile(r"P(?:(?P<weeks>\d+)W)?(?:(?P<days>\d+)D)?(?:T(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+)S)?)?")


def parse_duration(text: str) -> timedelta:
    """An ISO 8601 duration of weeks/days/hours/minutes/seconds (``P91D``, ``PT2H``) as a timedelta.

    Years and months are refused: their length depends on where they start, and the procedure counts days."""
    text = str(text).strip()
    if re.match(r"P\d+[YM]", text):
        raise ValueError("时长不能以年或月表示，请用天数，例如 P91D")
    match = _DURATION.fullmatch(text)
    if match is None or text in ("P", "PT") or text.endswith("T"):
        raise ValueError(f"不是 ISO 8601 时长：{text!r}")
    parts = {k: int(v) for k, v in match.groupdict().items() if v}
    return timedelta(**parts)
