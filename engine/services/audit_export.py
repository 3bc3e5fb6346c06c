"""Exporting audit rows: the whole chain for administrators and supervisors (JSON pages, or one CSV streamed in
batches), filtered by time, event and case; and the one CSV format, which the per-case trail
(``engine/services/case_audit.py``) writes too.

A CSV cell that a spreadsheet would run as a formula (``=``, ``+``, ``-``, ``@``, tab, carriage return first) is
written with a leading apostrophe. The file starts with a BOM so that spreadsheets read it as UTF-8.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

from sqlalchemy import Select, func, select

from engine.common import clock
from engine.common.actor import Actor
from engine.common.dates import as_date
from engine.common.errors import BadRequest, Forbidden
from engine.store.models import AuditEvent
from engine.store.runtime import Runtime

COLUMNS: tuple[tuple[str, str], ...] = (
    ("id", "序号"), ("at", "时间"), ("who", "操作人"), ("event", "事件"), ("case_id", "案件ID"), ("task", "环节"),
    ("title", "摘要"), ("detail", "详情"), ("prev_hash", "前一记录哈希"), ("hash", "本记录哈希"),
    ("mac", "密钥校验码"))
READERS = ("admin", "supervisor")
PAGE_DEFAULT, PAGE_MAX = 100, 1000
BATCH = 500
_EVENT = re.compile(r"[a-z_]{1,30}")
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
# "+08:00" in a query string arrives as " 08:00" when the caller did not encode the plus sign.
_SPACED_OFFSET = re.compile(r"(.*\d:\d\d(?::\d\d(?:\.\d+)?)?) (\d\d:?\d\d)")


def view(row: AuditEvent) -> dict[str, Any]:
    return {"id": row.id, "at": row.at.isoformat(), "who": row.who, "event": row.event, "case_id": row.case_id,
            "task": row.task, "title": row.title, "detail": row.detail, "prev_hash": row.prev_hash,
            "hash": row.hash, "mac": row.mac}


def cell(value: Any) -> str:
    if value is None:
        return ""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    # A cell starting with = + - @ would run as a formula in a spreadsheet (CSV injection).
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def csv_chunks(batches: Iterable[list[dict[str, Any]]]) -> Iterator[str]:
    """The CSV text of the audit rows (as :func:`view` gives them), a piece per batch: BOM and header first."""
    out = io.StringIO()
    writer = csv.writer(out)
    out.write("\ufeff")
    writer.writerow([header for _, header in COLUMNS])
    for batch in batches:
        for item in batch:
            writer.writerow([cell(item.get(key)) for key, _ in COLUMNS])
        yield out.getvalue()
        out.seek(0)
        out.truncate()
    if out.tell():
        yield out.getvalue()


@dataclass(frozen=True)
class Filters:
    since: datetime | None = None  # inclusive
    until: datetime | None = None  # inclusive
    events: tuple[str, ...] = ()
    case_id: int | None = None

    def apply(self, query: Select[AuditEvent]) -> Select[AuditEvent]:
        if self.since is not None:
            query = query.where(AuditEvent.at >= self.since)
        if self.until is not None:
            query = query.where(AuditEvent.at <= self.until)
        if self.events:
            query = query.where(AuditEvent.event.in_(self.events))
        if self.case_id is not None:
            query = query.where(AuditEvent.case_id == self.case_id)
        return query


def _time(name: str, value: str | None, end: bool) -> datetime | None:
    """A date (the whole day in China time) or a date-time with its offset."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    problem = {name: "应为日期（YYYY-MM-DD）或带时区的时间（如 2026-06-01T09:00:00+08:00）"}
    if len(text) > 40:
        raise BadRequest(f"参数 {name} 格式不正确", problem)
    try:
        if _DAY.fullmatch(text):
            start = datetime.combine(as_date(text), time(), clock.LOCAL_TZ)
            return start + timedelta(days=1, microseconds=-1) if end else start
        spaced = _SPACED_OFFSET.fullmatch(text)
        when = datetime.fromisoformat(f"{spaced[1]}+{spaced[2]}" if spaced else text)
    except ValueError as exc:
        raise BadRequest(f"参数 {name} 格式不正确", problem) from exc
    if when.tzinfo is None:
        raise BadRequest(f"参数 {name} 须带时区", {name: "缺少时区，例如 +08:00"})
    return when


def filters(*, since: str | None = None, until: str | None = None, event: str | None = None,
            case_id: int | None = None) -> Filters:
    """The export's filters from the caller's text (400 naming the parameter when one is malformed)."""
    start, end = _time("from", since, end=False), _time("to", until, end=True)
    if start is not None and end is not None and start > end:
        raise BadRequest("起始时间晚于截止时间", {"from": "应不晚于 to"})
    events = tuple(dict.fromkeys(e.strip() for e in (event or "").split(",") if e.strip()))
    bad = [e for e in events if not _EVENT.fullmatch(e)]
    if bad or len(events) > 50:
        raise BadRequest("参数 event 无效", {"event": "事件名（小写字母和下划线），多个以逗号分隔"})
    return Filters(start, end, events, case_id)


def _require_reader(actor: Actor) -> None:
    if not any(actor.has(role) for role in READERS):
        raise Forbidden("只有系统管理员和督办人员可以导出整条审计链")


def export_page(runtime: Runtime, actor: Actor, where: Filters, after: int = 0,
                limit: int = PAGE_DEFAULT) -> dict[str, Any]:
    """One page of the rows that match, oldest first, after the row id ``after``; ``next`` is the ``after`` of
    the next page (None on the last one)."""
    _require_reader(actor)
    limit = max(1, min(limit, PAGE_MAX))
    with runtime.db.transaction() as s:
        rows = s.execute(where.apply(select(AuditEvent)).where(AuditEvent.id > after).order_by(AuditEvent.id)
                         .limit(limit + 1)).scalars().all()
        items = [view(r) for r in rows[:limit]]
    return {"items": items, "next": items[-1]["id"] if len(rows) > limit else None}


def export_csv(runtime: Runtime, actor: Actor, where: Filters, after: int = 0) -> tuple[Iterator[str], str]:
    """(CSV text in pieces, file name) of every row that matches, up to the newest row at the time of the call.

    Each batch is read in its own short transaction, so a long download holds no lock."""
    _require_reader(actor)
    with runtime.db.transaction() as s:
        newest = int(s.execute(select(func.coalesce(func.max(AuditEvent.id), 0))).scalar_one())

    def batches() -> Iterator[list[dict[str, Any]]]:
        last = after
        while True:
            with runtime.db.transaction() as s:
                rows = s.execute(where.apply(select(AuditEvent)).where(AuditEvent.id > last, AuditEvent.id <= newest)
                                 .order_by(AuditEvent.id).limit(BATCH)).scalars().all()
                items = [view(r) for r in rows]
            if not items:
                return
            yield items
            if len(items) < BATCH:
                return
            last = items[-1]["id"]

    return csv_chunks(batches()), f"审计记录-{clock.today().isoformat()}.csv"
