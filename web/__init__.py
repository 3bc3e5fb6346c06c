"""The Flask application: a thin layer over ``engine`` (pages and the JSON API call the same service functions)."""

from __future__ import annotations

import os

from flask import Flask, Response, jsonify
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import text

from engine import tokens
from engine.runtime import Engine

# Pages will be served from this origin only: no inline scripts, no framing, forms post back here.
CSP = ("default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'self'; form-action 'self'; "
       "frame-ancestors 'none'")


def create_app(engine: Engine) -> Flask:
    app = Flask(__name__, instance_relative_config=True)
    app.config.update(
        SECRET_KEY=os.environ.get("ECO_SECRET_KEY") or tokens.session_secret(engine),
        SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=os.environ.get("ECO_SECURE_COOKIES", "") == "1",
        MAX_CONTENT_LENGTH=16 * 1024 * 1024,
        API_TOKEN_TTL_HOURS=float(os.environ.get("ECO_TOKEN_TTL_HOURS", "8")))
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    app.extensions["engine"] = engine

    from .api import api, register

    csrf = CSRFProtect(app)
    csrf.exempt(api)  # the API authenticates with bearer tokens, which a browser never sends on its own
    register(app)

    @app.get("/healthz")
    def healthz() -> tuple[Response, int]:
        try:
            with engine.db.transaction() as s:
                s.execute(text("SELECT 1"))
            db = "ok"
        except Exception:  # health must answer, not raise
            db = "error"
        from engine.scheduler import describe

        # "ok": this process runs the scheduler; "standby": another process holds it; "off": none here.
        return jsonify({"db": db, "scheduler": describe(engine.scheduler)}), 200 if db == "ok" else 503

    @app.after_request
    def security_headers(response: Response) -> Response:
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("Cache-Control", "no-store")
        return response

    return app
