"""Strict ISO calendar dates (``YYYY-MM-DD``), shared by the calendar and form validation."""

from __future__ import annotations

import re
from datetime import date

_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")  # ASCII digits only: \d would accept full-width ones


def parse_iso_date(text: str) -> date | None:
    """The date ``text`` names, or None when it is not exactly ``YYYY-MM-DD`` (no spaces) or not a real day."""
    if not _ISO_DATE.fullmatch(text):
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None
