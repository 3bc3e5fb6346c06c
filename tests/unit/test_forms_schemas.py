"""Every task form in bpmn/forms: a valid JSON Schema 2020-12 that says its rules in standard keywords, with sane
bounds — dates between 1949-10-01 and 2100-12-31, amounts non-negative and below 1万亿元 (what form 5 can print),
a maximum length on every text, titles and names that cannot be invisible or reordered by bidi controls — each
refusal a Chinese message naming the field."""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from engine.documents import amounts
from engine.forms.validation import (
    DATE_PATTERN,
    MONEY_LIMIT,
    MONEY_PATTERN,
    TEXT_PATTERN,
    check_form_schema,
    validate_form,
)

FORMS_DIR = Path(__file__).resolve().parents[2] / "bpmn" / "forms"
FORMS: dict[str, dict[str, Any]] = {
    path.stem: json.loads(path.read_text(encoding="utf-8")) for path in sorted(FORMS_DIR.glob("*.json"))
}
#: the ``x-`` keywords a form may carry (engine/forms/validation.py says why each has no standard equivalent)
EXTENSIONS = {"x-not-before", "x-not-after", "x-context-labels", "x-widget", "x-enum-labels"}

#: the titles and names: at least one visible character, no bidi control (TEXT_PATTERN)
TITLES_AND_NAMES: dict[str, set[str]] = {
    "apply_enforcement": {"enforcement_court", "agent_name", "defaulting_obligors"},
    "choose_assessment_method": {"institution"},
    "conduct_investigation": {"investigators", "evidence.0.title"},
    "draft_agreement": {"agreement_name"},
    "evaluate_restoration_effect": {"evaluator"},
    "file_lawsuit": {"lawsuit_court"},
    "message_court_notice_received": {"court"},
    "message_pil_case_accepted": {"court", "case_number"},
    "notify_court_procuratorate": {"court", "procuratorate"},
    "prepare_consultation": {"team_claimant", "cause", "delegated_to"},
    "record_assessment_result": {"report_title", "experts.0"},
    "record_compensation_payment": {"payer", "receipt_number"},
    "record_consultation_meeting": {"chair", "participants"},
    "record_judgment": {"judgment_number"},
    "record_judicial_confirmation": {"court", "confirmation_number"},
    "record_notice_service": {"receiver"},
    "record_restoration_plan": {"restorer"},
    "register_claim_start": {"cause", "obligors.0.name"},
    "register_lead": {"title", "obligors.0.name"},
    "report_performance_to_authorities": {"reported_to"},
    "sign_agreement": {"confirmation_court", "local_rules"},
}


def fields(node: dict[str, Any], path: tuple[str | int, ...] = (), labels: tuple[str, ...] = ()) \
        -> Iterator[tuple[tuple[str | int, ...], str, dict[str, Any]]]:
    """(path, the field's name as messages give it, schema) of every property, array items as item 0."""
    for name, sub in (node.get("properties") or {}).items():
        here, label = (*path, name), (*labels, sub.get("title", name))
        yield here, " ".join(label), sub
        if sub.get("type") == "object":
            yield from fields(sub, here, label)
        items = sub.get("items")
        if isinstance(items, dict):
            yield (*here, 0), " ".join((*label, "第1项")), items
            if items.get("type") == "object":
                yield from fields(items, (*here, 0), (*label, "第1项"))


def data_at(path: tuple[str | int, ...], value: Any) -> Any:
    """The smallest form data holding ``value`` at ``path``."""
    for segment in reversed(path):
        value = [value] if isinstance(segment, int) else {segment: value}
    return value


def key(path: tuple[str | int, ...]) -> str:
    return ".".join(str(p) for p in path)


ALL_FIELDS = [(form, path, label, sub) for form, schema in FORMS.items() for path, label, sub in fields(schema)]
DATES = [f for f in ALL_FIELDS if f[3].get("format") == "date"]
MONEY = [f for f in ALL_FIELDS if f[3].get("format") == "money"]
STRINGS = [f for f in ALL_FIELDS if f[3].get("type") == "string"]


def ids(items: list[tuple[str, tuple[str | int, ...], str, dict[str, Any]]]) -> list[str]:
    return [f"{form}:{key(path)}" for form, path, _, _ in items]


# --- standard JSON Schema --------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(FORMS))
def test_every_form_is_a_valid_2020_12_schema(name: str) -> None:
    schema = FORMS[name]
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    Draft202012Validator.check_schema(schema)
    assert check_form_schema(schema) == []
    assert schema["type"] == "object" and schema["additionalProperties"] is False


def _keys(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for k, v in node.items():
            yield k
            if k not in ("x-context-labels", "properties"):
                yield from _keys(v)
            elif k == "properties":
                for sub in v.values():
                    yield from _keys(sub)
    elif isinstance(node, list):
        for v in node:
            yield from _keys(v)


@pytest.mark.parametrize("name", sorted(FORMS))
def test_only_the_documented_extensions(name: str) -> None:
    custom = {k for k in _keys(FORMS[name]) if k.startswith("x-")}
    assert custom <= EXTENSIONS, custom - EXTENSIONS


@pytest.mark.parametrize(("form", "path", "label", "sub"), [f for f in ALL_FIELDS if "enum" in f[3]],
                         ids=ids([f for f in ALL_FIELDS if "enum" in f[3]]))
def test_enum_values_are_labelled_the_standard_way(form: str, path: Any, label: str, sub: dict[str, Any]) -> None:
    """``oneOf`` of ``const`` + ``title``; ``x-enum-labels`` (read by engine/documents/context.py) says the same."""
    assert [o["const"] for o in sub["oneOf"]] == sub["enum"]
    assert all(isinstance(o["title"], str) and o["title"] for o in sub["oneOf"])
    assert [o["title"] for o in sub["oneOf"]] == sub["x-enum-labels"]


def test_conditional_requirements_are_if_then() -> None:
    """The conditions the forms had as ``x-required-if`` are now ``if``/``then``: each still applies."""
    cases = [
        ("register_claim_start", {"cause": "x", "case_summary": "y", "obligors": [{"name": "甲", "kind": "company",
                                                                                    "address": "福州"}]},
         {"obligors.0.uscc": '"赔偿义务人 第1项 统一社会信用代码"为必填项（类型为单位时）'}),
        ("register_lead", {"obligors": [{"name": "乙", "kind": "person", "address": "福州"}]},
         {"obligors.0.id_number": '"赔偿义务人 第1项 公民身份证号码"为必填项（类型为自然人时）'}),
        ("record_assessment_result", {"restorability": "partially_restorable"},
         {"restorable_area": '"可以修复的区域范围"为必填项（损害是否可以修复为部分可以修复时）'}),
        ("report_performance_to_authorities", {"report_needed": True},
         {"reported_to": '"通报机关"为必填项（是否通报为是时）', "reported_on": '"通报日期"为必填项（是否通报为是时）'}),
        ("sign_agreement", {"signed_on": "2026-07-01", "apply_judicial_confirmation": True},
         {"local_rules": '"本地实施方案、办法名称"为必填项（是否申请司法确认为是时）'}),
        ("choose_assessment_method", {"assessment_method": "joint_institution"},
         {"institution": '"鉴定评估机构"为必填项（鉴定评估方式为与赔偿义务人共同委托时）'}),
    ]
    for form, data, expected in cases:
        problems = validate_form(FORMS[form], data)
        for field, message in expected.items():
            assert problems.get(field) == message, (form, field, problems)
    assert "reported_to" not in validate_form(FORMS["report_performance_to_authorities"], {"report_needed": False})


# --- bounds ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("form", "path", "label", "sub"), DATES, ids=ids(DATES))
def test_every_date_is_between_1949_and_2100(form: str, path: Any, label: str, sub: dict[str, Any]) -> None:
    assert sub.get("pattern") == DATE_PATTERN  # standard tools see the bound too
    for day in ("0001-01-01", "1949-09-30", "2101-01-01", "9999-12-31"):
        problems = validate_form(FORMS[form], data_at(path, day))
        assert problems.get(key(path)) == f'"{label}"应在 1949-10-01 至 2100-12-31 之间', (day, problems)
    for day in ("1949-10-01", "2100-12-31"):
        assert key(path) not in validate_form(FORMS[form], data_at(path, day))


@pytest.mark.parametrize(("form", "path", "label", "sub"), MONEY, ids=ids(MONEY))
def test_every_amount_is_non_negative_and_printable(form: str, path: Any, label: str, sub: dict[str, Any]) -> None:
    assert sub.get("pattern") == MONEY_PATTERN
    schema = FORMS[form]
    too_much = validate_form(schema, data_at(path, "1000000000000.00"))
    assert too_much.get(key(path)) == f'"{label}"应小于1万亿元（整数部分最多12位）'
    negative = validate_form(schema, data_at(path, "-1.00"))
    assert negative.get(key(path)) == f'"{label}"应为不小于0、最多两位小数的金额，例如 12345.60'
    largest = "999999999999.99"
    assert key(path) not in validate_form(schema, data_at(path, largest))
    assert amounts.rmb_upper(largest).startswith("人民币玖仟玖佰玖拾玖亿")  # form 5 can print what the form takes


def test_the_money_limit_is_what_form_5_can_print() -> None:
    with pytest.raises(ValueError):
        amounts.rmb_upper(MONEY_LIMIT)
    amounts.rmb_upper(MONEY_LIMIT - Decimal("0.01"))


@pytest.mark.parametrize(("form", "path", "label", "sub"), STRINGS, ids=ids(STRINGS))
def test_every_text_has_a_maximum_length(form: str, path: Any, label: str, sub: dict[str, Any]) -> None:
    limit = sub["maxLength"]
    assert 1 <= limit <= 5000
    if sub.get("x-widget") == "textarea":
        assert limit == 5000
    elif "enum" not in sub and "format" not in sub:
        assert limit <= 2000  # one line: a title, a name, a number, a place, a note
    text = "某" * (limit + 1)
    problem = validate_form(FORMS[form], data_at(path, text)).get(key(path))
    if "enum" in sub or "format" in sub:
        assert problem is not None  # refused as a wrong value before its length matters
    else:
        assert problem == f'"{label}"最多 {limit} 个字符'
        assert key(path) not in validate_form(FORMS[form], data_at(path, "某" * limit))


def test_integers_and_lists_are_bounded() -> None:
    for form, path, _label, sub in ALL_FIELDS:
        if sub.get("type") == "integer":
            assert "minimum" in sub and "maximum" in sub, (form, path)
        if sub.get("type") == "array":
            assert "maxItems" in sub, (form, path)


def test_the_table_of_titles_and_names_is_the_forms() -> None:
    carried = {form: {key(path) for f, path, _, sub in ALL_FIELDS if f == form and sub.get("pattern") == TEXT_PATTERN}
               for form in FORMS}
    assert {form: found for form, found in carried.items() if found} == TITLES_AND_NAMES


TITLE_FIELDS = [f for f in ALL_FIELDS if key(f[1]) in TITLES_AND_NAMES.get(f[0], set())]


@pytest.mark.parametrize(("form", "path", "label", "sub"), TITLE_FIELDS, ids=ids(TITLE_FIELDS))
def test_titles_and_names_must_be_visible_and_free_of_bidi_controls(form: str, path: Any, label: str,
                                                                  sub: dict[str, Any]) -> None:
    schema = FORMS[form]
    for invisible in ("\u200b", "\u200b\u200d\ufeff", " \u2060 ", "\u00ad\u3164"):
        problems = validate_form(schema, data_at(path, invisible))
        assert problems.get(key(path)) == f'"{label}"不能只由空白或不可见字符组成', (repr(invisible), problems)
    blank = validate_form(schema, data_at(path, "\u3000 "))  # whitespace only: missing where it is required
    assert blank.get(key(path)) in (f'"{label}"为必填项', f'"{label}"不能只由空白或不可见字符组成')
    for control in ("\u202e", "\u202a", "\u2066", "\u2069"):
        problems = validate_form(schema, data_at(path, f"福州{control}某公司"))
        assert problems.get(key(path)) == f'"{label}"不能含有文字方向控制字符（U+202A–U+202E、U+2066–U+2069）'
    assert key(path) not in validate_form(schema, data_at(path, "福州市中级人民法院"))
