"""Validation of what people type into task forms.

Task forms are JSON Schema (draft 2020-12) documents whose properties carry Chinese ``title``s.
:func:`validate_form` checks submitted data against such a schema and returns ``{field path: Chinese
message}`` — empty when the data is valid — so that a page can show each message next to its field and
nothing already typed is lost.  :func:`offered` trims data a task offers (its prefill) to what the form accepts.

Standard keywords carry the rules, so that any JSON Schema tool understands a form:

* ``required``, ``type``, ``enum``/``const``, ``minLength``/``maxLength``, ``pattern``, ``minimum``/``maximum``,
  ``minItems``/``maxItems``, ``uniqueItems``, ``additionalProperties``, ``$ref``/``$defs``, ``allOf``/``anyOf``/
  ``oneOf``/``not``;
* a conditional requirement is ``if``/``then`` (with ``required``), e.g. in the object that holds the fields
  ``"allOf": [{"if": {"properties": {"kind": {"const": "company"}}, "required": ["kind"]},
  "then": {"required": ["uscc"]}}]`` — the message says the condition: ``"统一社会信用代码"为必填项（类型为单位时）``;
  ``dependentRequired`` (field B needed once field A is filled) is understood as well;
* the Chinese label of each allowed value is ``"oneOf": [{"const": "company", "title": "单位"}, ...]`` (beside
  ``enum``);
* bounds are plain ``pattern``s, the same text on every field of a kind (:data:`DATE_PATTERN`: 1949-10-01 to
  2100-12-31; :data:`MONEY_PATTERN`: below 1万亿元, what form 5 can print in capitals; :data:`TEXT_PATTERN` on
  titles and names: not only invisible characters, no bidi controls U+202A–U+202E, U+2066–U+2069); this module
  knows them and says what is wrong in words instead of "格式不正确".

Formats (``"format": ...`` on string properties; a standard tool ignores an unknown format, so the patterns
above carry the bounds for it), checked by this module's own code:

* ``date`` — ``YYYY-MM-DD``, a real calendar date, between :data:`MIN_DATE` and :data:`MAX_DATE`;
* ``uscc`` — 统一社会信用代码, GB 32100-2015 check character (:func:`is_valid_uscc`);
* ``id-number`` — 居民身份证号码, GB 11643-1999 check digit and birth date (:func:`is_valid_id_number`);
* ``money`` — a non-negative amount below 1万亿元 with at most two decimals, e.g. ``"12345.60"``
  (:func:`is_valid_money`).

The only extensions — keywords starting with ``x-`` that change what is valid, because JSON Schema has no
way to compare two values:

* ``"x-not-before": "served_on"`` / ``"x-not-after": ...`` on a date property — the value must not be
  earlier (later) than another date: a field of the same object, else a field of the whole form, else a
  key of ``context`` (facts of the case such as ``found_on``, ``served_on``).  A list of names is allowed;
* ``"x-context-labels": {"served_on": "送达日期"}`` at the schema root — the Chinese names of those context keys.

Annotations that change nothing about validity (a standard tool may ignore them): ``"x-widget": "textarea"``
(a display hint), ``"x-pattern-message"`` (the message for a ``pattern`` of the form's own) and
``"x-enum-labels"`` (the labels of ``enum`` as a list; kept beside ``oneOf`` only while
``engine/documents/context.py`` reads it, and checked to say the same).  :func:`check_form_schema` refuses any
other ``x-`` keyword (``x-required-if`` is now ``if``/``then``).

Keys of the result are the field's path joined by dots (``"obligors.0.uscc"``); a message names the field
by its titles, array items numbered from 1: ``"赔偿义务人 第1项 统一社会信用代码"校验码不正确``.  Errors about
the form as a whole are keyed ``""``.  ``None`` or a blank string in a required field counts as missing.
A field gets one message: a missing value first, then an unknown field, a wrong type, a bad value, and last
a date-order violation.

:func:`check_form_schema` lists problems of a form schema itself (for analysts editing forms).

Everything here is pure: no database, no Flask.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker, ValidationError, validators
from jsonschema.exceptions import SchemaError, best_match

from engine.common.dates import as_date, parse_iso_date

__all__ = [
    "DATE_PATTERN",
    "KNOWN_FORMATS",
    "MAX_DATE",
    "MIN_DATE",
    "MONEY_LIMIT",
    "MONEY_PATTERN",
    "TEXT_PATTERN",
    "check_form_schema",
    "is_valid_id_number",
    "is_valid_money",
    "is_valid_uscc",
    "offered",
    "parse_money",
    "validate_form",
]

# --- bounds --------------------------------------------------------------------------------------------

#: The first and the last day a form accepts (no year 0001 or 9999: date arithmetic and documents break).
MIN_DATE = date(1949, 10, 1)
MAX_DATE = date(2100, 12, 31)
#: The same bounds as a pattern for standard tools (the ``date`` format checks the calendar day).
DATE_PATTERN = r"^(?:1949-1[0-2]|19[5-9][0-9]-[0-9]{2}|20[0-9]{2}-[0-9]{2}|2100-[0-9]{2})-[0-9]{2}$"
#: Amounts must stay below 1万亿元: ``engine.documents.amounts`` cannot write more in capitals (form 5).
MONEY_LIMIT = Decimal(10) ** 12
MONEY_PATTERN = r"^[0-9]{1,12}(?:\.[0-9]{1,2})?$"
#: Characters that show nothing (besides whitespace): controls, zero-width and filler characters, as a
#: regular-expression class body.
INVISIBLE_CLASS = r"\u0000-\u001f\u007f-\u009f\u00ad\u034f\u115f\u1160\u180e\u200b-\u200f\u2060-\u2064\u206a-\u206f\u3164\ufeff\uffa0"
#: Bidi embedding, override and isolate controls (they can make a title read differently from what it is).
BIDI_CLASS = r"\u202a-\u202e\u2066-\u2069"
#: Titles and names: at least one visible character and no bidi control.
TEXT_PATTERN = rf"^(?=[\s\S]*[^\s{INVISIBLE_CLASS}])[^{BIDI_CLASS}]*$"
_BIDI = re.compile(f"[{BIDI_CLASS}]")

# --- check characters ----------------------------------------------------------------------------------

_USCC_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_ID_SHAPE = re.compile(r"[0-9]{17}[0-9X]")
_MONEY = re.compile(r"[0-9]+(?:\.[0-9]{1,2})?")
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _uscc_problem(code: object) -> str | None:
    """None when valid; ``"shape"`` or ``"check"`` otherwise."""
    if not isinstance(code, str) or len(code) != 18 or any(c not in _USCC_CHARSET for c in code):
        return "shape"
    total = sum(_USCC_CHARSET.index(c) * w for c, w in zip(code[:17], _USCC_WEIGHTS, strict=True))
    expected = _USCC_CHARSET[(31 - total % 31) % 31]
    return None if code[17] == expected else "check"


def is_valid_uscc(code: str) -> bool:
    """统一社会信用代码 (GB 32100-2015): 18 characters from ``0123456789ABCDEFGHJKLMNPQRTUWXY`` (upper case)
    and the right check character."""
    return _uscc_problem(code) is None


def _id_number_problem(s: object) -> str | None:
    """None when valid; ``"shape"``, ``"birth"`` or ``"check"`` otherwise."""
    if not isinstance(s, str) or not _ID_SHAPE.fullmatch(s):
        return "shape"
    try:
        date(int(s[6:10]), int(s[10:12]), int(s[12:14]))
    except ValueError:
        return "birth"
    total = sum(int(c) * w for c, w in zip(s[:17], _ID_WEIGHTS, strict=True))
    return None if s[17] == _ID_CHECK[total % 11] else "check"


def is_valid_id_number(s: str) -> bool:
    """居民身份证号码 (GB 11643-1999): 17 digits, a real birth date in positions 7–14, and the check
    character (a digit or upper-case ``X``)."""
    return _id_number_problem(s) is None


def _money_problem(s: object) -> str | None:
    """None when valid; ``"shape"`` or ``"ceiling"`` otherwise."""
    if not isinstance(s, str) or _MONEY.fullmatch(s) is None:
        return "shape"
    return "ceiling" if Decimal(s) >= MONEY_LIMIT else None


def is_valid_money(s: str) -> bool:
    """A non-negative amount below 1万亿元 (:data:`MONEY_LIMIT`) with 0–2 decimals written plainly:
    ``"12345.60"``, ``"12345"``, ``"0.5"``. No sign, exponent, thousands separator, full-width digits or
    surrounding spaces."""
    return _money_problem(s) is None


def parse_money(s: str) -> Decimal:
    """The amount as a Decimal with exactly two places (``"12345.6"`` → ``Decimal("12345.60")``).
    Raises ValueError for anything :func:`is_valid_money` refuses."""
    if not is_valid_money(s):
        raise ValueError(f"不是有效的金额：{s!r}")
    return Decimal(s).quantize(Decimal("0.01"))


# --- the format checker --------------------------------------------------------------------------------

_FORMAT_CHECKER = FormatChecker(formats=())


def _date_problem(instance: object) -> str | None:
    """None when valid; ``"shape"``, ``"day"`` (no such calendar day) or ``"range"`` otherwise."""
    if not isinstance(instance, str) or not _ISO_DATE.fullmatch(instance):
        return "shape"
    day = parse_iso_date(instance)
    if day is None:
        return "day"
    return None if MIN_DATE <= day <= MAX_DATE else "range"


def _check_date(instance: object) -> bool:
    return not isinstance(instance, str) or _date_problem(instance) is None


def _check_uscc(instance: object) -> bool:
    return not isinstance(instance, str) or _uscc_problem(instance) is None


def _check_id_number(instance: object) -> bool:
    return not isinstance(instance, str) or _id_number_problem(instance) is None


def _check_money(instance: object) -> bool:
    return not isinstance(instance, str) or _money_problem(instance) is None


_FORMAT_CHECKER.checks("date")(_check_date)
_FORMAT_CHECKER.checks("uscc")(_check_uscc)
_FORMAT_CHECKER.checks("id-number")(_check_id_number)
_FORMAT_CHECKER.checks("money")(_check_money)

#: The formats :func:`validate_form` checks.
KNOWN_FORMATS: frozenset[str] = frozenset(_FORMAT_CHECKER.checkers)

# --- schema helpers ------------------------------------------------------------------------------------

_MISSING = object()


def _resolve(root: Mapping[str, Any], schema: Any) -> Any:
    """Follow a local ``$ref`` (``#/$defs/...``); anything else is returned as is."""
    seen = 0
    while isinstance(schema, Mapping) and isinstance(schema.get("$ref"), str) and seen < 20:
        ref: str = schema["$ref"]
        if not ref.startswith("#"):
            return schema
        target: Any = root
        for part in ref[1:].split("/")[1:] if ref != "#" else []:
            part = part.replace("~1", "/").replace("~0", "~")
            if isinstance(target, Mapping) and part in target:
                target = target[part]
            elif isinstance(target, list) and part.isdigit() and int(part) < len(target):
                target = target[int(part)]
            else:
                return schema
        schema = target
        seen += 1
    return schema


def _title(root: Mapping[str, Any], schema: Any) -> str | None:
    for candidate in (schema, _resolve(root, schema)):
        if isinstance(candidate, Mapping) and isinstance(candidate.get("title"), str) and candidate["title"]:
            title: str = candidate["title"]
            return title
    return None


def _property_schema(root: Mapping[str, Any], schema: Any, name: str, depth: int = 0) -> Any:
    """The subschema of property ``name`` in an object schema (looking into allOf/anyOf/oneOf/if/then/
    else too), or ``_MISSING``."""
    schema = _resolve(root, schema)
    if not isinstance(schema, Mapping) or depth > 10:
        return _MISSING
    props = schema.get("properties")
    if isinstance(props, Mapping) and name in props:
        return props[name]
    for key in ("allOf", "anyOf", "oneOf"):
        for sub in schema.get(key) or ():
            found = _property_schema(root, sub, name, depth + 1)
            if found is not _MISSING:
                return found
    for key in ("if", "then", "else"):
        if key in schema:
            found = _property_schema(root, schema[key], name, depth + 1)
            if found is not _MISSING:
                return found
    patterns = schema.get("patternProperties")
    if isinstance(patterns, Mapping):
        for pattern, sub in patterns.items():
            if re.search(pattern, name):
                return sub
    additional = schema.get("additionalProperties")
    if isinstance(additional, Mapping):
        return additional
    return _MISSING


def _item_schema(root: Mapping[str, Any], schema: Any, index: int) -> Any:
    schema = _resolve(root, schema)
    if not isinstance(schema, Mapping):
        return _MISSING
    prefix = schema.get("prefixItems")
    if isinstance(prefix, list) and index < len(prefix):
        return prefix[index]
    items = schema.get("items")
    return items if isinstance(items, Mapping) else _MISSING


def _field_label(root: Mapping[str, Any], path: Sequence[str | int]) -> str:
    """``"赔偿义务人 第1项 统一社会信用代码"`` for the path ``["obligors", 0, "uscc"]``."""
    parts: list[str] = []
    schema: Any = root
    for segment in path:
        if isinstance(segment, int):
            parts.append(f"第{segment + 1}项")
            schema = _item_schema(root, schema, segment)
        else:
            schema = _property_schema(root, schema, segment)
            title = _title(root, schema) if schema is not _MISSING else None
            parts.append(title or segment)
    return " ".join(parts) if parts else "表单"


def _value_label(schema: Any, value: Any, root: Mapping[str, Any]) -> str:
    """The Chinese label of one allowed value of a property (from x-enum-labels or oneOf const+title)."""
    schema = _resolve(root, schema)
    if isinstance(schema, Mapping):
        for option_value, label in _options(schema, root):
            if _same(option_value, value):
                return label
    return _plain(value)


def _plain(value: Any) -> str:
    if isinstance(value, bool):
        return "是" if value else "否"
    if value is None:
        return "空"
    return str(value)


def _same(a: Any, b: Any) -> bool:
    """JSON equality: ``True`` is not ``1``."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    return bool(a == b)


def _options(schema: Mapping[str, Any], root: Mapping[str, Any]) -> list[tuple[Any, str]]:
    """(value, label) of each allowed value from ``oneOf``/``anyOf`` of ``const`` + ``title`` (the standard
    way), else ``enum`` + ``x-enum-labels``; empty when the schema does not enumerate its values."""
    for key in ("oneOf", "anyOf"):
        subs = schema.get(key)
        if isinstance(subs, list) and subs:
            resolved = [_resolve(root, s) for s in subs]
            if all(isinstance(s, Mapping) and "const" in s for s in resolved):
                return [(s["const"], str(s.get("title") or _plain(s["const"]))) for s in resolved]
    enum = schema.get("enum")
    if isinstance(enum, list):
        labels = schema.get("x-enum-labels")
        if isinstance(labels, list) and len(labels) == len(enum):
            return [(v, str(label)) for v, label in zip(enum, labels, strict=True)]
        if isinstance(labels, Mapping):
            return [(v, str(labels.get(str(v), _plain(v)))) for v in enum]
        return [(v, _plain(v)) for v in enum]
    return []


def enum_labels(form: Mapping[str, Any], path: str) -> dict[str, str]:
    """The Chinese label of each allowed value of the field at ``path`` (``"lead_source"``, ``"obligations.kind"``:
    dots go into object properties, through array items), so pages and documents print what the form shows."""
    schema: Any = form
    for segment in path.split("."):
        schema = _resolve(form, schema)
        while isinstance(schema, Mapping) and schema.get("type") == "array" and isinstance(schema.get("items"), Mapping):
            schema = _resolve(form, schema["items"])
        if not isinstance(schema, Mapping):
            return {}
        schema = (schema.get("properties") or {}).get(segment)
    schema = _resolve(form, schema)
    while isinstance(schema, Mapping) and schema.get("type") == "array" and isinstance(schema.get("items"), Mapping):
        schema = _resolve(form, schema["items"])
    if not isinstance(schema, Mapping):
        return {}
    return {str(value): label for value, label in _options(schema, form)}


def _names(value: Any) -> list[str]:
    """A field name or a list of them (for x-not-before/x-not-after)."""
    if isinstance(value, str):
        return [value]
    return [str(v) for v in value] if isinstance(value, list) else []


def _is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _as_date(value: Any) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        parsed = parse_iso_date(value.strip())
        if parsed is not None:
            return parsed
        if "T" in value:
            try:
                return as_date(value)
            except ValueError:
                return None
    return None


# --- the validator -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _State:
    root_schema: Mapping[str, Any]
    root_data: Any
    context: Mapping[str, Any]


_STATE: ContextVar[_State] = ContextVar("engine_validation_state")
_BASE_KEYWORDS: Mapping[str, Any] = Draft202012Validator.VALIDATORS


def _lookup(name: str, instance: Mapping[str, Any], schema: Mapping[str, Any]) -> tuple[Any, str] | None:
    """The value and label of another field: same object, else whole form, else ``context``; the first
    place where it has a value."""
    state = _STATE.get()
    root = state.root_schema
    sources: list[tuple[Any, Any]] = [(instance, schema)]
    if state.root_data is not instance:
        sources.append((state.root_data, root))
    for data, data_schema in sources:
        if isinstance(data, Mapping) and not _is_blank(data.get(name)):
            sub = _property_schema(root, data_schema, name)
            return data[name], (_title(root, sub) if sub is not _MISSING else None) or name
    if not _is_blank(state.context.get(name)):
        labels = root.get("x-context-labels")
        label = labels.get(name) if isinstance(labels, Mapping) else None
        return state.context[name], str(label or name)
    return None


def _conditions(if_schema: Any, instance: Any) -> list[tuple[str, Any]]:
    """The (field, value) pairs an ``if`` that held was about: the fields it constrains to a value."""
    if not isinstance(instance, Mapping) or not isinstance(if_schema, Mapping):
        return []
    props = if_schema.get("properties")
    if not isinstance(props, Mapping):
        return []
    return [(name, instance[name]) for name, sub in props.items()
            if isinstance(sub, Mapping) and ("const" in sub or "enum" in sub) and name in instance]


def _date_order(
    prop: str, sub: Mapping[str, Any], instance: Mapping[str, Any], schema: Mapping[str, Any]
) -> Iterator[Any]:
    value = instance.get(prop)
    mine = parse_iso_date(value) if isinstance(value, str) else None
    if mine is None:
        return
    for keyword, word in (("x-not-before", "早于"), ("x-not-after", "晚于")):
        for name in _names(sub.get(keyword)):
            other = _lookup(name, instance, schema)
            if other is None:
                continue
            theirs = _as_date(other[0])
            if theirs is None:
                continue
            if (mine < theirs) if keyword == "x-not-before" else (mine > theirs):
                yield ValidationError(
                    f"不得{word}{other[1]}（{theirs.isoformat()}）", validator=keyword, path=[prop]
                )
                break


def _kw_properties(validator: Any, properties: Any, instance: Any, schema: Any) -> Iterator[Any]:
    yield from _BASE_KEYWORDS["properties"](validator, properties, instance, schema)
    if not isinstance(instance, Mapping) or not isinstance(properties, Mapping):
        return
    for prop, sub in properties.items():
        if isinstance(sub, Mapping) and ("x-not-before" in sub or "x-not-after" in sub):
            yield from _date_order(prop, sub, instance, schema)


def _kw_required(validator: Any, required: Any, instance: Any, schema: Any) -> Iterator[Any]:
    if not isinstance(instance, Mapping):
        return
    for prop in required:
        if _is_blank(instance.get(prop)):
            yield ValidationError("为必填项", validator="required", path=[prop])


def _kw_if(validator: Any, if_schema: Any, instance: Any, schema: Any) -> Iterator[Any]:
    """Standard ``if``/``then``/``else``. A field the applying branch requires is tagged with the condition
    that held, so that the message can say it: ``"统一社会信用代码"为必填项（类型为单位时）``."""
    if validator.evolve(schema=if_schema).is_valid(instance):
        branch, name, when = schema.get("then"), "then", _conditions(if_schema, instance)
    else:
        branch, name, when = schema.get("else"), "else", []
    if branch is None:
        return
    for error in validator.descend(instance, branch, schema_path=name):
        if error.validator == "required" and len(error.path) == 1 and when:
            error.eco_when = when
        yield error


def _kw_dependent_required(validator: Any, dependent: Any, instance: Any, schema: Any) -> Iterator[Any]:
    """Standard ``dependentRequired``: once a field is filled, the fields it names are required."""
    if not isinstance(instance, Mapping) or not isinstance(dependent, Mapping):
        return
    for prop, needed in dependent.items():
        if _is_blank(instance.get(prop)):
            continue
        for each in needed:
            if _is_blank(instance.get(each)):
                error: Any = ValidationError("为必填项", validator="required", path=[each])
                error.eco_filled = prop
                yield error


def _kw_nothing(validator: Any, value: Any, instance: Any, schema: Any) -> Iterator[Any]:
    return iter(())


def _kw_additional_properties(validator: Any, ap: Any, instance: Any, schema: Any) -> Iterator[Any]:
    if ap is not False or not isinstance(instance, Mapping):
        yield from _BASE_KEYWORDS["additionalProperties"](validator, ap, instance, schema)
        return
    props = schema.get("properties") or {}
    patterns = schema.get("patternProperties") or {}
    for key in instance:
        if key in props or any(re.search(p, key) for p in patterns):
            continue
        yield ValidationError("不是本表单的字段，不能提交", path=[key])


_KEYWORDS: dict[str, Any] = {
    "properties": _kw_properties,
    "required": _kw_required,
    "if": _kw_if,
    "dependentRequired": _kw_dependent_required,
    "additionalProperties": _kw_additional_properties,
}
_FormValidator: Any = validators.extend(Draft202012Validator, _KEYWORDS)
#: The same rules, but a missing field is no problem (data offered for a form, a draft).
_PartialValidator: Any = validators.extend(
    Draft202012Validator, {**_KEYWORDS, "required": _kw_nothing, "dependentRequired": _kw_nothing})

# --- messages ------------------------------------------------------------------------------------------

_DATE_MESSAGE = "应为日期，格式为 YYYY-MM-DD，例如 2026-07-03"
_DATE_RANGE_MESSAGE = f"应在 {MIN_DATE.isoformat()} 至 {MAX_DATE.isoformat()} 之间"
_MONEY_MESSAGE = "应为不小于0、最多两位小数的金额，例如 12345.60"
_MONEY_CEILING_MESSAGE = "应小于1万亿元（整数部分最多12位）"
_INVISIBLE_MESSAGE = "不能只由空白或不可见字符组成"
_BIDI_MESSAGE = "不能含有文字方向控制字符（U+202A–U+202E、U+2066–U+2069）"
_TYPE_MESSAGES = {
    "string": "应为文本",
    "boolean": "应为是/否",
    "integer": "应为整数",
    "number": "应为数字",
    "array": "应为列表",
    "object": "应为一组字段",
    "null": "应为空",
}
_PRIORITY = {"required": 0, "additionalProperties": 1, "type": 2}
_DATE_ORDER_PRIORITY = 4
_OTHER_PRIORITY = 3


def _format_tail(fmt: str, instance: Any) -> str:
    if fmt == "date":
        problem = _date_problem(instance)
        if problem == "range":
            return _DATE_RANGE_MESSAGE
        if problem == "day":
            return f"不是有效的日期（{instance}）"
        return _DATE_MESSAGE
    if fmt == "uscc":
        if _uscc_problem(instance) == "check":
            return "校验码不正确"
        return "应为18位统一社会信用代码，由数字和大写英文字母（不含 I、O、S、V、Z）组成"
    if fmt == "id-number":
        problem = _id_number_problem(instance)
        if problem == "check":
            return "校验码不正确"
        if problem == "birth":
            return "中的出生日期不正确"
        return "应为18位居民身份证号码，最后一位为数字或大写 X"
    if fmt == "money":
        return _MONEY_CEILING_MESSAGE if _money_problem(instance) == "ceiling" else _MONEY_MESSAGE
    return "格式不正确"


def _pattern_tail(pattern: Any, instance: Any, schema: Mapping[str, Any]) -> str:
    """The message for a failed ``pattern``: the bounds this module knows are said in words."""
    if pattern == DATE_PATTERN:
        shaped = isinstance(instance, str) and _ISO_DATE.fullmatch(instance)
        return _DATE_RANGE_MESSAGE if shaped else _format_tail("date", instance)
    if pattern == MONEY_PATTERN:
        shaped = isinstance(instance, str) and _MONEY.fullmatch(instance)
        return _MONEY_CEILING_MESSAGE if shaped else _MONEY_MESSAGE
    if pattern == TEXT_PATTERN:
        return _BIDI_MESSAGE if isinstance(instance, str) and _BIDI.search(instance) else _INVISIBLE_MESSAGE
    custom = schema.get("x-pattern-message")
    return str(custom) if custom else "格式不正确"


def _choices(options: list[tuple[Any, str]]) -> str:
    labels = [label for _, label in options]
    shown = "、".join(labels[:10]) + ("等" if len(labels) > 10 else "")
    return f"的取值不在允许范围内（可选：{shown}）"


def _schema_at(root: Mapping[str, Any], path: Sequence[str | int]) -> Any:
    schema: Any = root
    for segment in path:
        if schema is _MISSING:
            return _MISSING
        schema = _item_schema(root, schema, segment) if isinstance(segment, int) \
            else _property_schema(root, schema, segment)
    return schema


def _required_tail(error: Any, root: Mapping[str, Any]) -> str:
    """``为必填项``, with the condition that made it so when there was one."""
    owner = list(error.absolute_path)[:-1]
    when: list[tuple[str, Any]] = getattr(error, "eco_when", [])
    if when:
        parts = []
        for name, value in when:
            sub = _schema_at(root, [*owner, name])
            label = (_title(root, sub) if sub is not _MISSING else None) or name
            parts.append(f"{label}为{_value_label(sub, value, root) if sub is not _MISSING else _plain(value)}")
        return f"为必填项（{'、'.join(parts)}时）"
    filled = getattr(error, "eco_filled", None)
    if filled:
        sub = _schema_at(root, [*owner, filled])
        return f"为必填项（已填写{(_title(root, sub) if sub is not _MISSING else None) or filled}时）"
    return "为必填项"


def _tail(error: Any, root: Mapping[str, Any]) -> str:
    keyword = error.validator
    value = error.validator_value
    schema = error.schema if isinstance(error.schema, Mapping) else {}
    if keyword == "required":
        return _required_tail(error, root)
    if keyword in ("x-not-before", "x-not-after", "additionalProperties"):
        return str(error.message)
    if keyword == "type":
        types = value if isinstance(value, list) else [value]
        wanted = next((t for t in types if t != "null"), "null")
        fmt = schema.get("format")
        if wanted == "string" and fmt == "date":
            return _DATE_MESSAGE
        if wanted == "string" and fmt == "money":
            return _MONEY_MESSAGE
        return _TYPE_MESSAGES.get(str(wanted), "类型不正确")
    if keyword == "format":
        return _format_tail(str(value), error.instance)
    if keyword in ("enum", "oneOf", "anyOf"):
        options = _options(schema, root)
        if options:
            return _choices(options)
    if keyword == "const":
        return f"应为{_plain(value)}"
    if keyword == "minLength":
        return "不能为空" if value == 1 else f"至少应有 {value} 个字符"
    if keyword == "maxLength":
        return f"最多 {value} 个字符"
    if keyword == "pattern":
        return _pattern_tail(value, error.instance, schema)
    if keyword == "minimum":
        return f"不得小于 {value}"
    if keyword == "maximum":
        return f"不得大于 {value}"
    if keyword == "exclusiveMinimum":
        return f"应大于 {value}"
    if keyword == "exclusiveMaximum":
        return f"应小于 {value}"
    if keyword == "multipleOf":
        return f"应为 {value} 的整数倍"
    if keyword == "minItems":
        return "至少应填写 1 项" if value == 1 else f"至少应有 {value} 项"
    if keyword == "maxItems":
        return f"最多 {value} 项"
    if keyword == "uniqueItems":
        return "不得有重复项"
    return "填写不正确"


def _translate(error: Any, root: Mapping[str, Any]) -> tuple[str, int, str]:
    """(key, priority, message) of one jsonschema error."""
    if error.validator in ("oneOf", "anyOf") and error.context:
        schema = error.schema if isinstance(error.schema, Mapping) else {}
        if not _options(schema, root):
            # Explain the branch the value was meant for: a branch that failed only on its type is not it.
            relevant = [e for e in error.context if e.validator != "type"] or list(error.context)
            return _translate(best_match(relevant), root)
    path = list(error.absolute_path)
    key = ".".join(str(p) for p in path)
    keyword = str(error.validator)
    if keyword in ("x-not-before", "x-not-after"):
        priority = _DATE_ORDER_PRIORITY
    else:
        priority = _PRIORITY.get(keyword, _OTHER_PRIORITY)
    return key, priority, f'"{_field_label(root, path)}"{_tail(error, root)}'


def validate_form(
    schema: Mapping[str, Any],
    data: Mapping[str, Any],
    context: Mapping[str, Any] | None = None,
    *,
    partial: bool = False,
) -> dict[str, str]:
    """Check ``data`` against the form ``schema``; ``{field path: Chinese message}``, empty when valid.

    ``context`` holds facts of the case that date-order rules may refer to (``x-not-before``).  With
    ``partial`` a missing field is no problem (what is there must still be right): data offered for a form,
    a draft.  The schema is trusted (see :func:`check_form_schema`); a malformed one raises jsonschema's
    SchemaError.
    """
    instance: Any = dict(data) if isinstance(data, Mapping) and not isinstance(data, dict) else data
    cls = _PartialValidator if partial else _FormValidator
    token = _STATE.set(_State(schema, instance, context or {}))
    try:
        found = [_translate(e, schema) for e in cls(schema, format_checker=_FORMAT_CHECKER).iter_errors(instance)]
    finally:
        _STATE.reset(token)
    best: dict[str, tuple[int, str]] = {}
    for key, priority, message in found:
        if key not in best or priority < best[key][0]:
            best[key] = (priority, message)
    return {key: message for key, (_, message) in best.items()}


# --- data offered for a form ---------------------------------------------------------------------------

_JSON_TYPES: dict[type, tuple[str, ...]] = {
    bool: ("boolean",), int: ("integer", "number"), float: ("number",), str: ("string",), list: ("array",),
    dict: ("object",),
}


def _json_types(value: Any) -> tuple[str, ...]:
    if isinstance(value, float) and value.is_integer():
        return ("integer", "number")
    for kind, names in _JSON_TYPES.items():
        if type(value) is kind:
            return names
    return ()


def _conform(root: Mapping[str, Any], node: Any, value: Any) -> Any:
    """``value`` cut to what ``node`` declares: unknown keys, None and values of another type left out
    (``_MISSING``), recursively; a date becomes its ISO text where the form wants a date."""
    node = _resolve(root, node)
    if value is None:
        return _MISSING
    if not isinstance(node, Mapping):
        return copy.deepcopy(value) if node is not False else _MISSING
    declared = node.get("type")
    types = [declared] if isinstance(declared, str) else list(declared) if isinstance(declared, list) else []
    if isinstance(value, date) and "string" in types and node.get("format") == "date":
        value = (value.date() if isinstance(value, datetime) else value).isoformat()
    if types and not set(_json_types(value)) & set(types):
        return _MISSING
    if isinstance(value, dict):
        props = node.get("properties")
        if not isinstance(props, Mapping):
            return copy.deepcopy(value) if node.get("additionalProperties") is not False else {}
        out = {}
        for key, item in value.items():
            if key in props:
                kept = _conform(root, props[key], item)
                if kept is not _MISSING:
                    out[key] = kept
        return out
    if isinstance(value, list):
        items = node.get("items")
        if not isinstance(items, Mapping):
            return copy.deepcopy(value)
        kept_items = [_conform(root, items, item) for item in value]
        return [item for item in kept_items if item is not _MISSING]
    return value


def _drop(data: Any, path: list[str]) -> None:
    """Remove the value at a dotted error path (array indices as digits)."""
    parent: Any = data
    for segment in path[:-1]:
        if isinstance(parent, dict) and segment in parent:
            parent = parent[segment]
        elif isinstance(parent, list) and segment.isdigit() and int(segment) < len(parent):
            parent = parent[int(segment)]
        else:
            return
    last = path[-1]
    if isinstance(parent, dict):
        parent.pop(last, None)
    elif isinstance(parent, list) and last.isdigit() and int(last) < len(parent):
        del parent[int(last)]


def _path_order(key: str) -> list[tuple[int, int, str]]:
    return [(0, int(p), "") if p.isdigit() else (1, 0, p) for p in key.split(".")]


def offered(
    schema: Mapping[str, Any], data: Mapping[str, Any], context: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """What of ``data`` (values the case already has) a form may offer as its prefill: only the form's fields,
    in the form's types — unknown keys, ``None`` and values of another type left out, at every depth — and
    no value the form would refuse (a value that breaks a bound or a date order is left for the person to
    type again). Fields may be missing: the person fills them in. Validating the result with ``partial``
    finds nothing."""
    value = _conform(schema, schema, dict(data))
    if not isinstance(value, dict):
        return {}
    for _ in range(10):
        problems = validate_form(schema, value, context, partial=True)
        if not problems:
            return value
        if "" in problems:
            return {}
        for key in sorted(problems, key=_path_order, reverse=True):  # later items first: indices stay right
            _drop(value, key.split("."))
    return {}


# --- checking a form schema ----------------------------------------------------------------------------

#: The ``x-`` keywords a form may use (see the module's doc); anything else is refused.
EXTENSIONS = frozenset({"x-not-before", "x-not-after", "x-context-labels", "x-widget", "x-pattern-message",
                        "x-enum-labels"})


def check_form_schema(schema: Mapping[str, Any]) -> list[str]:
    """Problems (in Chinese) of a form schema itself; empty when it can be used.

    Checked: valid JSON Schema 2020-12; no ``x-`` keyword but the extensions this module knows; each
    ``format`` is one this module checks; ``x-enum-labels`` says what ``oneOf`` (``const``/``title``) says and
    matches its ``enum``; ``x-not-before``/``x-not-after`` name a field of the same object or the form, or a
    key declared in ``x-context-labels``; ``required``, ``if``/``then``/``else`` and ``dependentRequired`` of
    an object name its own fields.
    """
    problems: list[str] = []
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        where = "/".join(str(p) for p in exc.absolute_path) or "根"
        problems.append(f"不是有效的 JSON Schema（{where}）：{exc.message}")
        return problems
    labels = schema.get("x-context-labels")
    context_keys = set(labels) if isinstance(labels, Mapping) else set()
    root_props: Mapping[str, Any] = schema.get("properties") or {}

    def known(name: Any, siblings: Mapping[str, Any]) -> bool:
        return isinstance(name, str) and (name in siblings or name in root_props or name in context_keys)

    def names_own_fields(node: Mapping[str, Any], props: Mapping[str, Any], where: str) -> None:
        rules: list[Any] = [node, *(node.get("allOf") or ())]
        named: list[tuple[str, Any]] = [("required", node.get("required"))]
        for rule in rules:
            rule = _resolve(schema, rule)
            if not isinstance(rule, Mapping):
                continue
            condition = rule.get("if")
            if isinstance(condition, Mapping):
                named.append(("if", list(condition.get("properties") or ()) + list(condition.get("required") or ())))
            for branch in ("then", "else"):
                sub = rule.get(branch)
                if isinstance(sub, Mapping):
                    named.append((branch, sub.get("required")))
            dependent = rule.get("dependentRequired")
            if isinstance(dependent, Mapping):
                named.append(("dependentRequired", [*dependent, *(n for v in dependent.values() for n in v)]))
        for keyword, fields in named:
            for name in fields or ():
                if name not in props:
                    problems.append(f"{where or '根'}：{keyword} 中的“{name}”不是本对象的字段")

    def walk(node: Any, where: str, depth: int) -> None:
        if not isinstance(node, Mapping) or depth > 30:
            return
        for key in node:
            if isinstance(key, str) and key.startswith("x-") and key not in EXTENSIONS:
                hint = "（条件必填请改用 if/then + required）" if key == "x-required-if" else ""
                problems.append(f"{where or '根'}：不支持的扩展关键字“{key}”{hint}")
        fmt = node.get("format")
        if isinstance(fmt, str) and fmt not in KNOWN_FORMATS:
            problems.append(f"{where}：未知的格式“{fmt}”（可用：{'、'.join(sorted(KNOWN_FORMATS))}）")
        enum, enum_labels = node.get("enum"), node.get("x-enum-labels")
        if isinstance(enum_labels, list):
            if not isinstance(enum, list) or len(enum) != len(enum_labels):
                problems.append(f"{where}：x-enum-labels 的个数与 enum 不一致")
            elif isinstance(node.get("oneOf"), list):
                pairs = [(s.get("const"), s.get("title")) for s in node["oneOf"] if isinstance(s, Mapping)]
                if pairs != list(zip(enum, enum_labels, strict=True)):
                    problems.append(f"{where}：oneOf 的 const/title 与 enum/x-enum-labels 不一致")
        props = node.get("properties")
        if isinstance(props, Mapping):
            names_own_fields(node, props, where)
            for name, sub in props.items():
                here = f"{where}.{name}" if where else str(name)
                if isinstance(sub, Mapping):
                    for keyword in ("x-not-before", "x-not-after"):
                        for ref in _names(sub.get(keyword)):
                            if not known(ref, props):
                                problems.append(f"{here}：{keyword} 引用的“{ref}”既不是表单字段，"
                                                "也未在 x-context-labels 中声明")
                walk(sub, here, depth + 1)
        for key in ("items", "additionalProperties"):
            walk(node.get(key), f"{where}[]" if key == "items" else where, depth + 1)
        for key in ("$defs", "patternProperties"):
            subs = node.get(key)
            if isinstance(subs, Mapping):
                for name, sub in subs.items():
                    walk(sub, f"{key}.{name}", depth + 1)
        for key in ("allOf", "anyOf", "oneOf", "prefixItems"):
            for sub in node.get(key) or ():
                walk(sub, where, depth + 1)
        for key in ("if", "then", "else", "not"):
            walk(node.get(key), where, depth + 1)

    walk(schema, "", 0)
    return problems
