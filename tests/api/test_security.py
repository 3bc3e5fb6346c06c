"""The web layer's own defences: headers, session cookie settings, CSRF for forms (not for the token API),
JSON for unknown routes and methods, and the 500 handler kept for real bugs."""

from __future__ import annotations

from flask import session

from engine.store.runtime import Runtime
from web import create_app


def test_security_headers_on_every_reply(client, as_user):
    for response in (client.get("/healthz"), client.get("/api/v1/nothing-here"), as_user("officer1").get("/api/v1/tasks")):
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["X-Frame-Options"] == "DENY"
        assert "default-src 'self'" in response.headers["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
        assert response.headers["Cache-Control"] == "no-store"


def test_session_cookie_settings(app):
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert len(app.config["SECRET_KEY"]) >= 32

    @app.get("/_test/session")
    def set_session() -> str:
        session["x"] = 1
        return "ok"

    response = app.test_client().get("/_test/session")
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_secret_key_survives_a_restart(runtime: Runtime):
    assert create_app(runtime).config["SECRET_KEY"] == create_app(runtime).config["SECRET_KEY"]


def test_forms_need_a_csrf_token_but_the_api_does_not(app, as_user):
    @app.post("/_test/form")
    def form_post() -> str:
        return "posted"

    client = app.test_client()
    refused = client.post("/_test/form", data={"a": "1"})
    assert refused.status_code == 400
    assert refused.json["error"]["code"] == "csrf_failed"
    officer = as_user("officer1")
    from tests.integration.driver import LEAD

    assert officer.post("/api/v1/cases", json=LEAD).status_code == 201  # no CSRF token: bearer auth


def test_unknown_routes_and_methods_are_json(client, as_user):
    missing = client.get("/api/v1/nothing")
    assert missing.status_code == 404 and missing.json["error"]["code"] == "not_found"
    assert client.get("/no/such/page").json["error"]["code"] == "not_found"
    wrong = client.put("/api/v1/cases")
    assert wrong.status_code == 405 and wrong.json["error"]["code"] == "method_not_allowed"
    assert "GET" in wrong.headers["Allow"]


def test_the_500_handler_is_json_and_only_for_bugs(app, caplog):
    @app.get("/_test/bug")
    def bug() -> str:
        raise RuntimeError("a real bug")

    app.config["PROPAGATE_EXCEPTIONS"] = False
    response = app.test_client().get("/_test/bug")
    assert response.status_code == 500
    assert response.json["error"]["code"] == "internal_error"
    assert "a real bug" not in response.get_data(as_text=True)  # the cause goes to the log, not to the caller
    assert any("a real bug" in r.getMessage() or (r.exc_info and "a real bug" in str(r.exc_info[1]))
               for r in caplog.records)


def test_openapi_document(client):
    doc = client.get("/api/v1/openapi.json").json
    assert doc["openapi"].startswith("3.1")
    assert doc["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    for path, operations in doc["paths"].items():
        for method, op in operations.items():
            assert op["operationId"] and op["responses"], (path, method)
            for param in op.get("parameters", []):
                if param["in"] == "path":
                    assert "{" + param["name"] + "}" in path
