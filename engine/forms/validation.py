"""Validation of what people type into task forms.

Task forms are described by JSON Schema (draft 2020-12) whose properties carry Chinese ``title``s.
:func:`validate_form` checks submitted data against such a schema and returns ``{field path: Chinese
message}`` — empty when the data is valid — so that a page can show each message next to its field and
nothing already typed is lost.

Formats (``"format": ...`` on string properties), checked by this module's own code:

* ``date`` — ``YYYY-MM-DD`` and a real calendar date;
* ``uscc`` — 统一社会信用代码, GB 32100-2015 check character (:func:`is_valid_uscc`);
* ``id-number`` — 居民身份证号码, GB 11643-1999 check digit and birth date (:func:`is_valid_id_number`);
* ``money`` — a non-negative amount with at most two decimals, e.g. ``"12345.60"`` (:func:`is_valid_money`).

Schema extensions (keywords starting with ``x-``; JSON Schema ignores them, this module applies them):

* ``"x-enum-labels": [...]`` next to ``"enum": [...]`` — the Chinese label of each allowed value (the
  ``oneOf: [{"const": ..., "title": ...}, ...]`` convention is understood as well);
* ``"x-not-before": "served_on"`` / ``"x-not-after": ...`` on a date property — the value must not be
  earlier (later) than another date: a field of the same object, else a field of the whole form, else a
  key of ``context`` (facts of the case such as ``found_on``, ``served_on``).  A list of names is allowed.
  Context keys are named by ``"x-context-labels": {"served_on": "送达日期"}`` at the schema root;
* ``"x-required-if": {"field": "restorability", "in": ["partially_restorable"]}`` on a property — the
  property is required while the other field (same object, else the whole form) has one of those values
  (a list of such conditions means "any of them");
* ``"x-pattern-message": "..."`` on a property with a ``pattern`` — the message shown when it does not match.

Keys of the result are the field's path joined by dots (``"obligors.0.uscc"``); a message names the field
by its titles, array items numbered from 1: ``"赔偿义务人 第1项 统一社会信用代码"校验码不正确``.  Errors about
the form as a whole are keyed ``""``.  ``None`` or a blank string in a required field counts as missing.
A field gets one message: a missing value first, then an unknown field, a wrong type, a bad value, and last
a date-order violation.

:func:`check_form_schema` lists problems of a form schema itself (for analysts editing forms).

Everything here is pure: no database, no Flask.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker, ValidationError, validators
from jsonschema.exceptions import SchemaError, best_match

from engine.common.dates import parse_iso_date

__all__ = [
    "KNOWN_FORMATS",
    "check_form_schema",
    "is_valid_id_number",
    "is_valid_money",
    "is_valid_uscc",
    "parse_money",
    "validate_form",
]

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


def is_valid_money(s: str) -> bool:
    """A non-negative amount with 0–2 decimals written plainly: ``"12345.60"``, ``"12345"``, ``"0.5"``.
    No sign, exponent, thousands separator, full-width digits or surrounding spaces."""
    return isinstance(s, str) and _MONEY.fullmatch(s) is not None


def parse_money(s: str) -> Decimal:
    """The amount as a Decimal with exactly two places (``"12345.6"`` → ``Decimal("12345.60")``).
    Raises ValueError for anything :func:`is_valid_money` refuses."""
    if not is_valid_money(s):
        raise ValueError(f"不是有效的金额：{s!r}")
    return Decimal(s).quantize(Decimal("0.01"))


# --- the format checker --------------------------------------------------------------------------------

_FORMAT_CHECKER = FormatChecker(formats=())


def _check_date(instance: object) -> bool:
    return not isinstance(instance, str) or parse_iso_date(instance) is not None


def _check_uscc(instance: object) -> bool:
    return not isinstance(instance, str) or _uscc_problem(instance) is None


def _check_id_number(instance: object) -> bool:
    return not isinstance(instance, str) or _id_number_problem(instance) is None


def _check_money(instance: object) -> bool:
    return not isinstance(instance, str) or is_valid_money(instance)


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
    """(value, label) of each allowed value from ``enum`` + ``x-enum-labels`` or ``oneOf``/``anyOf`` of
    ``const`` + ``title``; empty when the schema does not enumerate its values."""
    enum = schema.get("enum")
    if isinstance(enum, list):
        labels = schema.get("x-enum-labels")
        if isinstance(labels, list) and len(labels) == len(enum):
            return [(v, str(label)) for v, label in zip(enum, labels, strict=True)]
        if isinstance(labels, Mapping):
            return [(v, str(labels.get(str(v), _plain(v)))) for v in enum]
        return [(v, _plain(v)) for v in enum]
    for key in ("oneOf", "anyOf"):
        subs = schema.get(key)
        if isinstance(subs, list) and subs:
            resolved = [_resolve(root, s) for s in subs]
            if all(isinstance(s, Mapping) and "const" in s for s in resolved):
                return [(s["const"], str(s.get("title") or _plain(s["const"]))) for s in resolved]
    return []


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
                return datetime.fromisoformat(value.strip()).date()
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


def _other_schema(name: str, instance: Mapping[str, Any], schema: Mapping[str, Any]) -> Any:
    state = _STATE.get()
    found = _property_schema(state.root_schema, schema, name)
    if found is _MISSING and name not in instance:
        found = _property_schema(state.root_schema, state.root_schema, name)
    return found


def _required_if(
    prop: str, spec: Any, instance: Mapping[str, Any], schema: Mapping[str, Any]
) -> Iterator[Any]:
    if not _is_blank(instance.get(prop)):
        return
    conditions = spec if isinstance(spec, list) else [spec]
    for condition in conditions:
        if not isinstance(condition, Mapping) or not isinstance(condition.get("field"), str):
            continue
        other = _lookup(condition["field"], instance, schema)
        if other is None:
            continue
        value, label = other
        allowed = condition.get("in", [])
        if any(_same(value, candidate) for candidate in allowed):
            other_schema = _other_schema(condition["field"], instance, schema)
            shown = _value_label(other_schema, value, _STATE.get().root_schema)
            yield ValidationError(f"为必填项（{label}为{shown}时）", validator="x-required-if", path=[prop])
            return


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
        if not isinstance(sub, Mapping):
            continue
        if "x-required-if" in sub:
            yield from _required_if(prop, sub["x-required-if"], instance, schema)
        if "x-not-before" in sub or "x-not-after" in sub:
            yield from _date_order(prop, sub, instance, schema)


def _kw_required(validator: Any, required: Any, instance: Any, schema: Any) -> Iterator[Any]:
    if not isinstance(instance, Mapping):
        return
    for prop in required:
        if _is_blank(instance.get(prop)):
            yield ValidationError("为必填项", path=[prop])


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


_FormValidator: Any = validators.extend(
    Draft202012Validator,
    {
        "properties": _kw_properties,
        "required": _kw_required,
        "additionalProperties": _kw_additional_properties,
    },
)

# --- messages ------------------------------------------------------------------------------------------

_DATE_MESSAGE = "应为日期，格式为 YYYY-MM-DD，例如 2026-07-03"
_MONEY_MESSAGE = "应为不小于0、最多两位小数的金额，例如 12345.60"
_TYPE_MESSAGES = {
    "string": "应为文本",
    "boolean": "应为是/否",
    "integer": "应为整数",
    "number": "应为数字",
    "array": "应为列表",
    "object": "应为一组字段",
    "null": "应为空",
}
_PRIORITY = {"required": 0, "x-required-if": 0, "additionalProperties": 1, "type": 2}
_DATE_ORDER_PRIORITY = 4
_OTHER_PRIORITY = 3


def _format_tail(fmt: str, instance: Any) -> str:
    if fmt == "date":
        if isinstance(instance, str) and _ISO_DATE.fullmatch(instance):
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
        return _MONEY_MESSAGE
    return "格式不正确"


def _choices(options: list[tuple[Any, str]]) -> str:
    labels = [label for _, label in options]
    shown = "、".join(labels[:10]) + ("等" if len(labels) > 10 else "")
    return f"的取值不在允许范围内（可选：{shown}）"


def _tail(error: Any, root: Mapping[str, Any]) -> str:
    keyword = error.validator
    value = error.validator_value
    schema = error.schema if isinstance(error.schema, Mapping) else {}
    if keyword in ("required", "x-required-if", "x-not-before", "x-not-after", "additionalProperties"):
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
        custom = schema.get("x-pattern-message")
        return str(custom) if custom else "格式不正确"
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
) -> dict[str, str]:
    """Check ``data`` against the form ``schema``; ``{field path: Chinese message}``, empty when valid.

    ``context`` holds facts of the case that date-order rules may refer to (``x-not-before``).  The
    schema is trusted (see :func:`check_form_schema`); a malformed one raises jsonschema's SchemaError.
    """
    instance: Any = dict(data) if isinstance(data, Mapping) and not isinstance(data, dict) else data
    token = _STATE.set(_State(schema, instance, context or {}))
    try:
        found = [_translate(e, schema) for e in _FormValidator(schema, format_checker=_FORMAT_CHECKER)
                 .iter_errors(instance)]
    finally:
        _STATE.reset(token)
    best: dict[str, tuple[int, str]] = {}
    for key, priority, message in found:
        if key not in best or priority < best[key][0]:
            best[key] = (priority, message)
    return {key: message for key, (_, message) in best.items()}


# --- checking a form schema ----------------------------------------------------------------------------


def check_form_schema(schema: Mapping[str, Any]) -> list[str]:
    """Problems (in Chinese) of a form schema itself; empty when it can be used.

    Checked: valid JSON Schema 2020-12; each ``format`` is one this module checks; ``x-enum-labels``
    matches its ``enum``; ``x-not-before``/``x-not-after``/``x-required-if`` name a field of the same
    object or the form, or a key declared in ``x-context-labels``.
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

    def walk(node: Any, where: str, depth: int) -> None:
        if not isinstance(node, Mapping) or depth > 30:
            return
        fmt = node.get("format")
        if isinstance(fmt, str) and fmt not in KNOWN_FORMATS:
            problems.append(f"{where}：未知的格式“{fmt}”（可用：{'、'.join(sorted(KNOWN_FORMATS))}）")
        enum, enum_labels = node.get("enum"), node.get("x-enum-labels")
        if isinstance(enum_labels, list) and (not isinstance(enum, list) or len(enum) != len(enum_labels)):
            problems.append(f"{where}：x-enum-labels 的个数与 enum 不一致")
        props = node.get("properties")
        if isinstance(props, Mapping):
            for name, sub in props.items():
                here = f"{where}.{name}" if where else str(name)
                if isinstance(sub, Mapping):
                    for keyword in ("x-not-before", "x-not-after"):
                        for ref in _names(sub.get(keyword)):
                            if not known(ref, props):
                                problems.append(f"{here}：{keyword} 引用的“{ref}”既不是表单字段，"
                                                "也未在 x-context-labels 中声明")
                    if "x-required-if" in sub:
                        spec = sub["x-required-if"]
                        for cond in spec if isinstance(spec, list) else [spec]:
                            if not (isinstance(cond, Mapping) and known(cond.get("field"), props)
                                    and isinstance(cond.get("in"), list)):
                                problems.append(f"{here}：x-required-if 应为 "
                                                '{"field": 表单字段, "in": [取值, ...]}')
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
