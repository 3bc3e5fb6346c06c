"""The names people read for ids the case data holds: departments (id → short name)."""

from __future__ import annotations

from sqlalchemy import select

from engine.store.models import Department
from engine.store.runtime import Runtime


def department_names(runtime: Runtime) -> dict[str, str]:
    with runtime.db.transaction() as s:
        return {d.id: d.name for d in s.execute(select(Department).order_by(Department.id)).scalars()}
