"""The Flask application: a thin layer over ``engine`` (pages and the JSON API call the same service functions)."""

from __future__ import annotations

from flask import Flask, Response, jsonify
from sqlalchemy import text

from engine.runtime import Engine


def create_app(engine: Engine) -> Flask:
    app = Flask(__name__, instance_relative_config=True)
    app.config.update(SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax", MAX_CONTENT_LENGTH=16 * 1024 * 1024)
    app.extensions["engine"] = engine

    @app.get("/healthz")
    def healthz() -> tuple[Response, int]:
        try:
            with engine.db.transaction() as s:
                s.execute(text("SELECT 1"))
            db = "ok"
        except Exception:  # health must answer, not raise
            db = "error"
        return jsonify({"db": db, "scheduler": "ok"}), 200 if db == "ok" else 503

    @app.after_request
    def security_headers(response):  # type: ignore[no-untyped-def]
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        return response

    return app
