"""The one date parser: strict ISO calendar dates (``YYYY-MM-DD``) for what people type, and the dates stored in
process data and rows (a ``date``, a ``datetime`` or an ISO text) for everything else."""

from __future__ import annotations

import re
from datetime import date, datetime

from engine.common.clock import LOCAL_TZ

_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")  # ASCII digits only: \d would accept full-width ones


def parse_iso_date(text: str) -> date | None:
    """The date ``text`` names, or None when it is not exactly ``YYYY-MM-DD`` (no spaces) or not a real day."""
    if not _ISO_DATE.fullmatch(text):
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def as_date(value: object) -> date:
    """A stored date as a ``date``: a date; a datetime (its local day in China); an ISO text, of which the first
    ten characters are the day (``2026-07-01`` or ``2026-07-01T09:00:00+08:00``). ValueError otherwise."""
    if isinstance(value, datetime):
        return value.astimezone(LOCAL_TZ).date() if value.tzinfo else value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        day = parse_iso_date(value.strip()[:10])
        if day is not None:
            return day
    raise ValueError(f"无法识别的日期：{value!r}（应为 YYYY-MM-DD）")
