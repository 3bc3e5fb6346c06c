"""What every API view shares: the caller (bearer token), strict JSON bodies, query parameters, replies."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import quote

from flask import Response, current_app, g, jsonify, request
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.routing import BaseConverter, ValidationError

from engine.auth import tokens
from engine.common.actor import Actor
from engine.common.errors import BadRequest
from engine.store.runtime import Runtime

JSON_LIMIT = 1024 * 1024
MAX_DEPTH = 64
INT32 = 2**31 - 1


def runtime() -> Runtime:
    eng: Runtime = current_app.extensions["runtime"]
    return eng


def actor() -> Actor:
    who: Actor = g.actor
    return who


class IdConverter(BaseConverter):
    """A positive database id; anything else (too long, zero, past 32 bits) does not match the route: 404."""

    regex = r"[0-9]{1,10}"

    def to_python(self, value: str) -> int:
        number = int(value)
        if not 1 <= number <= INT32:
            raise ValidationError()
        return number


class TaskIdConverter(BaseConverter):
    regex = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


class NameConverter(BaseConverter):
    """A BPMN or message id (letters, digits, underscore)."""

    regex = r"[A-Za-z_][A-Za-z0-9_]{0,79}"


def _check_strings(value: Any, depth: int = 0) -> None:
    """No NUL characters or lone surrogates (neither database stores them) and no absurd nesting."""
    if depth > MAX_DEPTH:
        raise BadRequest("JSON 嵌套层数过多", {"body": f"不超过{MAX_DEPTH}层"})
    if isinstance(value, str):
        if "\x00" in value:
            raise BadRequest("文本中不能包含空字符（\\u0000）", {"body": "包含空字符"})
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise BadRequest("文本包含无效的 Unicode 字符", {"body": "无效字符"}) from exc
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_strings(key, depth + 1)
            _check_strings(item, depth + 1)
    elif isinstance(value, list):
        for item in value:
            _check_strings(item, depth + 1)


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _finite_float(text: str) -> float:
    number = float(text)
    if number in (float("inf"), float("-inf")):
        raise ValueError("number out of range")
    return number


def json_body() -> dict[str, Any]:
    """The request's JSON object, or 400 (wrong type, malformed, not an object) / 413 (over 1 MB)."""
    if request.mimetype != "application/json":
        raise BadRequest("请求内容类型应为 application/json", {"Content-Type": "应为 application/json"})
    request.max_content_length = JSON_LIMIT
    if request.content_length is not None and request.content_length > JSON_LIMIT:
        raise RequestEntityTooLarge()
    raw = request.get_data(cache=True)
    if not raw.strip():
        raise BadRequest("请求体为空，应为 JSON 对象", {"body": "缺少内容"})
    try:
        text = raw.decode("utf-8-sig")
        body = json.loads(text, parse_constant=_refuse_constant, parse_float=_finite_float)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise BadRequest("请求体不是合法的 JSON", {"body": "JSON 格式错误"}) from exc
    _check_strings(body)
    if not isinstance(body, dict):
        raise BadRequest("请求体应为 JSON 对象", {"body": "应为对象"})
    return body


def arg_str(name: str, max_len: int = 200) -> str | None:
    value = request.args.get(name)
    if value is None or value == "":
        return None
    if len(value) > max_len:
        raise BadRequest(f"参数 {name} 过长", {name: f"不超过{max_len}字"})
    return value


def arg_int(name: str, default: int | None, low: int, high: int) -> int | None:
    value = request.args.get(name)
    if value is None or value == "":
        return default
    if not value.isascii() or not value.isdigit() or len(value) > 10 or not low <= int(value) <= high:
        raise BadRequest(f"参数 {name} 应为 {low}–{high} 之间的整数", {name: f"应为 {low}–{high} 之间的整数"})
    return int(value)


def arg_bool(name: str) -> bool | None:
    value = request.args.get(name)
    if value is None or value == "":
        return None
    if value.lower() in ("true", "1"):
        return True
    if value.lower() in ("false", "0"):
        return False
    raise BadRequest(f"参数 {name} 应为 true 或 false", {name: "应为 true 或 false"})


def arg_choice(name: str, choices: tuple[str, ...], default: str) -> str:
    value = request.args.get(name) or default
    if value not in choices:
        raise BadRequest(f"参数 {name} 无效", {name: "可选：" + "、".join(choices)})
    return value


def check_args(allowed: tuple[str, ...]) -> None:
    """Unknown query parameters are a mistake worth telling (a typo would silently widen a search)."""
    unknown = sorted(set(request.args) - set(allowed))
    if unknown:
        raise BadRequest("未知的查询参数：" + "、".join(unknown), dict.fromkeys(unknown, "未知参数"))


def reply(data: Any, status: int = 200) -> tuple[Response, int]:
    return jsonify(data), status


_UNSAFE_IN_NAME = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]+')


def safe_filename(name: str, fallback: str) -> str:
    """A file name without separators, control characters or leading dots (it cannot climb out of a folder)."""
    cleaned = _UNSAFE_IN_NAME.sub("_", name).strip(" .").replace("..", "_")
    return cleaned[:150] or fallback


def attachment(content: bytes, filename: str, mimetype: str, fallback: str) -> Response:
    """A download with the file name in RFC 5987 form (Chinese names) and an ASCII fallback."""
    filename = safe_filename(filename, fallback)
    response = Response(content, mimetype=mimetype)
    response.headers["Content-Disposition"] = (
        f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}")
    return response


def client_address() -> str:
    """The caller's address for login throttling: ``X-Forwarded-For`` counts only when the connection comes from a
    proxy listed in ``ECO_TRUSTED_PROXIES`` (comma-separated addresses or networks; none by default)."""
    forwarded = ",".join(request.headers.getlist("X-Forwarded-For"))
    return tokens.client_address(request.remote_addr, forwarded, current_app.config.get("TRUSTED_PROXIES"))
