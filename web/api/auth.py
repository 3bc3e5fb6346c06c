"""``/auth/token``: issue a token for a username and password; revoke the caller's."""

from __future__ import annotations

from datetime import timedelta

from flask import Response, current_app, g, request

from engine.auth import tokens

from . import api
from .common import json_body, reply, runtime
from .errors import error


def client_address() -> str:
    """The caller's address for login throttling: ``X-Forwarded-For`` counts only when the connection comes from a
    proxy listed in ``ECO_TRUSTED_PROXIES`` (comma-separated addresses or networks; none by default)."""
    forwarded = ",".join(request.headers.getlist("X-Forwarded-For"))
    return tokens.client_address(request.remote_addr, forwarded, current_app.config.get("TRUSTED_PROXIES"))


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
