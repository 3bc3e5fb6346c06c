"""Token flow: issue with a password, use, expire on the (simulated) clock, revoke; throttling of failures."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from engine.auth import tokens
from engine.auth.users import create_user, get_actor
from engine.services.timers import advance_clock
from engine.store.models import ApiToken


@pytest.fixture
def officer_password(runtime):
    create_user(runtime, "officer1", "s3cret-密码", ["officer"], "eco_env", "王经办")
    return "s3cret-密码"


def login(client, username, password, **kw):
    return client.post("/api/v1/auth/token", json={"username": username, "password": password}, **kw)


def test_issue_use_expire_and_revoke(runtime, client, officer_password):
    response = login(client, "officer1", officer_password)
    assert response.status_code == 201
    body = response.json
    assert body["user"] == {"username": "officer1", "display_name": "王经办", "roles": ["officer"],
                            "department": "eco_env"}
    token = body["token"]
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/tasks", headers=headers).status_code == 200
    with runtime.db.transaction() as s:
        stored = s.execute(select(ApiToken.token_hash)).scalars().all()
    assert stored == [tokens.digest(token)]  # only the hash is kept
    assert token not in stored

    advance_clock(runtime, get_actor(runtime, "admin1"), by="PT7H59M")
    assert client.get("/api/v1/tasks", headers=headers).status_code == 200
    advance_clock(runtime, get_actor(runtime, "admin1"), by="PT2M")
    expired = client.get("/api/v1/tasks", headers=headers)
    assert expired.status_code == 401
    assert expired.json["error"]["code"] == "unauthorized"
    assert expired.headers["WWW-Authenticate"].startswith("Bearer")

    token = login(client, "officer1", officer_password).json["token"]
    headers = {"Authorization": f"Bearer {token}"}
    assert client.delete("/api/v1/auth/token", headers=headers).status_code == 204
    assert client.get("/api/v1/tasks", headers=headers).status_code == 401
    assert client.delete("/api/v1/auth/token", headers=headers).status_code == 401


def test_configurable_lifetime(runtime, app, officer_password):
    app.config["API_TOKEN_TTL_HOURS"] = 1
    client = app.test_client()
    token = login(client, "officer1", officer_password).json["token"]
    advance_clock(runtime, get_actor(runtime, "admin1"), by="PT61M")
    assert client.get("/api/v1/tasks", headers={"Authorization": f"Bearer {token}"}).status_code == 401


@pytest.mark.parametrize("header", ["", "Bearer", "Bearer ", "Basic b2ZmaWNlcjE6ZGVtbw==", "Bearer nonsense",
                                    "Bearer " + "x" * 5000])
def test_missing_or_bad_credentials(client, header):
    response = client.get("/api/v1/cases", headers={"Authorization": header} if header else {})
    assert response.status_code == 401
    assert set(response.json["error"]) == {"code", "message", "fields"}


@pytest.mark.parametrize("body", [{}, {"username": "officer1"}, {"username": 1, "password": 2},
                                  {"username": "", "password": ""}])
def test_incomplete_credentials(client, body):
    response = client.post("/api/v1/auth/token", json=body)
    assert response.status_code == 422
    assert response.json["error"]["fields"]


def test_wrong_password_and_unknown_user(client, officer_password):
    assert login(client, "officer1", "wrong").status_code == 401
    assert login(client, "nobody", "wrong").status_code == 401
    assert login(client, "officer2", "").status_code == 422  # no password set: nobody can log in


def test_throttling_per_username_and_window(runtime, client, officer_password, monkeypatch):
    now = tokens.wall_now()
    monkeypatch.setattr(tokens, "wall_now", lambda: now)
    for i in range(5):
        assert login(client, "officer1", "wrong", environ_base={"REMOTE_ADDR": f"10.0.0.{i}"}).status_code == 401
    refused = login(client, "officer1", officer_password, environ_base={"REMOTE_ADDR": "10.0.1.1"})
    assert refused.status_code == 429
    assert "15分钟" in refused.json["error"]["message"]
    monkeypatch.setattr(tokens, "wall_now", lambda: now + timedelta(minutes=16))
    assert login(client, "officer1", officer_password, environ_base={"REMOTE_ADDR": "10.0.1.1"}).status_code == 201


def test_throttling_per_address(runtime, client, officer_password):
    for i in range(5):
        assert login(client, f"guess{i}", "wrong", environ_base={"REMOTE_ADDR": "10.9.9.9"}).status_code == 401
    assert login(client, "officer1", officer_password, environ_base={"REMOTE_ADDR": "10.9.9.9"}).status_code == 429
    assert login(client, "officer1", officer_password, environ_base={"REMOTE_ADDR": "10.9.9.8"}).status_code == 201


def test_success_resets_the_username_count(runtime, client, officer_password):
    for i in range(4):
        login(client, "officer1", "wrong", environ_base={"REMOTE_ADDR": f"10.1.0.{i}"})
    assert login(client, "officer1", officer_password, environ_base={"REMOTE_ADDR": "10.1.1.1"}).status_code == 201
    for i in range(4):
        assert login(client, "officer1", "wrong", environ_base={"REMOTE_ADDR": f"10.2.0.{i}"}).status_code == 401
    assert login(client, "officer1", officer_password, environ_base={"REMOTE_ADDR": "10.2.1.1"}).status_code == 201


def test_inactive_user_token_stops_working(runtime, as_user):
    from engine.store.models import User

    caller = as_user("officer1")
    assert caller.get("/api/v1/tasks").status_code == 200
    with runtime.db.transaction() as s:
        s.execute(select(User).where(User.username == "officer1")).scalar_one().active = False
    assert caller.get("/api/v1/tasks").status_code == 401
