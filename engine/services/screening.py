"""Periodic lead screening (§2): one running ``lead_screening`` instance per department."""

from __future__ import annotations

from sqlalchemy import select

from engine.common.actor import SYSTEM
from engine.process.instances import start_instance
from engine.store.models import Department, ProcessInstance
from engine.store.runtime import Runtime


def ensure_screening(runtime: Runtime) -> int:
    """Start the screening cycle for every department that has none running; returns how many were started."""
    started = 0
    with runtime.db.transaction() as s:
        running = {d for (d,) in s.execute(select(ProcessInstance.department_id).where(
            ProcessInstance.process_id == "lead_screening", ProcessInstance.status != "completed"))}
        for dept in s.execute(select(Department).order_by(Department.id)).scalars():
            if dept.id not in running:
                start_instance(runtime, s, "lead_screening", SYSTEM, {"department": dept.id}, department=dept.id)
                started += 1
    return started
