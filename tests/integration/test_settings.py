"""Administrator settings: validated, and used (the case-number format, the reminder windows)."""

from __future__ import annotations

import pytest

from engine.common.errors import ValidationFailed
from engine.services.reminders import reminder_days
from engine.services.settings import put_setting

from .driver import Case


def test_case_number_format_setting(runtime):
    with pytest.raises(ValidationFailed) as refused:
        put_setting(runtime, "case_number_format", "{prefix}〔{year}〕")
    assert "case_number_format" in refused.value.fields
    with pytest.raises(ValidationFailed):
        put_setting(runtime, "case_number_format", "{prefix}{nope}{seq}")
    put_setting(runtime, "case_number_format", "{prefix}〔{year}〕第{seq:03d}号")
    case = Case(runtime)
    case.start_claim()
    assert case.view()["number"] == "环赔〔2026〕第001号"


def test_reminder_days_setting(runtime):
    with pytest.raises(ValidationFailed):
        put_setting(runtime, "reminder_days", {"consultation": -1})
    put_setting(runtime, "reminder_days", {"consultation": 10})
    with runtime.db.transaction() as s:
        assert reminder_days(s)["consultation"] == 10
        assert reminder_days(s)["obligor_reply"] == 2
