"""``/auth/token``: issue a token for a username and password; revoke the caller's."""

from __future__ import annotations

from datetime import timedelta

from flask import Response, current_app, g, request

from engine.auth import tokens

from . import api
from .common import json_body, reply, runtime


@api.post("/auth/token")
def issue_token() -> tuple[Response, int]:
    body = json_body()
    ttl = timedelta(hours=float(current_app.config.get("API_TOKEN_TTL_HOURS", 8)))
    result = tokens.issue_token(runtime(), body.get("username"), body.get("password"),
                                request.remote_addr or "unknown", ttl=ttl)
    return reply(result, 201)


@api.delete("/auth/token")
def revoke_token() -> tuple[Response, int]:
    tokens.revoke(runtime(), g.token)
    return Response(status=204), 204
