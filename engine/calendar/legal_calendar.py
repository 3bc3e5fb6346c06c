"""Legal period arithmetic per 民事诉讼法 第八十五条 (期间的计算).

The rules applied here:

* 期间开始的时和日，不计算在期间内 — the day of the triggering event (service of the notice, acceptance of
  the case, ...) is not counted: a 90-day period started on 2026-07-03 has 2026-07-04 as its day 1.
* 期间届满的最后一日是法定休假日的，以法定休假日后的第一日为期间届满的日期 — when the last day is a statutory
  holiday or an ordinary rest day (Saturday/Sunday, per the courts' practice), the period ends on the next
  working day.  Holidays *inside* a period are not deducted.
* A period counted in working days (工作日, e.g. an internal "promptly" of 5 working days) counts only working
  days; adjusted working weekend days (调休上班) count as working days.

Which day is a working day is decided by a :class:`DayTable`: statutory holidays and adjusted working days
by date, plus the set of years the table knows.  For a year the table does not know, Monday–Friday are
working days and Saturday/Sunday rest days, and every due date that depended on such a day is marked
*provisional* (暂定) — the State Council publishes the next year's arrangement around November–December, and
an administrator enters it (see :func:`parse_holiday_csv` and :func:`validate_year_table`).  A typical
table::

    table = merge_tables(chinese_calendar_table(range(2004, 2028)),
                         DayTable(holidays_2027, workdays_2027, frozenset({2027})))

The end of a period: :func:`due_at` is the last moment inside the period (23:59:59 local time on the due
day); :func:`expires_at` is the first moment after it (00:00 of the following day, Asia/Shanghai).  A
period is overdue exactly when ``now >= expires_at(due)`` (:func:`is_overdue`); timers fire at
:func:`expires_at`.

Everything here is pure: no database, no clock (callers pass dates), no Flask.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from types import MappingProxyType
from typing import Any, Literal
from zoneinfo import ZoneInfo

import chinese_calendar

from engine.common.dates import parse_iso_date

__all__ = [
    "CHINA_TZ",
    "DayTable",
    "DueDate",
    "HolidayTableError",
    "chinese_calendar_table",
    "compute_due",
    "due_at",
    "expires_at",
    "is_overdue",
    "merge_tables",
    "parse_holiday_csv",
    "validate_year_table",
]

CHINA_TZ = ZoneInfo("Asia/Shanghai")

Unit = Literal["calendar", "working"]

_WEEKDAY_NAMES = ("星期一", "星期二", "星期三", "星期四", "星期五", "星期六", "星期日")

#: chinese_calendar's English holiday names → the names used in Chinese documents.
_HOLIDAY_NAMES_ZH: Mapping[str, str] = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "National Day": "国庆节",
    "Mid-autumn Festival": "中秋节",
    "Anti-Fascist 70th Day": "中国人民抗日战争暨世界反法西斯战争胜利70周年纪念日",
}

#: A safety bound: no real holiday arrangement has more than a few consecutive rest days.
_MAX_ROLL_DAYS = 366



class HolidayTableError(ValueError):
    """A holiday table (CSV or admin entry) is malformed.  ``problems`` lists each problem in Chinese."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        super().__init__("；".join(self.problems))


def _freeze(mapping: Mapping[date, str]) -> Mapping[date, str]:
    return MappingProxyType(dict(mapping))


@dataclass(frozen=True)
class DayTable:
    """Statutory holidays and adjusted working days, by date, for the years in ``known_years``.

    ``holidays`` maps each statutory holiday date (including the weekend days inside a holiday block) to
    the holiday's name (e.g. ``"国庆节"``); ``workdays`` maps each adjusted working weekend day (调休上班) to
    the name of the holiday it belongs to.  Ordinary weekends are not listed.  The mappings are copied and
    frozen on construction.
    """

    holidays: Mapping[date, str] = field(default_factory=dict)
    workdays: Mapping[date, str] = field(default_factory=dict)
    known_years: frozenset[int] = frozenset()

    def __post_init__(self) -> None:
        object.__setattr__(self, "holidays", _freeze(self.holidays))
        object.__setattr__(self, "workdays", _freeze(self.workdays))
        object.__setattr__(self, "known_years", frozenset(self.known_years))

    def is_known(self, d: date) -> bool:
        """Whether the holiday arrangement of ``d``'s year is in the table."""
        return d.year in self.known_years

    def is_working_day(self, d: date) -> bool:
        """An adjusted working day, or a Monday–Friday that is not a statutory holiday."""
        if d in self.workdays:
            return True
        if d in self.holidays:
            return False
        return d.weekday() < 5

    def rest_reason(self, d: date) -> str | None:
        """Why ``d`` is not a working day (``"法定节假日（国庆节）"``, ``"休息日（星期六）"``), or None."""
        if self.is_working_day(d):
            return None
        if d in self.holidays:
            name = self.holidays[d].strip()
            return f"法定节假日（{name}）" if name else "法定节假日"
        return f"休息日（{_WEEKDAY_NAMES[d.weekday()]}）"

    def next_working_day(self, d: date) -> date:
        """``d`` itself when it is a working day, otherwise the first working day after it."""
        current = d
        for _ in range(_MAX_ROLL_DAYS):
            if self.is_working_day(current):
                return current
            current += timedelta(days=1)
        raise HolidayTableError([f"{d.isoformat()} 之后 {_MAX_ROLL_DAYS} 日内没有工作日，节假日表有误"])


def _holiday_name_zh(english: str) -> str:
    known = _HOLIDAY_NAMES_ZH.get(english)
    if known is not None:
        return known
    try:  # a holiday added to a newer chinese_calendar: use the package's own Chinese name
        chinese = getattr(chinese_calendar.Holiday(english), "chinese", None)
    except (ImportError, ValueError):
        chinese = None
    return chinese if isinstance(chinese, str) and chinese else english


@lru_cache(maxsize=64)
def _chinese_calendar_year(year: int) -> tuple[dict[date, str], dict[date, str]] | None:
    """(holidays, workdays) of one year from the chinese_calendar package, or None if it has no data."""
    holidays: dict[date, str] = {}
    workdays: dict[date, str] = {}
    day = date(year, 1, 1)
    try:
        chinese_calendar.get_holiday_detail(day)
    except NotImplementedError:
        return None
    while day.year == year:
        on_holiday, name = chinese_calendar.get_holiday_detail(day)
        if name is not None:  # None: an ordinary weekday or weekend
            (holidays if on_holiday else workdays)[day] = _holiday_name_zh(str(name))
        day += timedelta(days=1)
    return holidays, workdays


def chinese_calendar_table(years: Iterable[int]) -> DayTable:
    """A table seeded from the ``chinese_calendar`` package for those ``years`` it knows (2004–2026 in
    version 1.11); other years are silently left out (and so are unknown to the table)."""
    holidays: dict[date, str] = {}
    workdays: dict[date, str] = {}
    known: set[int] = set()
    for year in sorted(set(years)):
        if not 1 <= year <= 9999:
            continue
        data = _chinese_calendar_year(year)
        if data is None:
            continue
        holidays.update(data[0])
        workdays.update(data[1])
        known.add(year)
    return DayTable(holidays, workdays, frozenset(known))


def merge_tables(*tables: DayTable) -> DayTable:
    """Combine tables; later tables override earlier ones.

    A later table is authoritative for each year in its ``known_years``: the earlier tables' entries for
    that year are dropped (so an administrator's corrected table for a year replaces the package's data,
    including removals).  Entries of a later table outside its known years override date by date.
    """
    holidays: dict[date, str] = {}
    workdays: dict[date, str] = {}
    known: set[int] = set()
    for table in tables:
        if table.known_years:
            holidays = {d: n for d, n in holidays.items() if d.year not in table.known_years}
            workdays = {d: n for d, n in workdays.items() if d.year not in table.known_years}
        for d, name in table.holidays.items():
            workdays.pop(d, None)
            holidays[d] = name
        for d, name in table.workdays.items():
            holidays.pop(d, None)
            workdays[d] = name
        known |= table.known_years
    return DayTable(holidays, workdays, frozenset(known))


@dataclass(frozen=True)
class DueDate:
    """A computed due date and how it was computed (every due date shown must say so)."""

    name: str
    due_on: date
    start_event: str
    start_on: date
    length: int
    unit: Unit
    paused_days: int
    rolled_from: date | None
    provisional: bool
    basis: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe values (dates as ISO strings)."""
        return {
            "name": self.name,
            "due_on": self.due_on.isoformat(),
            "start_event": self.start_event,
            "start_on": self.start_on.isoformat(),
            "length": self.length,
            "unit": self.unit,
            "paused_days": self.paused_days,
            "rolled_from": self.rolled_from.isoformat() if self.rolled_from else None,
            "provisional": self.provisional,
            "basis": self.basis,
        }


def compute_due(
    name: str,
    start_event: str,
    start_on: date,
    length: int,
    table: DayTable,
    unit: Unit = "calendar",
    paused_days: int = 0,
    pause_reason: str = "鉴定评估",
) -> DueDate:
    """The due date of a period of ``length`` days (or working days) after ``start_on``.

    The start day is not counted.  ``unit="calendar"``: the nominal last day is ``start_on + length +
    paused_days`` days; when it is not a working day the period ends on the next working day (holidays
    inside the period are not deducted).  ``unit="working"``: the paused days are added as calendar days
    first, then ``length`` working days are counted after that day (adjusted working weekend days count).

    ``provisional`` is true when any day the computation examined lies in a year the table does not know.
    """
    if unit not in ("calendar", "working"):
        raise ValueError(f"unknown unit {unit!r}: expected 'calendar' or 'working'")
    if isinstance(length, bool) or not isinstance(length, int) or length < 1:
        raise ValueError(f"length must be a positive integer, got {length!r}")
    if isinstance(paused_days, bool) or not isinstance(paused_days, int) or paused_days < 0:
        raise ValueError(f"paused_days must be a non-negative integer, got {paused_days!r}")

    examined: list[date] = []
    rolled_from: date | None = None
    if unit == "calendar":
        nominal = start_on + timedelta(days=length + paused_days)
        due_on = table.next_working_day(nominal)
        examined.extend(nominal + timedelta(days=i) for i in range((due_on - nominal).days + 1))
        if due_on != nominal:
            rolled_from = nominal
        period = f"{start_event} {start_on.isoformat()} 起算 {length} 日"
    else:
        due_on = start_on + timedelta(days=paused_days)
        counted = 0
        while counted < length:
            due_on += timedelta(days=1)
            examined.append(due_on)
            if table.is_working_day(due_on):
                counted += 1
        period = f"{start_event} {start_on.isoformat()} 起算 {length} 个工作日"

    if rolled_from is not None:
        reason = table.rest_reason(rolled_from)
        basis = f"{period}，届满日 {rolled_from.isoformat()} 为{reason}，顺延至 {due_on.isoformat()}"
    else:
        basis = f"{period}，届满日 {due_on.isoformat()}"
    if paused_days:
        basis += f"，其间暂停计算 {paused_days} 日" + (f"（{pause_reason}）" if pause_reason else "")
    unknown_years = sorted({d.year for d in examined if not table.is_known(d)})
    if unknown_years:
        years = "、".join(str(y) for y in unknown_years)
        basis += f"（{years} 年节假日安排未录入，按周末推算，为暂定日期）"

    return DueDate(
        name=name,
        due_on=due_on,
        start_event=start_event,
        start_on=start_on,
        length=length,
        unit=unit,
        paused_days=paused_days,
        rolled_from=rolled_from,
        provisional=bool(unknown_years),
        basis=basis,
    )


def due_at(due: DueDate, tz: ZoneInfo = CHINA_TZ) -> datetime:
    """The last moment inside the period: 23:59:59 local time on the due day (tz-aware)."""
    return datetime.combine(due.due_on, time(23, 59, 59), tzinfo=tz)


def expires_at(due: DueDate, tz: ZoneInfo = CHINA_TZ) -> datetime:
    """The first moment after the period — 00:00 of the day after the due day (tz-aware).  Timers fire
    here; the period is overdue from this instant on."""
    return datetime.combine(due.due_on + timedelta(days=1), time(0, 0), tzinfo=tz)


def is_overdue(due: DueDate, now: datetime) -> bool:
    """Whether the period has passed at ``now`` (which must be timezone-aware)."""
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    return now >= expires_at(due)


# --- administrator-entered tables ------------------------------------------------------------------------

_KINDS = ("holiday", "workday")


def parse_holiday_csv(text: str) -> tuple[dict[date, str], dict[date, str]]:
    """Parse a CSV ``date,kind,name`` (kind ``holiday`` or ``workday``; header row optional; blank lines
    and lines starting with ``#`` ignored) into ``(holidays, workdays)``.

    A holiday needs a name; a workday's name (the holiday it makes up for) is optional.  Raises
    :class:`HolidayTableError` listing every bad line (``第 3 行：…``).
    """
    holidays: dict[date, str] = {}
    workdays: dict[date, str] = {}
    problems: list[str] = []
    seen: dict[date, int] = {}
    header_allowed = True
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    for row in reader:
        line = reader.line_num
        cells = [c.strip() for c in row]
        if not any(cells) or cells[0].startswith("#"):
            continue
        if header_allowed:
            header_allowed = False
            if cells[0].lower() in ("date", "日期"):
                continue
        if len(cells) < 2 or len(cells) > 3:
            problems.append(f"第 {line} 行：应为“日期,类型,名称”三列，实际 {len(cells)} 列")
            continue
        raw_date, kind = cells[0], cells[1].lower()
        name = cells[2] if len(cells) == 3 else ""
        day = parse_iso_date(raw_date.strip())
        bad = False
        if day is None:
            problems.append(f"第 {line} 行：日期“{raw_date}”无效，应为 YYYY-MM-DD 格式的有效日期")
            bad = True
        if kind not in _KINDS:
            problems.append(f"第 {line} 行：类型“{cells[1]}”无效，应为 holiday（放假）或 workday（调休上班）")
            bad = True
        elif kind == "holiday" and not name:
            problems.append(f"第 {line} 行：放假日须填写节日名称")
            bad = True
        if day is not None and day in seen:
            problems.append(f"第 {line} 行：日期 {day.isoformat()} 与第 {seen[day]} 行重复")
            bad = True
        if bad or day is None:
            continue
        seen[day] = line
        (holidays if kind == "holiday" else workdays)[day] = name
    if problems:
        raise HolidayTableError(problems)
    return holidays, workdays


def validate_year_table(year: int, days: list[dict[str, Any]]) -> list[str]:
    """Problems (in Chinese) with an administrator's entry of one year's arrangement; empty when fine.

    Each item is ``{"date": "2027-01-01" | date, "kind": "holiday" | "workday", "name": "元旦"}``.
    Checked: a valid date inside ``year``, no duplicate date, a known kind, a workday that falls on a
    weekend (an adjusted working day is always a Saturday or Sunday), a holiday with a name.
    """
    problems: list[str] = []
    seen: dict[date, int] = {}
    for index, item in enumerate(days, start=1):
        where = f"第 {index} 项"
        raw = item.get("date")
        if isinstance(raw, datetime):
            day: date | None = raw.date()
        elif isinstance(raw, date):
            day = raw
        elif isinstance(raw, str):
            day = parse_iso_date(raw.strip())
        else:
            day = None
        if day is None:
            shown = "" if raw is None else raw
            problems.append(f"{where}：日期“{shown}”无效，应为 YYYY-MM-DD 格式的有效日期")
        else:
            where = f"{where}（{day.isoformat()}）"
            if day.year != year:
                problems.append(f"{where}：日期不在 {year} 年内")
            if day in seen:
                problems.append(f"{where}：日期与第 {seen[day]} 项重复")
            else:
                seen[day] = index
        kind = item.get("kind")
        name = item.get("name")
        name_text = name.strip() if isinstance(name, str) else ""
        if kind not in _KINDS:
            shown = "" if kind is None else kind
            problems.append(f"{where}：类型“{shown}”无效，应为 holiday（放假）或 workday（调休上班）")
        elif kind == "workday":
            if day is not None and day.weekday() < 5:
                problems.append(f"{where}：为{_WEEKDAY_NAMES[day.weekday()]}，调休上班日应为星期六或星期日")
        elif not name_text:
            problems.append(f"{where}：放假日须填写节日名称")
    return problems
