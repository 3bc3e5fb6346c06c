"""Route SpiffWorkflow's timer arithmetic through the engine's active clock (real or simulated).

SpiffWorkflow computes timer due times with ``datetime.now(timezone.utc)`` inside its timer module; there is
no injection point, so :func:`install` replaces that module's ``datetime`` name with a subclass whose
``now()`` asks the active clock. The adapter (``workflow.py``) installs it when it is imported.
"""

from __future__ import annotations

from datetime import datetime, tzinfo

from SpiffWorkflow.bpmn.specs.event_definitions import timer

from engine.common import clock


class _ClockDatetime(datetime):
    """``datetime`` whose ``now`` follows the active clock (only SpiffWorkflow's timer module sees it)."""

    @classmethod
    def now(cls, tz: tzinfo | None = None) -> _ClockDatetime:
        moment = clock.now()
        value = moment.astimezone(tz) if tz is not None else moment.astimezone(clock.LOCAL_TZ).replace(tzinfo=None)
        return cls.fromtimestamp(value.timestamp(), value.tzinfo) if tz is not None else cls(
            value.year, value.month, value.day, value.hour, value.minute, value.second, value.microsecond)


def install() -> None:
    timer.datetime = _ClockDatetime
