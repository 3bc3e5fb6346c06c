"""Errors as HTML pages for people, JSON for the API.

The API installs its handlers (``web.api.errors``) for the whole app; this wraps each of them. A request under
``/api/`` (and ``/healthz``) gets the API's JSON answer; a page route (the ``pages`` blueprint) an HTML page in
Chinese with the same status; any other address (no route matched) HTML when the client prefers it (a browser's
``Accept: text/html``), else JSON. An expired login on a page goes back to the login form.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, render_template, request
from sqlalchemy.exc import DBAPIError, IntegrityError
from werkzeug.exceptions import HTTPException

from engine.common.errors import DomainError, Unauthorized
from web.api.errors import CODE_STATUS, HTTP_MESSAGES, STATUS

from . import login_redirect

log = logging.getLogger("web.pages")

TITLES = {400: "请求有误", 401: "请先登录", 403: "没有权限", 404: "未找到", 405: "请求方式不正确", 409: "操作冲突",
          413: "内容过大", 422: "填写有误", 429: "操作过于频繁", 500: "系统错误", 503: "服务暂不可用"}


def is_api_request() -> bool:
    if request.path.startswith("/api/") or request.path == "/healthz":
        return True
    if request.blueprint == "pages":
        return False
    return request.accept_mimetypes.best_match(["application/json", "text/html"]) != "text/html"


def domain_status(exc: DomainError) -> int:
    if exc.code in CODE_STATUS:
        return CODE_STATUS[exc.code]
    for cls in type(exc).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    return 400


def page(status: int, message: str, fields: dict[str, str] | None = None) -> tuple[str, int]:
    return render_template("error.html", status=status, title=TITLES.get(status, "出错了"), message=message,
                           fields=fields or {}), status


def html_error(exc: Exception) -> Any:
    if isinstance(exc, Unauthorized):
        return login_redirect()
    if isinstance(exc, DomainError):
        return page(domain_status(exc), exc.message, {str(k): str(v) for k, v in exc.fields.items()})
    if isinstance(exc, HTTPException):
        status = exc.code or 500
        message = HTTP_MESSAGES.get(status, ("", exc.description or "请求失败"))[1]
        if status == 404:
            message = "您访问的页面不存在，或您无权查看。"
        if status == 400 and exc.description and "CSRF" in exc.description:
            message = "表单已过期或缺少安全令牌，请返回并刷新页面后重新提交。"
        return page(status, message)
    if isinstance(exc, DBAPIError):
        text = str(exc.orig).lower()
        if "deadlock" in text or "could not serialize" in text or isinstance(exc, IntegrityError):
            return page(409, "数据正被他人同时修改，请刷新后重试。")
    log.exception("unhandled error on %s %s", request.method, request.path)
    return page(500, "系统内部错误，请稍后重试或联系系统管理员。")


def install(app: Flask) -> None:
    """Wrap every app-wide handler the API installed so that page requests get HTML."""
    handlers = dict(app.error_handler_spec.get(None, {}).get(None, {}))
    for cls in (DomainError, HTTPException, DBAPIError, Exception):
        handlers.setdefault(cls, None)  # type: ignore[arg-type]
    for cls, api_handler in handlers.items():
        def dispatch(exc: Exception, api_handler: Any = api_handler) -> Any:
            if is_api_request() and api_handler is not None:
                return api_handler(exc)
            if is_api_request():
                raise exc
            return html_error(exc)

        app.register_error_handler(cls, dispatch)
