"""The holiday table in the database: seeded from chinese-calendar, extended by an admin for later years."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from engine.calendar.legal_calendar import (
    DayTable,
    HolidayTableError,
    chinese_calendar_table,
    parse_holiday_csv,
    validate_year_table,
)
from engine.common.dates import as_date
from engine.common.errors import ValidationFailed
from engine.store.models import HolidayDay
from engine.store.runtime import Runtime

SEED_YEARS = range(2020, 2027)


def seed_holidays(runtime: Runtime) -> None:
    """Fill the years chinese-calendar knows, once (admin-entered rows are never overwritten)."""
    with runtime.db.transaction() as s:
        if s.execute(select(HolidayDay).where(HolidayDay.source == "chinese-calendar").limit(1)).first():
            return
        table = chinese_calendar_table(SEED_YEARS)
        known = {d for (d,) in s.execute(select(HolidayDay.day))}
        for day, name in table.holidays.items():
            if day not in known:
                s.add(HolidayDay(day=day, kind="holiday", name=name, source="chinese-calendar"))
        for day, name in table.workdays.items():
            if day not in known:
                s.add(HolidayDay(day=day, kind="workday", name=name, source="chinese-calendar"))


def day_table(session: Session) -> DayTable:
    holidays: dict[date, str] = {}
    workdays: dict[date, str] = {}
    years: set[int] = set()
    for row in session.execute(select(HolidayDay)).scalars():
        (holidays if row.kind == "holiday" else workdays)[row.day] = row.name
        years.add(row.day.year)
    return DayTable(holidays=holidays, workdays=workdays, known_years=frozenset(years))


def year_table(session: Session, year: int) -> dict[str, Any]:
    rows = session.execute(
        select(HolidayDay).where(HolidayDay.day >= date(year, 1, 1), HolidayDay.day <= date(year, 12, 31))
        .order_by(HolidayDay.day)).scalars().all()
    source = rows[0].source if rows else "weekends"
    return {"year": year, "source": source,
            "days": [{"date": r.day.isoformat(), "kind": r.kind, "name": r.name} for r in rows]}


def replace_year(session: Session, year: int, days: list[dict[str, Any]], source: str = "admin") -> None:
    problems = validate_year_table(year, days)
    if problems:
        raise ValidationFailed("节假日表校验未通过", {f"days.{i}": p for i, p in enumerate(problems)})
    session.execute(delete(HolidayDay).where(HolidayDay.day >= date(year, 1, 1),
                                             HolidayDay.day <= date(year, 12, 31)))
    for d in days:
        session.add(HolidayDay(day=as_date(d["date"]), kind=str(d["kind"]),
                               name=str(d.get("name") or ""), source=source))


def import_csv(session: Session, year: int, text: str) -> int:
    """Replace a year's table from a CSV (``date,kind,name``); every bad line is named in the refusal."""
    try:
        holidays, workdays = parse_holiday_csv(text)
    except HolidayTableError as exc:
        raise ValidationFailed("节假日 CSV 有误：" + "；".join(exc.problems),
                               {f"line.{i}": p for i, p in enumerate(exc.problems)}) from exc
    days = [{"date": d.isoformat(), "kind": "holiday", "name": n} for d, n in holidays.items()]
    days += [{"date": d.isoformat(), "kind": "workday", "name": n} for d, n in workdays.items()]
    replace_year(session, year, sorted(days, key=lambda x: x["date"]))
    return len(days)
