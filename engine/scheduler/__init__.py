"""Timers and reminders: APScheduler with a job store in the database, run by the one process holding the lock.

The job functions are re-exported here because job stores created before the layered layout reference them as
``engine.scheduler:<function>``.
"""

from engine.scheduler.service import run_reconcile, run_reminders, run_timer_job

__all__ = ["run_reconcile", "run_reminders", "run_timer_job"]
