"""Deadlines that keep themselves: reminders before, overdue flags after, periods across a year boundary, and the
simulated clock refused outside demo/test mode."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from engine.auth.users import get_actor
from engine.calendar import holidays
from engine.common import clock
from engine.common.errors import Forbidden, ValidationFailed
from engine.services import case_ledger, tasks, timers
from engine.services.case_ledger import LedgerFilter
from engine.services.startup import start
from engine.store.models import Notification
from engine.store.runtime import Config, Runtime

from .driver import Case


def notifications(runtime: Runtime, kind: str) -> list[Notification]:
    with runtime.db.transaction() as s:
        return list(s.execute(select(Notification).where(Notification.kind == kind).order_by(Notification.id)).scalars())


def test_reply_deadline_reminder_then_overdue_flag(runtime):
    case = Case(runtime)
    case.start_claim()
    case.investigate()
    case.prepare_and_serve()  # reply due 2026-07-08
    case.advance("P34D")  # 2026-07-05: three days before, outside the two-day window
    assert [n for n in notifications(runtime, "reminder") if "答复期限" in n.text] == []
    case.advance("P1D")  # 2026-07-06
    reminders = [n for n in notifications(runtime, "reminder") if "答复期限" in n.text]
    assert {(n.role, n.department_id) for n in reminders} == {("officer", "eco_env"), ("supervisor", None)}
    assert all(n.case_id == case.id for n in reminders)
    case.advance("P1D")
    assert len([n for n in notifications(runtime, "reminder") if "答复期限" in n.text]) == 2  # warned once
    assert case.view()["overdue"] is False
    ledger = case_ledger.search(runtime, case.officer, LedgerFilter(overdue=True))
    assert ledger["total"] == 0


def test_overdue_flag_on_task_case_and_ledger(runtime):
    case = Case(runtime)
    case.start_claim()
    case.advance("P61D")  # the 60-day investigation period (from 2026-06-01) has passed
    view = case.view()
    assert view["overdue"] is True
    investigation = [d for d in view["deadlines"] if d["name"] == "investigation"][0]
    assert investigation["overdue"] is True
    task = [t for t in view["tasks"] if t["task"] == "conduct_investigation"][0]
    assert task["overdue"] is True
    assert case_ledger.search(runtime, case.officer, LedgerFilter(overdue=True))["total"] == 1
    assert any("已逾期" in n.text and "调查期限" in n.text for n in notifications(runtime, "overdue"))


def test_consultation_period_across_the_year_boundary_with_an_admin_entered_2027_table(runtime):
    case = Case(runtime)
    case.start_claim()
    case.investigate()
    case.advance("P170D")  # 2026-11-18
    case.prepare_and_serve(served_on="2026-11-18")
    deadline = [d for d in case.view()["deadlines"] if d["name"] == "consultation"][0]
    # 2026-11-18 + 90 days = 2027-02-16, a Tuesday; nobody has entered 2027 yet: provisional
    assert deadline["due_on"] == "2027-02-16" and deadline["provisional"] is True
    assert "暂定" in deadline["basis"]
    with runtime.db.transaction() as s:
        holidays.import_csv(s, 2027, "date,kind,name\n" + "\n".join(
            f"2027-02-{d:02d},holiday,春节" for d in range(10, 18)) + "\n2027-02-20,workday,春节\n")
    case2 = Case(runtime)
    case2.start_claim()
    case2.investigate()
    case2.prepare_and_serve(served_on="2026-11-18")
    deadline = [d for d in case2.view()["deadlines"] if d["name"] == "consultation"][0]
    assert deadline["due_on"] == "2027-02-18" and deadline["provisional"] is False  # rolled past the holiday
    assert "春节" in deadline["basis"]


def test_bad_holiday_csv_is_refused_with_the_line_named(runtime):
    with runtime.db.transaction() as s, pytest.raises(ValidationFailed) as refused:
        holidays.import_csv(s, 2027, "2027-02-30,holiday,春节\n")
    assert "第 1 行" in refused.value.message


def test_simulated_clock_is_refused_outside_demo_mode(db_url):
    eng = Runtime(Config(database_url=db_url, demo=False))
    start(eng)
    try:
        from engine.auth.users import create_user, ensure_departments

        with eng.db.transaction() as s:
            ensure_departments(s)
        admin = create_user(eng, "admin1", None, ["admin"], None)
        with pytest.raises(Forbidden):
            timers.advance_clock(eng, admin, by="P1D")
        assert clock.active().simulated is False
    finally:
        eng.close()


def test_clock_only_moves_forward_and_only_for_admins(runtime):
    with pytest.raises(Forbidden):
        timers.advance_clock(runtime, get_actor(runtime, "officer1"), by="P1D")
    with pytest.raises(ValidationFailed):
        timers.advance_clock(runtime, get_actor(runtime, "admin1"), to="2020-01-01T00:00:00+08:00")
    with pytest.raises(ValidationFailed) as bad:
        timers.advance_clock(runtime, get_actor(runtime, "admin1"), by="soon")
    assert "advance" in bad.value.fields
    before = clock.now()
    timers.advance_clock(runtime, get_actor(runtime, "admin1"), by="PT2H")
    assert (clock.now() - before).total_seconds() == 7200


def test_tasks_do_not_move_without_the_clock(runtime):
    case = Case(runtime)
    assert tasks.inbox(runtime, case.officer, "group")["items"][0]["overdue"] is False


def test_a_production_database_never_gets_a_simulated_clock(db_url):
    real = Runtime(Config(database_url=db_url, demo=False))
    start(real)
    real.close()
    demo = Runtime(Config(database_url=db_url, demo=True))
    with pytest.raises(Forbidden) as refused:
        start(demo)
    assert "正式数据库" in refused.value.message
    demo.close()
    clock.use(clock.Clock())


def test_lead_not_decided_in_30_days_escalates_to_the_supervisor(runtime):
    case = Case(runtime)
    case.advance("P31D")
    assert {"screen_lead", "urge_claim_start"} <= set(case.open_tasks())  # the lead stays open
    escalations = notifications(runtime, "escalation")
    assert [(n.role, n.case_id) for n in escalations] == [("supervisor", case.id)]
    assert "督促启动索赔" in escalations[0].text
