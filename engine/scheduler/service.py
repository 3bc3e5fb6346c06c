"""APScheduler wiring: one ``date`` job per waiting timer, the cycle jobs, reconciliation, and the single-scheduler rule.

The job store is the service's own database (table ``apscheduler_jobs``). Web transactions only write the
``waiting_timers`` table; the scheduler notices changes within a second (it polls the newest ``registered_at``)
and brings its jobs in line. A job wakes exactly its instance (``timers.wake_instance``: load, fire, run, save in
one transaction). Missed jobs run once at the next start (``misfire_grace_time=None``, coalesced), one at a time
in due-time order (a single-thread executor).
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import threading
from datetime import UTC, datetime

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import func, select

from engine.common import clock
from engine.scheduler.locks import SchedulerLock
from engine.services.reminders import scan
from engine.services.timers import wake_instance
from engine.store.models import Setting, WaitingTimer
from engine.store.runtime import Runtime

log = logging.getLogger(__name__)

JOB_PREFIX = "timer:"
_runtime: Runtime | None = None  # APScheduler stores jobs by reference; the functions find the runtime here


def run_timer_job(instance_id: int) -> None:
    if _runtime is not None:
        wake_instance(_runtime, instance_id)


def run_reminders() -> None:
    if _runtime is not None:
        scan(_runtime)


def run_reconcile() -> None:
    if _service is not None:
        _service.reconcile()


_service: SchedulerService | None = None


class SchedulerService:
    """Runs the scheduler while this process holds the lock; otherwise stands by and retries every second."""

    def __init__(self, runtime: Runtime, reminder_seconds: int = 60, reconcile_seconds: int = 30) -> None:
        self.runtime = runtime
        self.lock = SchedulerLock(runtime.db)
        self.reminder_seconds = reminder_seconds
        self.reconcile_seconds = reconcile_seconds
        self.scheduler: BackgroundScheduler | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._seen: tuple[int, datetime | None] = (-1, None)
        self.active = threading.Event()

    # ---- lifecycle --------------------------------------------------------------------------------
    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="eco-claims-scheduler", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._shutdown()
        self.lock.release()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                if self.lock.try_acquire():
                    if self.scheduler is None:
                        self._start_scheduler()
                    self._poll()
                elif self.scheduler is not None:
                    log.warning("scheduler lock lost; standing by")
                    self._shutdown()
            except Exception:  # keep standing by; a database hiccup must not kill the loop
                log.exception("scheduler loop round failed")
            self._stop.wait(1.0)

    def _start_scheduler(self) -> None:
        global _runtime, _service
        _runtime, _service = self.runtime, self
        store = SQLAlchemyJobStore(engine=self.runtime.db.sql_engine, tablename="apscheduler_jobs")
        self.scheduler = BackgroundScheduler(
            jobstores={"default": store}, executors={"default": ThreadPoolExecutor(1)},
            job_defaults={"misfire_grace_time": None, "coalesce": True, "max_instances": 1}, timezone=UTC)
        self.scheduler.start(paused=True)
        self.reconcile()
        self.scheduler.add_job(run_reminders, "interval", seconds=self.reminder_seconds, id="cycle:reminders",
                               replace_existing=True)
        self.scheduler.add_job(run_reconcile, "interval", seconds=self.reconcile_seconds, id="cycle:reconcile",
                               replace_existing=True)
        self.scheduler.resume()
        self._record_holder()
        self.active.set()
        log.info("scheduler started (lock held)")

    def _record_holder(self) -> None:
        """Who runs the scheduler now (for the monitor, and for tests that kill it)."""
        holder = {"pid": os.getpid(), "host": socket.gethostname(), "since": clock.real_now().isoformat()}
        with self.runtime.db.transaction() as s:
            row = s.get(Setting, "scheduler_holder")
            if row is None:
                s.add(Setting(key="scheduler_holder", value=holder))
            else:
                row.value = holder

    def _shutdown(self) -> None:
        if self.scheduler is not None:
            with contextlib.suppress(Exception):  # already stopped
                self.scheduler.shutdown(wait=False)
            self.scheduler = None
        self.active.clear()

    # ---- jobs -------------------------------------------------------------------------------------
    def _poll(self) -> None:
        """Reconcile when the waiting timers changed (count or newest registration) since the last look."""
        with self.runtime.db.transaction() as s:
            seen = s.execute(select(func.count(WaitingTimer.id), func.max(WaitingTimer.registered_at))).one()
        marker = (int(seen[0]), seen[1])
        if marker != self._seen:
            self.reconcile()
            self._seen = marker

    def reconcile(self) -> dict[str, int]:
        """Make the job store match the waiting timers: add missing jobs, move changed ones, drop orphans."""
        scheduler = self.scheduler
        if scheduler is None:
            return {}
        simulated = clock.active().simulated
        with self.runtime.db.transaction() as s:
            rows = s.execute(select(WaitingTimer.id, WaitingTimer.instance_id, WaitingTimer.due_at)).all()
        wanted = {} if simulated else {f"{JOB_PREFIX}{r[0]}": (int(r[1]), r[2]) for r in rows}
        jobs = {job.id: job for job in scheduler.get_jobs() if job.id.startswith(JOB_PREFIX)}
        added = moved = removed = 0
        for job_id, (instance_id, due_at) in wanted.items():
            job = jobs.get(job_id)
            if job is None:
                scheduler.add_job(run_timer_job, "date", run_date=due_at, args=[instance_id], id=job_id,
                                  replace_existing=True)
                added += 1
            elif job.next_run_time is not None and job.next_run_time != due_at:
                job.reschedule("date", run_date=due_at)
                moved += 1
        for job_id in set(jobs) - set(wanted):
            scheduler.remove_job(job_id)
            removed += 1
        return {"added": added, "moved": moved, "removed": removed}

    def status(self) -> str:
        """"ok" while this process runs the scheduler, "standby" while another process holds the lock."""
        return "ok" if self.active.is_set() else "standby"

    def job_ids(self) -> list[str]:
        return sorted(job.id for job in self.scheduler.get_jobs()) if self.scheduler else []
