"""``/auth/token``: issue a token for a username and password; revoke the caller's."""

from __future__ import annotations

from datetime import timedelta

from flask import Response, current_app, g

from engine.auth import tokens

from . import api
from .common import client_address, json_body, reply, runtime
from .errors import error


@api.post("/auth/token")
def issue_token() -> tuple[Response, int]:
    body = json_body()
    ttl = timedelta(hours=float(current_app.config.get("API_TOKEN_TTL_HOURS", 8)))
    result = tokens.issue_token(runtime(), body.get("username"), body.get("password"), client_address(), ttl=ttl)
    return reply(result, 201)


@api.errorhandler(tokens.TooManyAttempts)
def too_many_attempts(exc: tokens.TooManyAttempts) -> tuple[Response, int]:
    response, status = error(429, exc.code, exc.message, {str(k): str(v) for k, v in exc.fields.items()})
    response.headers["Retry-After"] = str(max(1, exc.retry_after))
    return response, status


@api.delete("/auth/token")
def revoke_token() -> tuple[Response, int]:
    tokens.revoke(runtime(), g.token)
    return Response(status=204), 204
