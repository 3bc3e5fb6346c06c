"""The holiday calendar as a use case: read a year's table; an administrator replaces it (validated, audited with
the days added and removed)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from engine.calendar.holidays import import_csv, replace_year, year_table
from engine.common import clock
from engine.common.actor import Actor
from engine.common.errors import Forbidden, ValidationFailed
from engine.store import audit
from engine.store.runtime import Runtime

YEARS = range(1949, 2200)


def _check_year(year: int) -> None:
    if year not in YEARS:
        raise ValidationFailed("年份超出范围", {"year": f"应在 {YEARS.start}–{YEARS.stop - 1} 之间"})


def get_year(runtime: Runtime, year: int | None = None) -> dict[str, Any]:
    """One year's holidays and adjusted workdays (any signed-in user: every due date depends on them);
    without a year, the current one."""
    year = clock.today().year if year is None else year
    _check_year(year)
    with runtime.db.transaction() as s:
        return year_table(s, year)


def _normalized(days: Any) -> list[dict[str, Any]]:
    """The submitted days, shape-checked, with dates and names trimmed (what is validated is what is stored)."""
    if not isinstance(days, list) or not all(isinstance(d, dict) for d in days):
        raise ValidationFailed("days 应为对象数组", {"days": "应为 [{date, kind, name}] 数组"})
    if len(days) > 366:
        raise ValidationFailed("条目过多", {"days": "一年最多366项"})
    bad: dict[str, str] = {}
    out = []
    for i, d in enumerate(days):
        name = d.get("name")
        if name is not None and (not isinstance(name, str) or len(name.strip()) > 60):
            bad[f"days.{i}.name"] = "应为不超过60字的文本"
        raw = d.get("date")
        out.append({**d, "date": raw.strip() if isinstance(raw, str) else raw,
                    "name": name.strip() if isinstance(name, str) else name})
    if bad:
        raise ValidationFailed("节假日名称无效", bad)
    return out


def put_year(runtime: Runtime, actor: Actor, year: int, body: dict[str, Any]) -> dict[str, Any]:
    """An administrator replaces a year's table; the body has the shape :func:`year_table` returns."""
    if not actor.has("admin"):
        raise Forbidden("只有系统管理员可以维护节假日表")
    _check_year(year)
    if body.get("year") is not None and body.get("year") != year:
        raise ValidationFailed("请求体中的年份与地址不一致", {"year": f"应为 {year}"})
    days = _normalized(body.get("days"))
    with runtime.db.transaction() as s:
        before = year_table(s, year)
        replace_year(s, year, days, source="admin")
        s.flush()
        after = year_table(s, year)
        _audit(s, actor, before, after)
        return after


def put_year_csv(runtime: Runtime, actor: Actor, year: int, text: str) -> int:
    """Replace a year's table from a CSV (``date,kind,name``), audited like :func:`put_year` (for the command line,
    which has no role to check); returns the number of days."""
    _check_year(year)
    with runtime.db.transaction() as s:
        before = year_table(s, year)
        count = import_csv(s, year, text)
        s.flush()
        _audit(s, actor, before, year_table(s, year))
        return count


def _audit(session: Session, actor: Actor, before: dict[str, Any], after: dict[str, Any]) -> None:
    def key(day: dict[str, Any]) -> tuple[str, str, str]:
        return (str(day["date"]), str(day["kind"]), str(day["name"]))

    old, new = {key(d) for d in before["days"]}, {key(d) for d in after["days"]}
    if old == new and before["source"] == after["source"]:
        return
    as_days = [{"date": d, "kind": k, "name": n} for d, k, n in sorted(new - old)]
    gone = [{"date": d, "kind": k, "name": n} for d, k, n in sorted(old - new)]
    audit.record(session, who=actor.username, event_name="holidays_replaced", case_id=None,
                 title=f"替换 {after['year']} 年节假日表（新增{len(as_days)}项，删除{len(gone)}项）",
                 detail={"year": after["year"], "before": {"source": before["source"], "days": len(old)},
                         "after": {"source": after["source"], "days": len(new)}, "added": as_days, "removed": gone})
