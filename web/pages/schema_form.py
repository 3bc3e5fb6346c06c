"""A task's JSON Schema as an HTML form, and the submitted form back as the task's data.

Fields are named by their path (``obligors.0.uscc``): the keys of ``ValidationFailed.fields`` are the same paths, so
each message is shown next to its field, and what was typed is rendered again from the parsed data.

Understood: strings (``x-widget: textarea``; formats ``date``, ``money``, ``uscc``, ``id-number``), enums
(``x-enum-labels`` or ``oneOf`` const/title: radios up to four choices, a select above), booleans (是/否),
integers, arrays of enum strings (checkboxes), arrays of strings or objects (repeated items), and conditional
fields (``x-required-if``, or ``allOf`` of ``if`` {property const/enum} ``then`` {required}) that appear when their
condition holds (site.js; without JavaScript every field shows).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from werkzeug.datastructures import MultiDict

INDEX = "__i__"  # the placeholder index of a repeated item's template
RADIO_MAX = 4
_INT = re.compile(r"-?[0-9]{1,9}")


def field_id(path: str) -> str:
    return "f-" + re.sub(r"[^A-Za-z0-9_-]", "-", path)


def options(prop: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(value, Chinese label) of an enumerated property."""
    enum = prop.get("enum")
    labels = prop.get("x-enum-labels")
    if isinstance(enum, list):
        if isinstance(labels, list) and len(labels) == len(enum):
            return [(str(v), str(label)) for v, label in zip(enum, labels, strict=True)]
        consts = {str(o.get("const")): str(o.get("title") or o.get("const")) for o in prop.get("oneOf") or []
                  if isinstance(o, Mapping) and "const" in o}
        return [(str(v), consts.get(str(v), str(v))) for v in enum]
    subs = prop.get("oneOf") or prop.get("anyOf")
    if isinstance(subs, list) and subs and all(isinstance(o, Mapping) and "const" in o for o in subs):
        return [(str(o["const"]), str(o.get("title") or o["const"])) for o in subs]
    return []


def label_of(prop: Mapping[str, Any], value: Any) -> str:
    """The label of one value of a property (an enum's label, 是/否, or the value itself)."""
    if isinstance(value, bool):
        return "是" if value else "否"
    for v, label in options(prop):
        if v == str(value):
            return label
    return "" if value is None else str(value)


def _kind(prop: Mapping[str, Any]) -> str:
    t = prop.get("type")
    if t == "array":
        items = prop.get("items") or {}
        if items.get("type") == "string" and options(items):
            return "checkboxes"
        return "objects" if items.get("type") == "object" else "strings"
    if t == "boolean":
        return "bool"
    if t == "integer":
        return "integer"
    if options(prop):
        return "radio" if len(options(prop)) <= RADIO_MAX else "select"
    fmt = prop.get("format")
    if fmt in ("date", "money", "uscc", "id-number"):
        return str(fmt)
    return "textarea" if prop.get("x-widget") == "textarea" else "text"


def _show_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _conditions(schema: Mapping[str, Any]) -> dict[str, list[tuple[str, list[str]]]]:
    """property → [(the field it depends on, the values that make it apply)] from both rule styles."""
    found: dict[str, list[tuple[str, list[str]]]] = {}
    for name, prop in (schema.get("properties") or {}).items():
        rules = prop.get("x-required-if")
        for rule in rules if isinstance(rules, list) else [rules] if rules else []:
            if isinstance(rule, Mapping) and isinstance(rule.get("field"), str):
                found.setdefault(name, []).append((rule["field"], [_show_value(v) for v in rule.get("in") or []]))
    for rule in schema.get("allOf") or []:
        if not isinstance(rule, Mapping) or "if" not in rule:
            continue
        props = (rule.get("if") or {}).get("properties") or {}
        required = (rule.get("then") or {}).get("required") or []
        if len(props) != 1:
            continue
        (other, test), = props.items()
        values = [test["const"]] if "const" in test else list(test.get("enum") or [])
        for name in required:
            found.setdefault(name, []).append((other, [_show_value(v) for v in values]))
    return found


def build(schema: Mapping[str, Any], data: Mapping[str, Any] | None, errors: Mapping[str, str] | None,
          prefix: str = "") -> list[dict[str, Any]]:
    """The fields of an object schema, with values from ``data`` and messages from ``errors`` (by path)."""
    data = data or {}
    errors = errors or {}
    required = set(schema.get("required") or [])
    conditions = _conditions(schema)
    props = schema.get("properties") or {}
    fields = []
    for name, prop in props.items():
        path = prefix + name
        kind = _kind(prop)
        value = data.get(name)
        show_if = []
        for other, values in conditions.get(name, []):
            other_path = prefix + other if other in props else other
            show_if.append({"field": other_path, "values": values})
        field: dict[str, Any] = {
            "name": path, "id": field_id(path), "label": str(prop.get("title") or name), "kind": kind,
            "required": name in required, "conditional": bool(show_if),
            "show_if": json.dumps(show_if, ensure_ascii=False) if show_if else "",
            "options": options(prop if kind != "checkboxes" else prop.get("items") or {}),
            "value": value, "error": errors.get(path), "max_length": prop.get("maxLength"),
            "description": prop.get("description") or "",
        }
        if kind == "bool":
            field["value"] = _show_value(value) if isinstance(value, bool) else (value or "")
        elif kind == "checkboxes":
            field["value"] = [str(v) for v in value] if isinstance(value, list) else []
        elif kind == "objects":
            items = value if isinstance(value, list) else []
            item_schema = prop.get("items") or {}
            if not items and name in required:
                items = [{}]
            field["items"] = [build(item_schema, item if isinstance(item, Mapping) else {}, errors,
                                    f"{path}.{i}.") for i, item in enumerate(items)]
            field["template"] = build(item_schema, {}, {}, f"{path}.{INDEX}.")
            field["item_label"] = str(item_schema.get("title") or field["label"])
            field["next_index"] = len(items)
        elif kind == "strings":
            items = [str(v) for v in value] if isinstance(value, list) else []
            if not items:
                items = [""]
            field["items"] = [{"name": f"{path}.{i}", "id": field_id(f"{path}.{i}"), "value": v,
                               "error": errors.get(f"{path}.{i}")} for i, v in enumerate(items)]
            field["template"] = {"name": f"{path}.{INDEX}", "id": field_id(f"{path}.{INDEX}")}
            field["item_label"] = str((prop.get("items") or {}).get("title") or field["label"])
            field["next_index"] = len(items)
        elif value is not None and not isinstance(value, str):
            field["value"] = str(value)
        if kind in ("objects", "strings", "checkboxes"):
            # a message about the list as a whole, or about an item that has no field of its own
            nested = [msg for key, msg in errors.items() if key.startswith(path + ".")
                      and kind == "checkboxes"]
            field["error"] = errors.get(path) or (nested[0] if nested else None)
        fields.append(field)
    return fields


def _indices(form: MultiDict[str, str], path: str) -> list[int]:
    found = set()
    for key in form:
        if key.startswith(path + "."):
            head = key[len(path) + 1:].split(".", 1)[0]
            if head.isdigit() and len(head) < 5:
                found.add(int(head))
    return sorted(found)


def parse(schema: Mapping[str, Any], form: MultiDict[str, str], prefix: str = "") -> dict[str, Any]:
    """The submitted form as data for the schema: blanks left out (a required blank is then "必填"), 是/否 as
    booleans, integers as numbers (anything else kept as typed, for the validator to name), repeated items in
    order with empty ones dropped."""
    out: dict[str, Any] = {}
    for name, prop in (schema.get("properties") or {}).items():
        path = prefix + name
        kind = _kind(prop)
        if kind == "checkboxes":
            values = [v for v in form.getlist(path) if v]
            if values:
                out[name] = values
        elif kind == "objects":
            items = [parse(prop.get("items") or {}, form, f"{path}.{i}.") for i in _indices(form, path)]
            items = [item for item in items if item]
            if items:
                out[name] = items
        elif kind == "strings":
            strings = [form.get(f"{path}.{i}", "").strip() for i in _indices(form, path)]
            strings = [s for s in strings if s]
            if strings:
                out[name] = strings
        elif kind == "bool":
            raw = form.get(path, "")
            if raw in ("true", "false"):
                out[name] = raw == "true"
        elif kind == "integer":
            raw = form.get(path, "").strip()
            if raw:
                out[name] = int(raw) if _INT.fullmatch(raw) else raw
        else:
            text = form.get(path)
            if text is not None and text.strip():
                out[name] = text.strip().replace("\r\n", "\n")
        if kind == "money" and isinstance(out.get(name), str):
            out[name] = out[name].replace(",", "").replace("，", "")
    return out


def summary(schema: Mapping[str, Any], data: Mapping[str, Any] | None) -> list[tuple[str, str]]:
    """(label, value as text) of the filled fields of a submitted form, for reading (history, completed tasks)."""
    rows: list[tuple[str, str]] = []
    for name, prop in (schema.get("properties") or {}).items():
        value = (data or {}).get(name)
        if value is None or value == "" or value == []:
            continue
        label = str(prop.get("title") or name)
        if isinstance(value, list):
            items = prop.get("items") or {}
            if items.get("type") == "object":
                for i, item in enumerate(value, 1):
                    parts = [f"{t}：{v}" for t, v in summary(items, item if isinstance(item, Mapping) else {})]
                    rows.append((f"{label} {i}", "；".join(parts)))
                continue
            rows.append((label, "、".join(label_of(items, v) for v in value)))
        elif isinstance(value, Mapping):
            continue
        else:
            rows.append((label, label_of(prop, value)))
    return rows
