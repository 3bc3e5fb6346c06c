"""Every failure as ``{"error": {"code", "message", "fields"}}``: domain errors, HTTP errors, and real bugs (500)."""

from __future__ import annotations

import logging

from flask import Flask, Response, jsonify, request
from sqlalchemy.exc import DBAPIError, IntegrityError
from werkzeug.exceptions import HTTPException

from engine.auth.tokens import TooManyAttempts
from engine.common.errors import BadRequest, Conflict, DomainError, Forbidden, NotFound, Unauthorized, ValidationFailed

log = logging.getLogger("web.api")

STATUS: dict[type[DomainError], int] = {
    BadRequest: 400, Unauthorized: 401, Forbidden: 403, NotFound: 404, Conflict: 409, ValidationFailed: 422,
    TooManyAttempts: 429}

HTTP_MESSAGES = {
    400: ("bad_request", "请求格式不正确"), 401: ("unauthorized", "请先登录"), 403: ("forbidden", "没有权限"),
    404: ("not_found", "请求的地址或资源不存在"), 405: ("method_not_allowed", "该地址不支持此请求方法"),
    406: ("not_acceptable", "无法提供所请求的格式"), 409: ("conflict", "操作冲突，请刷新后重试"),
    413: ("payload_too_large", "请求内容过大"), 415: ("unsupported_media_type", "请求内容类型不正确"),
    429: ("too_many_requests", "请求过于频繁，请稍后再试"), 503: ("unavailable", "服务暂不可用，请稍后再试")}


def error(status: int, code: str, message: str, fields: dict[str, str] | None = None) -> tuple[Response, int]:
    return jsonify({"error": {"code": code, "message": message, "fields": fields or {}}}), status


# Domain errors of other packages, by code (a PDF that cannot be made here is the service's limit, not the caller's).
CODE_STATUS = {"pdf_unavailable": 503}


def _status_of(exc: DomainError) -> int:
    if exc.code in CODE_STATUS:
        return CODE_STATUS[exc.code]
    for cls in type(exc).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    return 400


def install(app: Flask) -> None:
    @app.errorhandler(DomainError)
    def domain_error(exc: DomainError) -> tuple[Response, int]:
        status = _status_of(exc)
        response, _ = error(status, exc.code, exc.message, {str(k): str(v) for k, v in exc.fields.items()})
        if status == 401:
            response.headers["WWW-Authenticate"] = 'Bearer realm="eco-claims"'
        return response, status

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> tuple[Response, int]:
        status = exc.code or 500
        code, message = HTTP_MESSAGES.get(status, ("http_error", exc.description or "请求失败"))
        if status == 400 and exc.description and "CSRF" in exc.description:
            code, message = "csrf_failed", "表单已过期或缺少安全令牌，请刷新页面后重试"
        response, _ = error(status, code, message)
        if status == 405 and exc.get_response().headers.get("Allow"):
            response.headers["Allow"] = exc.get_response().headers["Allow"]
        return response, status

    @app.errorhandler(DBAPIError)
    def database_error(exc: DBAPIError) -> tuple[Response, int]:
        # PostgreSQL breaks a deadlock between two writers by failing one: for the caller that is a conflict.
        text = str(exc.orig).lower()
        if "deadlock" in text or "could not serialize" in text:
            return error(409, "conflict", "数据正被他人修改，请稍后重试")
        if isinstance(exc, IntegrityError):  # two writers inserted the same key at once: the loser retries
            log.warning("integrity conflict on %s %s: %s", request.method, request.path, exc.orig)
            return error(409, "conflict", "数据冲突（他人同时提交），请刷新后重试")
        return unexpected(exc)

    @app.errorhandler(Exception)
    def unexpected(exc: Exception) -> tuple[Response, int]:
        log.exception("unhandled error on %s %s", request.method, request.path)
        return error(500, "internal_error", "服务器内部错误，请联系系统管理员")
