"""Form data validation: check characters, formats, bounds, Chinese messages naming the field, standard conditional
keywords (if/then, dependentRequired), the few extensions, data offered for a form."""

from __future__ import annotations

import random
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from stdnum.cn import ric, uscc

from engine.forms.validation import (
    DATE_PATTERN,
    MONEY_PATTERN,
    TEXT_PATTERN,
    check_form_schema,
    is_valid_id_number,
    is_valid_money,
    is_valid_uscc,
    offered,
    parse_money,
    validate_form,
)

VALID_USCC = ["91110108551385082Q", "91350100M000100Y43"]
VALID_ID = ["11010519491231002X", "440524188001010014"]
USCC_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"

# --- check characters ----------------------------------------------------------------------------------


@pytest.mark.parametrize("code", VALID_USCC)
def test_valid_uscc(code: str) -> None:
    assert is_valid_uscc(code)
    assert uscc.is_valid(code)


@pytest.mark.parametrize("code", VALID_USCC)
def test_every_one_character_change_of_a_uscc_fails(code: str) -> None:
    for i, original in enumerate(code):
        for c in USCC_CHARSET + "IOSVZa":
            if c != original:
                assert not is_valid_uscc(code[:i] + c + code[i + 1 :]), (i, c)


def test_uscc_shape() -> None:
    assert not is_valid_uscc("")
    assert not is_valid_uscc(VALID_USCC[0][:-1])
    assert not is_valid_uscc(VALID_USCC[0] + "0")
    assert not is_valid_uscc(VALID_USCC[0].lower())
    assert not is_valid_uscc(" " + VALID_USCC[0][1:])
    assert not is_valid_uscc(None)  # type: ignore[arg-type]


def test_uscc_check_character_agrees_with_stdnum() -> None:
    # stdnum also insists on digits in positions 1-8; the check character is the same computation.
    rng = random.Random(32100)
    for _ in range(3000):
        body = "".join(rng.choice(USCC_CHARSET) for _ in range(17))
        check = uscc.calc_check_digit(body + "0")
        assert is_valid_uscc(body + check), body + check
        other = USCC_CHARSET[(USCC_CHARSET.index(check) + rng.randint(1, 30)) % 31]
        assert not is_valid_uscc(body + other)
        if body[:8].isdigit():
            assert uscc.is_valid(body + check)


@pytest.mark.parametrize("number", VALID_ID)
def test_valid_id_number(number: str) -> None:
    assert is_valid_id_number(number)
    assert ric.calc_check_digit(number) == number[-1]


@pytest.mark.parametrize("number", VALID_ID)
def test_every_one_character_change_of_an_id_number_fails(number: str) -> None:
    for i, original in enumerate(number):
        for c in "0123456789Xx":
            if c != original:
                assert not is_valid_id_number(number[:i] + c + number[i + 1 :]), (i, c)


def test_id_number_birth_date_and_shape() -> None:
    # A correct check digit does not save an impossible birth date (1949-02-30).
    body = "11010519490230002"
    assert not is_valid_id_number(body + ric.calc_check_digit(body + "0"))
    assert not is_valid_id_number("11010519491231002x")  # lower-case x refused
    assert not is_valid_id_number("1101051949123100")
    assert not is_valid_id_number("110105194912310021X")


def test_id_number_agrees_with_stdnum() -> None:
    rng = random.Random(11643)
    for _ in range(3000):
        birth = date(rng.randint(1900, 2020), rng.randint(1, 12), rng.randint(1, 28)).strftime("%Y%m%d")
        body = f"{rng.randint(110000, 659999)}{birth}{rng.randint(0, 999):03d}"
        # stdnum also looks the birth place up in its table of divisions; the check digit is the same.
        expected = ric.calc_check_digit(body + "0")
        for check in "0123456789X":
            assert is_valid_id_number(body + check) == (check == expected), body + check
            if stdnum_ric_valid(body + check):
                assert is_valid_id_number(body + check)


def stdnum_ric_valid(number: str) -> bool:
    try:
        return ric.is_valid(number)
    except KeyError:  # stdnum 2.2 trips over some division codes (no 'county' in its table)
        return False


# --- money ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["12345.60", "0.00", "0", "12345", "12345.6", "0.5", "007"])
def test_valid_money(text: str) -> None:
    assert is_valid_money(text)


@pytest.mark.parametrize(
    "text",
    ["", "-1", "+1", "1.234", "1e5", "1,000.00", "12345.", ".5", " 1", "1 ", "１２", "NaN", "Infinity"],
)
def test_invalid_money(text: str) -> None:
    assert not is_valid_money(text)


def test_parse_money() -> None:
    assert parse_money("12345.6") == Decimal("12345.60")
    assert str(parse_money("12345.6")) == "12345.60"
    assert str(parse_money("0")) == "0.00"
    with pytest.raises(ValueError):
        parse_money("-1")


# --- validate_form -------------------------------------------------------------------------------------

OUTCOMES = ["agreed", "continue", "failed"]
OUTCOME_LABELS = ["达成一致", "继续磋商", "磋商不成"]

SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "additionalProperties": False,
    "x-context-labels": {"served_on": "送达日期", "found_on": "发现日期"},
    "required": ["meeting_date", "outcome"],
    "allOf": [
        {
            "if": {"properties": {"restorability": {"const": "partially_restorable"}}, "required": ["restorability"]},
            "then": {"required": ["restorable_area", "restoration_requirements"]},
        },
        {
            "if": {"properties": {"restorability": {"const": "restorable"}}, "required": ["restorability"]},
            "then": {"required": ["restoration_requirements"]},
        },
        {
            "if": {"properties": {"approved": {"const": False}}, "required": ["approved"]},
            "then": {"required": ["rejection_reason"]},
        },
    ],
    "properties": {
        "meeting_date": {
            "type": "string",
            "format": "date",
            "title": "磋商会议日期",
            "x-not-before": "served_on",
        },
        "next_meeting_date": {
            "type": "string",
            "format": "date",
            "title": "下次会议日期",
            "x-not-before": "meeting_date",
        },
        "outcome": {"type": "string", "title": "磋商结果", "enum": OUTCOMES, "x-enum-labels": OUTCOME_LABELS},
        "chair": {
            "title": "主持方",
            "oneOf": [
                {"const": "department", "title": "赔偿权利人指定部门"},
                {"const": "third_party", "title": "中立第三方"},
            ],
        },
        "amount": {"type": "string", "format": "money", "title": "赔偿金额"},
        "meeting_count": {"type": "integer", "title": "磋商次数", "minimum": 1, "maximum": 3},
        "restorability": {
            "type": "string",
            "title": "可修复性",
            "enum": ["restorable", "partially_restorable", "not_restorable"],
            "x-enum-labels": ["可修复", "部分可修复", "不可修复"],
        },
        "restorable_area": {"type": "number", "title": "可修复面积"},
        "restoration_requirements": {"type": "string", "title": "修复要求"},
        "approved": {"type": "boolean", "title": "是否批准"},
        "rejection_reason": {"type": "string", "title": "不批准理由"},
        "remark": {"type": "string", "title": "备注", "maxLength": 10},
        "obligors": {
            "type": "array",
            "title": "赔偿义务人",
            "minItems": 1,
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["name"],
                "properties": {
                    "name": {"type": "string", "title": "名称"},
                    "uscc": {"type": "string", "format": "uscc", "title": "统一社会信用代码"},
                    "id_number": {"type": "string", "format": "id-number", "title": "身份证号码"},
                    "notified_on": {
                        "type": "string",
                        "format": "date",
                        "title": "告知日期",
                        "x-not-after": "meeting_date",
                        "x-not-before": ["found_on"],
                    },
                },
            },
        },
    },
}

CONTEXT = {"served_on": "2026-07-03", "found_on": date(2026, 5, 1)}


def valid_data(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "meeting_date": "2026-07-10",
        "outcome": "agreed",
        "amount": "12345.60",
        "obligors": [
            {"name": "某化工有限公司", "uscc": VALID_USCC[0]},
            {"name": "张某", "id_number": VALID_ID[0]},
        ],
    }
    data.update(changes)
    return data


def test_the_schema_itself_is_fine() -> None:
    assert check_form_schema(SCHEMA) == []


def test_valid_data_passes() -> None:
    assert validate_form(SCHEMA, valid_data(), CONTEXT) == {}
    more = valid_data(chair="third_party", approved=True, meeting_count=3)
    assert validate_form(SCHEMA, more, CONTEXT) == {}


def test_required() -> None:
    data = valid_data()
    del data["meeting_date"]
    assert validate_form(SCHEMA, data, CONTEXT) == {"meeting_date": '"磋商会议日期"为必填项'}


@pytest.mark.parametrize("blank", ["", "   ", None])
def test_blank_counts_as_missing(blank: Any) -> None:
    assert validate_form(SCHEMA, valid_data(meeting_date=blank), CONTEXT) == {
        "meeting_date": '"磋商会议日期"为必填项'
    }


def test_uscc_messages() -> None:
    bad_check = VALID_USCC[0][:-1] + "R"
    errors = validate_form(SCHEMA, valid_data(obligors=[{"name": "甲", "uscc": bad_check}]), CONTEXT)
    assert errors == {"obligors.0.uscc": '"赔偿义务人 第1项 统一社会信用代码"校验码不正确'}
    errors = validate_form(SCHEMA, valid_data(obligors=[{"name": "甲", "uscc": "9111010855138508"}]), CONTEXT)
    assert errors["obligors.0.uscc"].startswith('"赔偿义务人 第1项 统一社会信用代码"应为18位统一社会信用代码')


def test_id_number_messages() -> None:
    def error_for(number: str) -> str:
        data = valid_data(obligors=[{"name": "张某", "id_number": number}])
        return validate_form(SCHEMA, data, CONTEXT)["obligors.0.id_number"]

    assert error_for("110105194912310021") == '"赔偿义务人 第1项 身份证号码"校验码不正确'
    assert error_for("110105194913310021") == '"赔偿义务人 第1项 身份证号码"中的出生日期不正确'
    assert error_for("11010519491231002x").endswith("应为18位居民身份证号码，最后一位为数字或大写 X")


def test_date_format() -> None:
    errors = validate_form(SCHEMA, valid_data(meeting_date="2026/07/10"), CONTEXT)
    assert errors == {"meeting_date": '"磋商会议日期"应为日期，格式为 YYYY-MM-DD，例如 2026-07-03'}
    errors = validate_form(SCHEMA, valid_data(meeting_date="2026-02-30"), CONTEXT)
    assert errors == {"meeting_date": '"磋商会议日期"不是有效的日期（2026-02-30）'}
    errors = validate_form(SCHEMA, valid_data(meeting_date="20260710"), CONTEXT)
    assert "meeting_date" in errors


@pytest.mark.parametrize("amount", ["-1", "1.234", "1,000", "1e3"])
def test_money_format(amount: str) -> None:
    assert validate_form(SCHEMA, valid_data(amount=amount), CONTEXT) == {
        "amount": '"赔偿金额"应为不小于0、最多两位小数的金额，例如 12345.60'
    }


def test_money_given_as_a_number_gets_the_money_message() -> None:
    errors = validate_form(SCHEMA, valid_data(amount=12345.6), CONTEXT)
    assert errors == {"amount": '"赔偿金额"应为不小于0、最多两位小数的金额，例如 12345.60'}


def test_wrong_types() -> None:
    errors = validate_form(
        SCHEMA,
        valid_data(
            meeting_date=20260710, approved="yes", meeting_count=1.5, remark=3, obligors={"name": "x"}
        ),
        CONTEXT,
    )
    assert errors == {
        "meeting_date": '"磋商会议日期"应为日期，格式为 YYYY-MM-DD，例如 2026-07-03',
        "approved": '"是否批准"应为是/否',
        "meeting_count": '"磋商次数"应为整数',
        "remark": '"备注"应为文本',
        "obligors": '"赔偿义务人"应为列表',
    }
    assert validate_form(SCHEMA, valid_data(meeting_count=True), CONTEXT) == {
        "meeting_count": '"磋商次数"应为整数'
    }


def test_enum_with_labels() -> None:
    errors = validate_form(SCHEMA, valid_data(outcome="maybe"), CONTEXT)
    assert errors == {"outcome": '"磋商结果"的取值不在允许范围内（可选：达成一致、继续磋商、磋商不成）'}


def test_one_of_const_with_titles() -> None:
    errors = validate_form(SCHEMA, valid_data(chair="court"), CONTEXT)
    assert errors == {"chair": '"主持方"的取值不在允许范围内（可选：赔偿权利人指定部门、中立第三方）'}


def test_ranges_and_lengths() -> None:
    data = valid_data(meeting_count=4, remark="一二三四五六七八九十十一", obligors=[])
    errors = validate_form(SCHEMA, data, CONTEXT)
    assert errors == {
        "meeting_count": '"磋商次数"不得大于 3',
        "remark": '"备注"最多 10 个字符',
        "obligors": '"赔偿义务人"至少应填写 1 项',
    }


def test_nested_array_items() -> None:
    data = valid_data(obligors=[{"name": "甲"}, {"uscc": VALID_USCC[1]}, {"name": "丙", "uscc": "X"}])
    errors = validate_form(SCHEMA, data, CONTEXT)
    assert errors["obligors.1.name"] == '"赔偿义务人 第2项 名称"为必填项'
    assert errors["obligors.2.uscc"].startswith('"赔偿义务人 第3项 统一社会信用代码"')
    assert set(errors) == {"obligors.1.name", "obligors.2.uscc"}


def test_additional_properties_refused() -> None:
    data = valid_data(hack=1)
    data["obligors"] = [{"name": "甲", "role": "x"}]
    errors = validate_form(SCHEMA, data, CONTEXT)
    assert errors == {
        "hack": '"hack"不是本表单的字段，不能提交',
        "obligors.0.role": '"赔偿义务人 第1项 role"不是本表单的字段，不能提交',
    }


def test_not_before_a_context_date() -> None:
    errors = validate_form(SCHEMA, valid_data(meeting_date="2026-07-02"), CONTEXT)
    assert errors == {"meeting_date": '"磋商会议日期"不得早于送达日期（2026-07-03）'}
    assert validate_form(SCHEMA, valid_data(meeting_date="2026-07-03"), CONTEXT) == {}
    # Without the fact in the context there is nothing to compare with.
    assert validate_form(SCHEMA, valid_data(meeting_date="2026-07-02")) == {}


def test_not_before_another_field() -> None:
    errors = validate_form(SCHEMA, valid_data(next_meeting_date="2026-07-09"), CONTEXT)
    assert errors == {"next_meeting_date": '"下次会议日期"不得早于磋商会议日期（2026-07-10）'}
    assert validate_form(SCHEMA, valid_data(next_meeting_date="2026-07-10"), CONTEXT) == {}


def test_date_order_in_nested_items_against_form_field_and_context() -> None:
    late = valid_data(obligors=[{"name": "甲", "notified_on": "2026-07-11"}])
    assert validate_form(SCHEMA, late, CONTEXT) == {
        "obligors.0.notified_on": '"赔偿义务人 第1项 告知日期"不得晚于磋商会议日期（2026-07-10）'
    }
    early = valid_data(obligors=[{"name": "甲", "notified_on": "2026-04-30"}])
    assert validate_form(SCHEMA, early, CONTEXT) == {
        "obligors.0.notified_on": '"赔偿义务人 第1项 告知日期"不得早于发现日期（2026-05-01）'
    }


def test_date_order_is_not_checked_on_a_malformed_date() -> None:
    errors = validate_form(SCHEMA, valid_data(meeting_date="2026-7-1"), CONTEXT)
    assert errors == {"meeting_date": '"磋商会议日期"应为日期，格式为 YYYY-MM-DD，例如 2026-07-03'}


def test_required_if_enum_value() -> None:
    errors = validate_form(SCHEMA, valid_data(restorability="partially_restorable"), CONTEXT)
    assert errors == {
        "restorable_area": '"可修复面积"为必填项（可修复性为部分可修复时）',
        "restoration_requirements": '"修复要求"为必填项（可修复性为部分可修复时）',
    }
    errors = validate_form(SCHEMA, valid_data(restorability="restorable"), CONTEXT)
    assert list(errors) == ["restoration_requirements"]
    assert validate_form(SCHEMA, valid_data(restorability="not_restorable"), CONTEXT) == {}
    filled = valid_data(
        restorability="partially_restorable", restorable_area=12.5, restoration_requirements="复绿"
    )
    assert validate_form(SCHEMA, filled, CONTEXT) == {}


def test_required_if_boolean() -> None:
    errors = validate_form(SCHEMA, valid_data(approved=False), CONTEXT)
    assert errors == {"rejection_reason": '"不批准理由"为必填项（是否批准为否时）'}
    assert validate_form(SCHEMA, valid_data(approved=True), CONTEXT) == {}
    assert validate_form(SCHEMA, valid_data(approved=False, rejection_reason="证据不足"), CONTEXT) == {}


def test_required_if_does_not_treat_zero_as_false() -> None:
    schema = {
        "type": "object",
        "properties": {
            "n": {"type": "integer", "title": "数量"},
            "why": {"type": "string", "title": "说明"},
        },
        "if": {"properties": {"n": {"const": False}}, "required": ["n"]},
        "then": {"required": ["why"]},
    }
    assert validate_form(schema, {"n": 0}) == {}


def test_ref_and_nullable_union() -> None:
    schema = {
        "type": "object",
        "$defs": {"money": {"type": "string", "format": "money", "title": "金额"}},
        "properties": {
            "paid": {"$ref": "#/$defs/money", "title": "已缴金额"},
            "due": {"$ref": "#/$defs/money"},
            "paid_on": {
                "title": "缴款日期",
                "oneOf": [{"type": "null"}, {"type": "string", "format": "date"}],
            },
            "tags": {
                "type": "array",
                "title": "标签",
                "items": {"enum": ["a", "b"], "x-enum-labels": ["甲", "乙"]},
            },
        },
    }
    assert validate_form(schema, {"paid": "1", "due": "2", "paid_on": None, "tags": ["a"]}) == {}
    assert validate_form(schema, {"paid": "x", "due": "y", "paid_on": "2026-13-01", "tags": ["a", "c"]}) == {
        "paid": '"已缴金额"应为不小于0、最多两位小数的金额，例如 12345.60',
        "due": '"金额"应为不小于0、最多两位小数的金额，例如 12345.60',
        "paid_on": '"缴款日期"不是有效的日期（2026-13-01）',
        "tags.1": '"标签 第2项"的取值不在允许范围内（可选：甲、乙）',
    }


def test_untitled_fields_are_named_by_key_and_root_errors_by_form() -> None:
    schema = {"type": "object", "required": ["case_no"], "properties": {"case_no": {"type": "string"}}}
    assert validate_form(schema, {}) == {"case_no": '"case_no"为必填项'}
    assert validate_form(schema, []) == {"": '"表单"应为一组字段'}  # type: ignore[arg-type]


def test_pattern_message() -> None:
    schema = {
        "type": "object",
        "properties": {
            "court_case_no": {
                "type": "string",
                "title": "法院案号",
                "pattern": r"^（\d{4}）",
                "x-pattern-message": "应以（年份）开头，例如（2026）",
            },
            "code": {"type": "string", "title": "编号", "pattern": "^[A-Z]+$"},
        },
    }
    assert validate_form(schema, {"court_case_no": "2026民初1号", "code": "a"}) == {
        "court_case_no": '"法院案号"应以（年份）开头，例如（2026）',
        "code": '"编号"格式不正确',
    }


def test_check_form_schema_problems() -> None:
    problems = check_form_schema(
        {
            "type": "object",
            "properties": {
                "a": {"type": "string", "format": "email", "x-not-before": "nowhere"},
                "b": {"enum": [1, 2], "x-enum-labels": ["一"]},
                "c": {"type": "string", "x-required-if": {"field": "b"}},
                "d": {"enum": [1, 2], "x-enum-labels": ["一", "二"],
                      "oneOf": [{"const": 1, "title": "一"}, {"const": 2, "title": "两"}]},
            },
            "required": ["e"],
            "if": {"properties": {"f": {"const": 1}}},
            "then": {"required": ["g"]},
            "dependentRequired": {"a": ["h"]},
        }
    )
    assert len(problems) == 9, problems
    assert any("email" in p for p in problems)
    assert any("nowhere" in p for p in problems)
    assert any("x-enum-labels 的个数" in p for p in problems)
    assert "c：不支持的扩展关键字“x-required-if”（条件必填请改用 if/then + required）" in problems
    assert any(p.startswith("d：oneOf") for p in problems)
    assert {p for p in problems if p.startswith("根：")} == {
        "根：required 中的“e”不是本对象的字段", "根：if 中的“f”不是本对象的字段", "根：then 中的“g”不是本对象的字段",
        "根：dependentRequired 中的“h”不是本对象的字段"}
    assert check_form_schema({"type": "objec"})[0].startswith("不是有效的 JSON Schema")


def test_dependent_required() -> None:
    schema = {
        "type": "object",
        "properties": {"court": {"type": "string", "title": "法院"}, "court_case_no": {"type": "string", "title": "案号"}},
        "dependentRequired": {"court": ["court_case_no"]},
    }
    assert validate_form(schema, {}) == {}
    assert validate_form(schema, {"court": "福州市中级人民法院"}) == {"court_case_no": '"案号"为必填项（已填写法院时）'}
    assert validate_form(schema, {"court": "福州市中级人民法院", "court_case_no": "（2026）闽01民初1号"}) == {}


def test_conditional_requirement_in_array_items_names_the_item() -> None:
    schema = {
        "type": "object",
        "properties": {"obligors": {"type": "array", "title": "赔偿义务人", "items": {
            "type": "object",
            "properties": {
                "kind": {"type": "string", "title": "类型", "enum": ["company", "person"],
                         "oneOf": [{"const": "company", "title": "单位"}, {"const": "person", "title": "自然人"}]},
                "uscc": {"type": "string", "title": "统一社会信用代码", "format": "uscc"}},
            "allOf": [{"if": {"properties": {"kind": {"const": "company"}}, "required": ["kind"]},
                       "then": {"required": ["uscc"]}}]}}},
    }
    assert validate_form(schema, {"obligors": [{"kind": "person"}, {"kind": "company"}]}) == {
        "obligors.1.uscc": '"赔偿义务人 第2项 统一社会信用代码"为必填项（类型为单位时）'}


# --- bounds --------------------------------------------------------------------------------------------

BOUNDS: dict[str, Any] = {
    "type": "object",
    "properties": {
        "on": {"type": "string", "title": "日期", "format": "date"},
        "due": {"type": "string", "title": "期限", "format": "date", "pattern": DATE_PATTERN},
        "paid": {"type": "string", "title": "金额", "format": "money"},
        "total": {"type": "string", "title": "合计", "format": "money", "pattern": MONEY_PATTERN},
        "name": {"type": "string", "title": "名称", "pattern": TEXT_PATTERN},
    },
}


@pytest.mark.parametrize("day", ["0001-01-01", "1949-09-30", "2101-01-01", "9999-12-31"])
def test_dates_out_of_range_are_refused_by_format_and_by_pattern(day: str) -> None:
    assert validate_form(BOUNDS, {"on": day, "due": day}) == {
        "on": '"日期"应在 1949-10-01 至 2100-12-31 之间', "due": '"期限"应在 1949-10-01 至 2100-12-31 之间'}


@pytest.mark.parametrize("day", ["1949-10-01", "2026-07-03", "2100-12-31"])
def test_dates_in_range_pass(day: str) -> None:
    assert validate_form(BOUNDS, {"on": day, "due": day}) == {}


def test_a_malformed_date_keeps_the_format_message_under_the_pattern() -> None:
    assert validate_form(BOUNDS, {"due": "2026/07/03"}) == {"due": '"期限"应为日期，格式为 YYYY-MM-DD，例如 2026-07-03'}
    assert validate_form(BOUNDS, {"due": "2026-02-30"}) == {"due": '"期限"不是有效的日期（2026-02-30）'}


def test_money_below_one_trillion() -> None:
    assert validate_form(BOUNDS, {"paid": "999999999999.99", "total": "999999999999.99"}) == {}
    assert validate_form(BOUNDS, {"paid": "1000000000000", "total": "1000000000000.00"}) == {
        "paid": '"金额"应小于1万亿元（整数部分最多12位）', "total": '"合计"应小于1万亿元（整数部分最多12位）'}
    assert validate_form(BOUNDS, {"total": "-1"}) == {"total": '"合计"应为不小于0、最多两位小数的金额，例如 12345.60'}
    assert not is_valid_money("1000000000000")


@pytest.mark.parametrize("text", ["\u200b", " \u200b\u200c\u200d\ufeff ", "\u2060", "\u3000\u00a0", "\x01"])
def test_a_name_of_invisible_characters_only_is_refused(text: str) -> None:
    assert validate_form(BOUNDS, {"name": text}) == {"name": '"名称"不能只由空白或不可见字符组成'}


@pytest.mark.parametrize("control", ["\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068",
                                     "\u2069"])
def test_a_name_with_a_bidi_control_is_refused(control: str) -> None:
    assert validate_form(BOUNDS, {"name": f"某化工{control}公司"}) == {
        "name": '"名称"不能含有文字方向控制字符（U+202A–U+202E、U+2066–U+2069）'}


@pytest.mark.parametrize("text", ["福州某化工有限公司", " 某公司 ", "第一\n第二", "Ｘ公司", "a\u200bb"])
def test_ordinary_names_pass(text: str) -> None:
    assert validate_form(BOUNDS, {"name": text}) == {}


# --- partial validation and data offered for a form ------------------------------------------------------


def test_partial_validation_ignores_only_what_is_missing() -> None:
    assert validate_form(SCHEMA, {}, CONTEXT, partial=True) == {}
    assert validate_form(SCHEMA, {"approved": False}, CONTEXT, partial=True) == {}
    assert validate_form(SCHEMA, {"amount": "x", "hack": 1}, CONTEXT, partial=True) == {
        "amount": '"赔偿金额"应为不小于0、最多两位小数的金额，例如 12345.60', "hack": '"hack"不是本表单的字段，不能提交'}


def test_offered_keeps_the_forms_fields_in_the_forms_types() -> None:
    source = {
        "meeting_date": "2026-07-10", "outcome": "agreed", "case_id": 7, "remark": None, "meeting_count": "3",
        "amount": "12345.60", "approved": True,
        "obligors": [{"id": 3, "name": "某化工有限公司", "uscc": VALID_USCC[0], "id_number": None, "released": False},
                     "not an obligor", {"name": "张某", "id_number": VALID_ID[0]}],
    }
    assert offered(SCHEMA, source, CONTEXT) == {
        "meeting_date": "2026-07-10", "outcome": "agreed", "amount": "12345.60", "approved": True,
        "obligors": [{"name": "某化工有限公司", "uscc": VALID_USCC[0]}, {"name": "张某", "id_number": VALID_ID[0]}],
    }


def test_offered_leaves_out_values_the_form_would_refuse() -> None:
    source = {"meeting_date": "2026-07-01", "outcome": "maybe", "remark": "一二三四五六七八九十十一", "amount": "1",
              "meeting_date_typo": "x", "obligors": [{"name": "甲", "uscc": "91350100M000100Y44"}, {"name": "乙"}]}
    got = offered(SCHEMA, source, CONTEXT)
    assert got == {"amount": "1", "obligors": [{"name": "甲"}, {"name": "乙"}]}  # 2026-07-01 is before 送达日期
    assert validate_form(SCHEMA, got, CONTEXT, partial=True) == {}
    assert offered(SCHEMA, {"meeting_date": date(2026, 7, 10)}, CONTEXT) == {"meeting_date": "2026-07-10"}
