"""Legal period arithmetic (民事诉讼法 第八十五条) against the official 2026 arrangement and admin tables."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import chinese_calendar
import pytest

from engine.calendar.legal_calendar import (
    DayTable,
    HolidayTableError,
    chinese_calendar_table,
    compute_due,
    due_at,
    expires_at,
    is_overdue,
    merge_tables,
    parse_holiday_csv,
    validate_year_table,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
SERVED = "送达磋商书面通知"


@pytest.fixture(scope="module")
def table() -> DayTable:
    return chinese_calendar_table(range(2004, 2030))


@pytest.fixture(scope="module")
def table_2027(table: DayTable) -> DayTable:
    """The package's table plus an administrator-entered 2027 table."""
    holidays, workdays = parse_holiday_csv(
        "date,kind,name\n"
        "2027-01-01,holiday,元旦\n"
        "2027-01-02,holiday,元旦\n"
        "2027-01-03,holiday,元旦\n"
    )
    return merge_tables(table, DayTable(holidays, workdays, frozenset({2027})))


# --- the table ---------------------------------------------------------------------------------------------


def test_package_years_are_known_and_others_skipped(table: DayTable) -> None:
    assert 2004 in table.known_years and 2026 in table.known_years
    assert 2027 not in table.known_years and 2003 not in table.known_years
    assert not table.is_known(date(2027, 1, 1))


def test_table_agrees_with_chinese_calendar_for_every_day(table: DayTable) -> None:
    day = date(2004, 1, 1)
    while day.year <= 2026:
        assert table.is_working_day(day) == chinese_calendar.is_workday(day), day
        day += timedelta(days=1)


def test_table_holds_only_statutory_days_with_chinese_names(table: DayTable) -> None:
    assert table.holidays[date(2026, 10, 1)] == "国庆节"
    assert table.holidays[date(2026, 4, 5)] == "清明节"
    assert table.holidays[date(2015, 9, 3)].startswith("中国人民抗日战争")
    assert table.workdays[date(2026, 10, 10)] == "国庆节"  # Saturday, 调休上班
    assert date(2026, 3, 14) not in table.holidays  # an ordinary Saturday is not listed
    names = set(table.holidays.values()) | set(table.workdays.values())
    assert {"元旦", "春节", "清明节", "劳动节", "端午节", "国庆节", "中秋节"} <= names
    assert all(not any(c.isascii() and c.isalpha() for c in n) for n in names)


def test_the_2026_national_day_block(table: DayTable) -> None:
    for d in range(1, 8):
        assert not table.is_working_day(date(2026, 10, d))
    assert table.is_working_day(date(2026, 10, 8))  # Thursday after the block
    assert table.is_working_day(date(2026, 10, 10))  # adjusted working Saturday
    assert table.is_working_day(date(2026, 9, 20))  # adjusted working Sunday


def test_rest_reason(table: DayTable) -> None:
    assert table.rest_reason(date(2026, 10, 1)) == "法定节假日（国庆节）"
    assert table.rest_reason(date(2026, 10, 3)) == "法定节假日（国庆节）"  # a Saturday inside the block
    assert table.rest_reason(date(2026, 3, 14)) == "休息日（星期六）"
    assert table.rest_reason(date(2026, 3, 15)) == "休息日（星期日）"
    assert table.rest_reason(date(2026, 10, 10)) is None
    assert table.rest_reason(date(2026, 3, 16)) is None


def test_unknown_year_falls_back_to_weekends() -> None:
    empty = DayTable()
    assert empty.is_working_day(date(2027, 1, 1))  # a Friday
    assert not empty.is_working_day(date(2027, 1, 2))
    assert empty.rest_reason(date(2027, 1, 3)) == "休息日（星期日）"


def test_table_is_frozen() -> None:
    source = {date(2027, 1, 1): "元旦"}
    t = DayTable(source, {}, frozenset({2027}))
    source[date(2027, 1, 4)] = "元旦"
    assert date(2027, 1, 4) not in t.holidays
    with pytest.raises(TypeError):
        t.holidays[date(2027, 1, 5)] = "x"  # type: ignore[index]


def test_merge_later_tables_override(table: DayTable) -> None:
    # A later table that knows 2026 replaces the package's 2026 entries (removals included).
    corrected = DayTable({date(2026, 10, 1): "国庆节"}, {}, frozenset({2026}))
    merged = merge_tables(table, corrected)
    assert merged.is_working_day(date(2026, 10, 2))
    assert not merged.is_working_day(date(2026, 10, 1))
    assert 2025 in merged.known_years and date(2025, 10, 1) in merged.holidays
    # Entries outside the later table's known years override date by date.
    patch = DayTable({}, {date(2026, 10, 1): "国庆节"}, frozenset())
    patched = merge_tables(table, patch)
    assert patched.is_working_day(date(2026, 10, 1))
    assert date(2026, 10, 1) not in patched.holidays
    assert not patched.is_working_day(date(2026, 10, 2))


# --- due dates ---------------------------------------------------------------------------------------------


def test_90_days_from_service_ending_on_national_day(table: DayTable) -> None:
    due = compute_due("磋商期限", SERVED, date(2026, 7, 3), 90, table)
    assert date(2026, 7, 3) + timedelta(days=90) == date(2026, 10, 1)
    # The 2026 National Day holiday is 10-01..10-07; 10-08 (Thursday) is a working day.
    assert due.due_on == date(2026, 10, 8)
    assert due.rolled_from == date(2026, 10, 1)
    assert not due.provisional
    assert due.basis == (
        "送达磋商书面通知 2026-07-03 起算 90 日，届满日 2026-10-01 为法定节假日（国庆节），顺延至 2026-10-08"
    )


def test_period_ending_on_an_ordinary_sunday(table: DayTable) -> None:
    due = compute_due("补正期限", "收到补正通知", date(2026, 3, 5), 10, table)
    assert due.due_on == date(2026, 3, 16)
    assert due.rolled_from == date(2026, 3, 15)
    assert due.basis == (
        "收到补正通知 2026-03-05 起算 10 日，届满日 2026-03-15 为休息日（星期日），顺延至 2026-03-16"
    )


def test_period_ending_on_a_working_day_is_not_rolled(table: DayTable) -> None:
    due = compute_due("法院告知", "法院受理公益诉讼案件", date(2026, 6, 8), 10, table)
    assert due.due_on == date(2026, 6, 18)
    assert due.rolled_from is None
    assert due.basis == "法院受理公益诉讼案件 2026-06-08 起算 10 日，届满日 2026-06-18"


def test_holidays_inside_the_period_are_not_deducted(table: DayTable) -> None:
    # 2026-09-28 + 15 days = 2026-10-13, straight through the National Day block.
    due = compute_due("x", "事件", date(2026, 9, 28), 15, table)
    assert due.due_on == date(2026, 10, 13)
    assert due.rolled_from is None


def test_court_notice_10_days_after_acceptance(table: DayTable) -> None:
    due = compute_due("法院告知期限", "法院受理公益诉讼案件", date(2026, 9, 21), 10, table)
    assert due.due_on == date(2026, 10, 8)
    assert due.rolled_from == date(2026, 10, 1)


def test_across_the_year_boundary_without_a_2027_table(table: DayTable) -> None:
    due = compute_due("磋商期限", SERVED, date(2026, 12, 2), 30, table)
    assert due.due_on == date(2027, 1, 1)  # a Friday: a working day by the weekend fallback
    assert due.rolled_from is None
    assert due.provisional
    assert due.basis == (
        "送达磋商书面通知 2026-12-02 起算 30 日，届满日 2027-01-01"
        "（2027 年节假日安排未录入，按周末推算，为暂定日期）"
    )


def test_across_the_year_boundary_with_an_admin_2027_table(table_2027: DayTable) -> None:
    due = compute_due("磋商期限", SERVED, date(2026, 12, 2), 30, table_2027)
    assert due.due_on == date(2027, 1, 4)
    assert due.rolled_from == date(2027, 1, 1)
    assert not due.provisional
    assert due.basis == (
        "送达磋商书面通知 2026-12-02 起算 30 日，届满日 2027-01-01 为法定节假日（元旦），顺延至 2027-01-04"
    )


def test_provisional_when_rolling_into_an_unknown_year(table: DayTable) -> None:
    # 2026-12-31 is a working Thursday: nothing in 2027 is looked at.
    assert not compute_due("x", "事件", date(2026, 12, 21), 10, table).provisional
    weekend = DayTable({}, {}, frozenset({2026}))
    # Nominal day 2026-12-27 is a Sunday in a known year; the roll stays in 2026.
    assert not compute_due("x", "事件", date(2026, 12, 17), 10, weekend).provisional
    # Nominal day in 2026 (known), rolled across 2027-01-01..03 (unknown) — provisional.
    holidays = DayTable({date(2026, 12, 31): "测试"}, {}, frozenset({2026}))
    due = compute_due("x", "事件", date(2026, 12, 21), 10, holidays)
    assert due.due_on == date(2027, 1, 1)
    assert due.provisional


def test_working_days_across_an_adjusted_working_saturday(table: DayTable) -> None:
    due = compute_due("沟通对接", "收到法院告知", date(2026, 10, 8), 3, table, unit="working")
    # 10-09 Fri (1), 10-10 Sat 调休上班 (2), 10-11 Sun rest, 10-12 Mon (3)
    assert due.due_on == date(2026, 10, 12)
    assert due.rolled_from is None
    assert due.basis == "收到法院告知 2026-10-08 起算 3 个工作日，届满日 2026-10-12"


def test_working_days_across_the_spring_festival(table: DayTable) -> None:
    due = compute_due("x", "事件", date(2026, 2, 10), 5, table, unit="working")
    # 02-11, 02-12, 02-13, 02-14 (Saturday, 调休上班), then the holiday until 02-23, 02-24
    assert due.due_on == date(2026, 2, 24)


def test_working_days_across_a_holiday_block(table: DayTable) -> None:
    due = compute_due("x", "事件", date(2026, 9, 30), 2, table, unit="working")
    assert due.due_on == date(2026, 10, 9)


def test_paused_days_calendar(table: DayTable) -> None:
    due = compute_due("磋商期限", SERVED, date(2026, 7, 3), 90, table, paused_days=12)
    assert due.due_on == date(2026, 10, 13)
    assert due.paused_days == 12
    assert due.basis == (
        "送达磋商书面通知 2026-07-03 起算 90 日，届满日 2026-10-13，其间暂停计算 12 日（鉴定评估）"
    )


def test_paused_days_working(table: DayTable) -> None:
    due = compute_due(
        "x", "事件", date(2026, 7, 1), 5, table, unit="working", paused_days=3, pause_reason="补充调查"
    )
    # paused to 07-04 (Saturday), then 07-06..07-10
    assert due.due_on == date(2026, 7, 10)
    assert due.basis.endswith("，其间暂停计算 3 日（补充调查）")


def test_paused_and_provisional_basis(table: DayTable) -> None:
    due = compute_due("磋商期限", SERVED, date(2026, 11, 1), 90, table, paused_days=12)
    assert due.due_on == date(2027, 2, 11)
    assert due.basis == (
        "送达磋商书面通知 2026-11-01 起算 90 日，届满日 2027-02-11，其间暂停计算 12 日（鉴定评估）"
        "（2027 年节假日安排未录入，按周末推算，为暂定日期）"
    )


def test_bad_arguments(table: DayTable) -> None:
    with pytest.raises(ValueError):
        compute_due("x", "事件", date(2026, 7, 1), 0, table)
    with pytest.raises(ValueError):
        compute_due("x", "事件", date(2026, 7, 1), 5, table, paused_days=-1)
    with pytest.raises(ValueError):
        compute_due("x", "事件", date(2026, 7, 1), 5, table, unit="weeks")  # type: ignore[arg-type]


def test_to_dict_is_json_safe(table: DayTable) -> None:
    due = compute_due("磋商期限", SERVED, date(2026, 7, 3), 90, table)
    data = due.to_dict()
    assert json.loads(json.dumps(data, ensure_ascii=False)) == data
    assert data["due_on"] == "2026-10-08"
    assert data["rolled_from"] == "2026-10-01"
    assert data["start_on"] == "2026-07-03"
    assert data["unit"] == "calendar"
    assert data["provisional"] is False


def test_due_at_and_expires_at(table: DayTable) -> None:
    due = compute_due("磋商期限", SERVED, date(2026, 7, 3), 90, table)
    assert due_at(due) == datetime(2026, 10, 8, 23, 59, 59, tzinfo=SHANGHAI)
    assert expires_at(due) == datetime(2026, 10, 9, 0, 0, tzinfo=SHANGHAI)
    assert expires_at(due).utcoffset() == timedelta(hours=8)
    assert not is_overdue(due, datetime(2026, 10, 8, 23, 59, 59, tzinfo=SHANGHAI))
    assert is_overdue(due, datetime(2026, 10, 9, 0, 0, tzinfo=SHANGHAI))
    assert is_overdue(due, datetime(2026, 10, 8, 16, 0, tzinfo=ZoneInfo("UTC")))  # = 10-09 00:00 Shanghai
    with pytest.raises(ValueError):
        is_overdue(due, datetime(2026, 10, 9))


# --- administrator tables ----------------------------------------------------------------------------------


def test_parse_holiday_csv() -> None:
    holidays, workdays = parse_holiday_csv(
        "\ufeffdate,kind,name\n"
        "# 2027 年安排\n"
        "2027-10-01,holiday,国庆节\n"
        "\n"
        " 2027-10-02 , holiday , 国庆节 \n"
        "2027-09-26,workday,国庆节\n"
        "2027-10-09,workday\n"
    )
    assert holidays == {date(2027, 10, 1): "国庆节", date(2027, 10, 2): "国庆节"}
    assert workdays == {date(2027, 9, 26): "国庆节", date(2027, 10, 9): ""}


def test_parse_holiday_csv_without_header() -> None:
    holidays, workdays = parse_holiday_csv("2027-01-01,holiday,元旦")
    assert holidays == {date(2027, 1, 1): "元旦"} and workdays == {}


def test_parse_holiday_csv_names_the_bad_lines() -> None:
    with pytest.raises(HolidayTableError) as info:
        parse_holiday_csv(
            "date,kind,name\n"
            "2027-01-01,holiday,元旦\n"
            "2027-02-30,holiday,春节\n"
            "2027-02-06,rest,春节\n"
            "2027-02-07,holiday,\n"
            "2027-01-01,holiday,元旦\n"
            "2027-03-01\n"
        )
    problems = info.value.problems
    assert len(problems) == 5
    assert problems[0].startswith("第 3 行") and "2027-02-30" in problems[0]
    assert problems[1].startswith("第 4 行") and "rest" in problems[1]
    assert problems[2].startswith("第 5 行") and "名称" in problems[2]
    assert problems[3].startswith("第 6 行") and "第 2 行重复" in problems[3]
    assert problems[4].startswith("第 7 行")
    assert "第 3 行" in str(info.value)


def test_validate_year_table() -> None:
    assert validate_year_table(
        2027,
        [
            {"date": "2027-01-01", "kind": "holiday", "name": "元旦"},
            {"date": date(2027, 2, 20), "kind": "workday", "name": "春节"},  # Saturday
        ],
    ) == []
    problems = validate_year_table(
        2027,
        [
            {"date": "2026-12-31", "kind": "holiday", "name": "元旦"},
            {"date": "2027-01-01", "kind": "holiday", "name": "元旦"},
            {"date": "2027-01-01", "kind": "holiday", "name": "元旦"},
            {"date": "2027-01-05", "kind": "workday", "name": "元旦"},
            {"date": "2027-01-06", "kind": "day_off", "name": "x"},
            {"date": "2027-01-07", "kind": "holiday", "name": "  "},
            {"date": "2027-13-01", "kind": "holiday", "name": "x"},
        ],
    )
    assert problems == [
        "第 1 项（2026-12-31）：日期不在 2027 年内",
        "第 3 项（2027-01-01）：日期与第 2 项重复",
        "第 4 项（2027-01-05）：为星期二，调休上班日应为星期六或星期日",
        "第 5 项（2027-01-06）：类型“day_off”无效，应为 holiday（放假）或 workday（调休上班）",
        "第 6 项（2027-01-07）：放假日须填写节日名称",
        "第 7 项：日期“2027-13-01”无效，应为 YYYY-MM-DD 格式的有效日期",
    ]
