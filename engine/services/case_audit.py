"""A case's audit trail for its readers: the rows with their hash chain, and a CSV export of them (the same CSV
as the export of the whole chain, ``engine/services/audit_export.py``)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from engine.auth import access
from engine.common.actor import Actor
from engine.services.audit_export import csv_chunks, view
from engine.store.models import AuditEvent
from engine.store.runtime import Runtime


def case_audit(runtime: Runtime, actor: Actor, case_id: int) -> dict[str, Any]:
    with runtime.db.transaction() as s:
        case = access.case_for(s, actor, case_id)
        rows = s.execute(select(AuditEvent).where(AuditEvent.case_id == case.id).order_by(AuditEvent.id)).scalars()
        return {"case_id": case.id, "number": case.number, "items": [view(r) for r in rows]}


def case_audit_csv(runtime: Runtime, actor: Actor, case_id: int) -> tuple[str, str]:
    """(CSV text with a BOM so spreadsheets read it as UTF-8, file name)."""
    data = case_audit(runtime, actor, case_id)
    name = f"审计记录-{data['number'] or '线索' + str(data['case_id'])}.csv"
    return "".join(csv_chunks([data["items"]])), name
