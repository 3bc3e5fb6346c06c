"""Login and logout for the pages. The password check, the throttling and the token are the API's
(``tokens.issue_token``, as ``POST /api/v1/auth/token``); the session cookie holds the token."""

from __future__ import annotations

from contextlib import suppress
from datetime import timedelta

from flask import Response, current_app, flash, redirect, render_template, request, session, url_for

from engine.auth import tokens
from engine.common.errors import Unauthorized, ValidationFailed

from ..api.common import client_address
from . import pages, runtime, safe_next


@pages.route("/login", methods=["GET", "POST"])
def login() -> Response | tuple[str, int] | str:
    next_url = safe_next(request.values.get("next"))
    if request.method == "GET":
        if session.get("token"):
            return redirect(next_url or url_for("pages.inbox"))  # type: ignore[return-value]
        return render_template("login.html", next_url=next_url, username="", errors={})
    username = request.form.get("username", "").strip()
    password = request.form.get("password", "")
    ttl = timedelta(hours=float(current_app.config.get("API_TOKEN_TTL_HOURS", 8)))
    errors: dict[str, str] = {}
    try:
        result = tokens.issue_token(runtime(), username, password, client_address(), ttl=ttl)
    except ValidationFailed:
        errors = {"username": "请填写用户名"} if not username else {}
        if not password:
            errors["password"] = "请填写密码"
        return render_template("login.html", next_url=next_url, username=username, errors=errors,
                               message="请填写用户名和密码"), 422
    except Unauthorized as exc:
        return render_template("login.html", next_url=next_url, username=username, errors={},
                               message=exc.message), 401
    except tokens.TooManyAttempts as exc:
        page = render_template("login.html", next_url=next_url, username=username, errors={}, message=exc.message)
        return Response(page, status=429, headers={"Retry-After": str(max(1, exc.retry_after))})
    session.clear()
    session["token"] = result["token"]
    session["username"] = result["user"]["username"]
    return redirect(next_url or url_for("pages.inbox"))  # type: ignore[return-value]


@pages.post("/logout")
def logout() -> Response:
    token = session.get("token")
    if isinstance(token, str) and token:
        with suppress(Unauthorized):  # already revoked or expired: the session ends all the same
            tokens.revoke(runtime(), token)
    session.clear()
    flash("您已安全退出", "info")
    return redirect(url_for("pages.login"))  # type: ignore[return-value]
