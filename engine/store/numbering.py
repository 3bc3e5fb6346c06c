"""Case numbers (编号): unique and sequential per year and department, in a configurable format."""

from __future__ import annotations

from sqlalchemy.orm import Session

from engine.store.models import CaseNumberCounter, Department


def next_case_number(session: Session, department_id: str, year: int, fmt: str) -> str:
    """Take the next number; the counter row is locked for the rest of the transaction (FOR UPDATE)."""
    counter = session.get(CaseNumberCounter, (year, department_id), with_for_update=True)
    if counter is None:
        counter = CaseNumberCounter(year=year, department_id=department_id, last=0)
        session.add(counter)
    counter.last += 1
    session.flush()
    dept = session.get(Department, department_id)
    prefix = (dept.number_prefix if dept and dept.number_prefix else (dept.name if dept else department_id))
    try:
        return fmt.format(prefix=prefix, year=year, seq=counter.last, department=department_id)
    except (KeyError, IndexError, ValueError) as exc:
        raise ValueError(f"案件编号格式“{fmt}”无效（{exc}）：可用 {{prefix}} {{year}} {{seq}} {{department}}") from exc
