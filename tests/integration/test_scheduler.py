"""APScheduler on the real clock: timers fire from the persistent job store, missed ones once at restart, jobs
reconciled with the waiting timers, and only one scheduler process fires (PostgreSQL advisory lock, takeover)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from engine.common import clock
from engine.common.actor import SYSTEM
from engine.process.deploy import deploy_xml
from engine.process.instances import start_instance
from engine.scheduler.service import JOB_PREFIX, SchedulerService
from engine.services.startup import start
from engine.store.models import AuditEvent, HumanTask, ProcessInstance, Setting, WaitingTimer
from engine.store.runtime import Config, Runtime

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "short_timer.bpmn"


@pytest.fixture
def real_engine(db_url: str) -> Iterator[Runtime]:
    eng = Runtime(Config(database_url=db_url, demo=False))
    start(eng)
    with eng.db.transaction() as s:
        deploy_xml(s, FIXTURE.read_text(encoding="utf-8"), "test")
    yield eng
    eng.close()
    clock.use(clock.Clock())


def start_timer(runtime: Runtime, seconds: float) -> tuple[int, datetime]:
    due = datetime.now(UTC) + timedelta(seconds=seconds)
    with runtime.db.transaction() as s:
        run = start_instance(runtime, s, "test_short_timer", SYSTEM, {"due_at": due.isoformat()})
        return run.instance.id, due


def fired(runtime: Runtime, instance_id: int) -> tuple[int, int]:
    """(tasks created after the timer, timer audit events) for the instance."""
    with runtime.db.transaction() as s:
        tasks = s.execute(select(func.count()).select_from(HumanTask).where(HumanTask.instance_id == instance_id)).scalar_one()
        events = s.execute(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.event == "timer", AuditEvent.detail["due_at"].isnot(None),
            AuditEvent.task == "short_wait")).scalar_one()
        return int(tasks), int(events)


def wait_for(predicate, seconds: float = 15.0) -> bool:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def test_timer_fires_from_the_job_store(real_engine):
    service = SchedulerService(real_engine)
    service.start()
    try:
        assert wait_for(service.active.is_set)
        instance_id, due = start_timer(real_engine, 2)
        assert wait_for(lambda: fired(real_engine, instance_id)[0] == 1)
        assert datetime.now(UTC) >= due
        time.sleep(1.5)
        assert fired(real_engine, instance_id) == (1, 1)  # once
    finally:
        service.stop()


def test_timers_due_while_the_service_was_down_fire_once_at_start_in_due_order(real_engine):
    first = SchedulerService(real_engine)
    first.start()
    assert wait_for(first.active.is_set)
    later, _ = start_timer(real_engine, 2.5)
    earlier, _ = start_timer(real_engine, 1.5)
    assert wait_for(lambda: len([j for j in first.job_ids() if j.startswith(JOB_PREFIX)]) == 2)
    first.stop()
    time.sleep(3.5)  # both due times pass while no scheduler runs
    assert fired(real_engine, earlier)[0] == fired(real_engine, later)[0] == 0
    second = SchedulerService(real_engine)
    second.start()
    try:
        assert wait_for(lambda: fired(real_engine, earlier)[0] == 1 and fired(real_engine, later)[0] == 1)
        time.sleep(1.5)
        with real_engine.db.transaction() as s:
            order = [i for (i,) in s.execute(select(HumanTask.instance_id).order_by(HumanTask.created_at, HumanTask.id))]
            events = s.execute(select(func.count()).select_from(AuditEvent).where(AuditEvent.event == "timer")).scalar_one()
        assert order == [earlier, later]
        assert events == 2  # each once
    finally:
        second.stop()


def test_a_timer_cancelled_by_completing_its_task_loses_its_job(real_engine):
    from engine.auth.users import create_user, ensure_departments
    from engine.services import cases, tasks

    from .driver import LEAD

    with real_engine.db.transaction() as s:
        ensure_departments(s)
    officer = create_user(real_engine, "officer1", None, ["officer"], "eco_env", "王经办")
    service = SchedulerService(real_engine)
    service.start()
    try:
        assert wait_for(service.active.is_set)
        case = cases.register_lead(real_engine, officer, dict(LEAD, found_on=clock.today().isoformat()))
        with real_engine.db.transaction() as s:
            timer_id = s.execute(select(WaitingTimer.id).where(WaitingTimer.case_id == case["id"])).scalar_one()
        job_id = f"{JOB_PREFIX}{timer_id}"
        assert wait_for(lambda: job_id in service.job_ids())  # the 30-day lead-decision timer
        tasks.complete(real_engine, officer, case["tasks"][0]["id"],
                       {"screening_result": "no_claim", "screening_reason": "不属于生态环境损害"})
        assert wait_for(lambda: job_id not in service.job_ids(), 5)
    finally:
        service.stop()


def test_reconciliation_recreates_a_deleted_job_and_drops_an_orphan(real_engine):
    service = SchedulerService(real_engine, reconcile_seconds=3600)
    service.start()
    try:
        assert wait_for(service.active.is_set)
        instance_id, _ = start_timer(real_engine, 3600)
        with real_engine.db.transaction() as s:
            timer_id = s.execute(select(WaitingTimer.id).where(WaitingTimer.instance_id == instance_id)).scalar_one()
        job_id = f"{JOB_PREFIX}{timer_id}"
        assert wait_for(lambda: job_id in service.job_ids())
        with real_engine.db.sql_engine.begin() as conn:  # by hand, behind the scheduler's back
            conn.execute(text("DELETE FROM apscheduler_jobs WHERE id = :id"), {"id": job_id})
        assert job_id not in service.job_ids()
        assert service.scheduler is not None
        service.scheduler.add_job(print, "date", run_date=datetime.now(UTC) + timedelta(days=1), id=f"{JOB_PREFIX}orphan")
        result = service.reconcile()
        assert result["added"] >= 1 and result["removed"] >= 1
        assert job_id in service.job_ids() and f"{JOB_PREFIX}orphan" not in service.job_ids()
    finally:
        service.stop()


def _scheduler_process(url: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "cli", "--database", url, "scheduler"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=Path(__file__).resolve().parents[2])


def _holder(runtime: Runtime) -> int | None:
    with runtime.db.transaction() as s:
        row = s.get(Setting, "scheduler_holder")
        return int(row.value["pid"]) if row is not None else None


def test_two_scheduler_processes_one_fires_and_the_other_takes_over(real_engine, db_url):
    if real_engine.db.is_sqlite:
        pytest.skip("the advisory-lock takeover is a PostgreSQL deployment property")
    procs = [_scheduler_process(db_url), _scheduler_process(db_url)]
    try:
        assert wait_for(lambda: _holder(real_engine) in {p.pid for p in procs}, 30)
        instance_id, _ = start_timer(real_engine, 2)
        assert wait_for(lambda: fired(real_engine, instance_id)[0] == 1)
        time.sleep(2)
        assert fired(real_engine, instance_id) == (1, 1)
        holder = _holder(real_engine)
        os.kill(int(holder or 0), signal.SIGKILL)
        killed_at = time.monotonic()
        other = next(p for p in procs if p.pid != holder)
        assert wait_for(lambda: _holder(real_engine) == other.pid, 30)
        takeover = time.monotonic() - killed_at
        instance_id, _ = start_timer(real_engine, 2)
        assert wait_for(lambda: fired(real_engine, instance_id)[0] == 1)
        print(f"takeover after SIGKILL: {takeover:.1f} s")
        with real_engine.db.transaction() as s:
            assert s.execute(select(ProcessInstance.status).where(ProcessInstance.id == instance_id)).scalar_one() == "running"
    finally:
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                p.kill()
