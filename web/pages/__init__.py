"""The pages for people (officers, heads, supervisors): server-rendered Jinja templates over the same
``engine.services`` functions as the JSON API. Session login (Flask's signed cookie holding an API token issued by
``engine.auth.tokens.issue_token``, so expiry, revocation and login throttling are the API's), CSRF on every form,
HTML error pages; a little JavaScript (``web/static/js``) and htmx, bpmn-js and ECharts from ``web/static/vendor``.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, Flask, Response, current_app, flash, g, redirect, request, session, url_for

from engine.auth import tokens
from engine.common.actor import Actor
from engine.common.errors import Unauthorized
from engine.services import worklist
from engine.store.runtime import Runtime

pages = Blueprint("pages", __name__)

PUBLIC = {"pages.login", "pages.public_cases", "pages.public_case"}


def runtime() -> Runtime:
    eng: Runtime = current_app.extensions["runtime"]
    return eng


def actor() -> Actor:
    who: Actor = g.actor
    return who


def safe_next(target: str | None) -> str | None:
    """A local path to return to after login (never another site, never the API)."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") \
            or target.startswith("/api/") or "\\" in target:
        return None
    return target


def login_redirect() -> Response:
    target = request.full_path if request.method == "GET" else request.referrer
    location = url_for("pages.login", next=safe_next(target.rstrip("?") if target else None))
    if request.headers.get("HX-Request"):
        response = Response(status=204)
        response.headers["HX-Redirect"] = location
        return response
    return redirect(location)  # type: ignore[return-value]


@pages.before_request
def authenticate() -> Response | None:
    """Every page but the login needs a signed-in person; an expired or revoked login goes back to the login."""
    if request.endpoint in PUBLIC:
        return None
    token = session.get("token")
    if not isinstance(token, str) or not token:
        return login_redirect()
    try:
        g.actor = tokens.actor_for_token(runtime(), token)
    except Unauthorized:
        session.clear()
        flash("登录已过期或已在别处退出，请重新登录", "warning")
        return login_redirect()
    return None


@pages.app_context_processor
def header_context() -> dict[str, Any]:
    who = g.get("actor")
    if who is None or request.blueprint != "pages":
        return {"me": None}
    if "header" not in g:
        g.header = worklist.header(runtime(), who)
    return {"me": g.header}


def register(app: Flask) -> None:
    from . import admin, auth, cases, ledger, models, public, work  # noqa: F401  (the views register themselves)
    from .errors import install
    from .labels import install as install_labels

    app.register_blueprint(pages)
    install_labels(app)
    install(app)
