"""The JSON API (``/api/v1``): bearer-token callers, one engine service call per view, errors as docs/api.md says."""

from __future__ import annotations

from flask import Blueprint, Flask, g, request

from engine.auth import tokens
from engine.common.errors import BadRequest, Unauthorized

from .common import IdConverter, NameConverter, TaskIdConverter, runtime

api = Blueprint("api", __name__, url_prefix="/api/v1")

PUBLIC = {"api.issue_token", "api.openapi"}


@api.before_request
def authenticate() -> None:
    """Every endpoint but token issue and the OpenAPI document needs ``Authorization: Bearer <token>``."""
    for key, value in request.args.items(multi=True):
        if "\x00" in key or "\x00" in value:  # neither database stores NUL: refuse it here, not with a 500
            raise BadRequest("查询参数中不能包含空字符", {key.replace("\x00", ""): "包含空字符"})
    if request.endpoint in PUBLIC:
        return
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("请先登录：缺少 Authorization: Bearer 凭证")
    g.token = token.strip()
    g.actor = tokens.actor_for_token(runtime(), g.token)


def register(app: Flask) -> None:
    from . import admin, auth, cases, documents, incidents, models, tasks  # noqa: F401  (the views register themselves)
    from . import openapi as _openapi  # noqa: F401
    from .errors import install

    app.url_map.converters.update(id=IdConverter, task_id=TaskIdConverter, name=NameConverter)
    app.register_blueprint(api)
    install(app)
