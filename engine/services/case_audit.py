"""A case's audit trail for its readers: the rows with their hash chain, and a CSV export of them."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from sqlalchemy import select

from engine.auth import access
from engine.common.actor import Actor
from engine.store.models import AuditEvent
from engine.store.runtime import Runtime

CSV_COLUMNS = ("id", "at", "who", "event", "task", "title", "detail", "prev_hash", "hash")
CSV_HEADER = ("序号", "时间", "操作人", "事件", "环节", "摘要", "详情", "前一记录哈希", "本记录哈希")


def _view(r: AuditEvent) -> dict[str, Any]:
    return {"id": r.id, "at": r.at.isoformat(), "who": r.who, "event": r.event, "task": r.task, "title": r.title,
            "detail": r.detail, "prev_hash": r.prev_hash, "hash": r.hash}


def case_audit(runtime: Runtime, actor: Actor, case_id: int) -> dict[str, Any]:
    with runtime.db.transaction() as s:
        case = access.case_for(s, actor, case_id)
        rows = s.execute(select(AuditEvent).where(AuditEvent.case_id == case.id).order_by(AuditEvent.id)).scalars()
        return {"case_id": case.id, "number": case.number, "items": [_view(r) for r in rows]}


def _cell(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    # A cell starting with = + - @ would run as a formula in a spreadsheet (CSV injection).
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def case_audit_csv(runtime: Runtime, actor: Actor, case_id: int) -> tuple[str, str]:
    """(CSV text with a BOM so spreadsheets read it as UTF-8, file name)."""
    data = case_audit(runtime, actor, case_id)
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out)
    writer.writerow(CSV_HEADER)
    for item in data["items"]:
        writer.writerow([_cell(item[c]) if item[c] is not None else "" for c in CSV_COLUMNS])
    name = f"审计记录-{data['number'] or '线索' + str(data['case_id'])}.csv"
    return out.getvalue(), name
