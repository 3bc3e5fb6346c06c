"""The Flask application: a thin layer over ``engine`` (pages and the JSON API call the same service functions)."""

from __future__ import annotations

import os

from flask import Flask, Response, jsonify
from flask_wtf.csrf import CSRFProtect

from engine.auth import tokens
from engine.services.health import health
from engine.store.runtime import Runtime

from .api import api, register
from .pages import register as register_pages

# Pages are served from this origin only: no inline scripts or styles, no framing, forms post back here.
CSP = ("default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'self'; form-action 'self'; "
       "frame-ancestors 'none'")


def create_app(runtime: Runtime) -> Flask:
    app = Flask(__name__, instance_relative_config=True)
    app.config.update(
        SECRET_KEY=os.environ.get("ECO_SECRET_KEY") or tokens.session_secret(runtime),
        SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=os.environ.get("ECO_SECURE_COOKIES", "") == "1",
        MAX_CONTENT_LENGTH=16 * 1024 * 1024,
        API_TOKEN_TTL_HOURS=float(os.environ.get("ECO_TOKEN_TTL_HOURS", "8")))
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    app.extensions["runtime"] = runtime

    csrf = CSRFProtect(app)
    csrf.exempt(api)  # the API authenticates with bearer tokens, which a browser never sends on its own
    register(app)
    register_pages(app)  # after the API: the pages wrap its error handlers (HTML for pages, JSON under /api/)

    @app.get("/healthz")
    def healthz() -> tuple[Response, int]:
        state = health(runtime)
        return jsonify(state), 200 if state["db"] == "ok" else 503

    @app.after_request
    def security_headers(response: Response) -> Response:
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("Cache-Control", "no-store")
        return response

    return app
