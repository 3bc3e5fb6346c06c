"""Periodic lead screening (§2): one running ``lead_screening`` instance per department."""

from __future__ import annotations

from sqlalchemy import select

from .instances import start_instance
from .models import Department, ProcessInstance
from .runtime import SYSTEM, Engine


def ensure_screening(engine: Engine) -> int:
    """Start the screening cycle for every department that has none running; returns how many were started."""
    started = 0
    with engine.db.transaction() as s:
        running = {d for (d,) in s.execute(select(ProcessInstance.department_id).where(
            ProcessInstance.process_id == "lead_screening", ProcessInstance.status != "completed"))}
        for dept in s.execute(select(Department).order_by(Department.id)).scalars():
            if dept.id not in running:
                start_instance(engine, s, "lead_screening", SYSTEM, {"department": dept.id}, department=dept.id)
                started += 1
    return started
