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


def test_a_strangers_failures_do_not_lock_the_owner_out(runtime, client, monkeypatch):
    """Issue 9 §6: five wrong passwords for officer2 and for admin1 from one address used to answer 429 to both
    owners at their correct password, from every address."""
    now = tokens.wall_now()
    monkeypatch.setattr(tokens, "wall_now", lambda: now)
    create_user(runtime, "officer2", "water-密码-2", ["officer"], "water", "赵经办")
    create_user(runtime, "admin1", "admin-密码-1", ["admin"], None, "管理员")
    stranger = {"REMOTE_ADDR": "203.0.113.66"}
    for name, where in (("officer2", stranger), ("admin1", {"REMOTE_ADDR": "203.0.113.67"})):
        for _ in range(5):
            assert login(client, name, "guess", environ_base=where).status_code == 401
    assert login(client, "officer2", "water-密码-2", environ_base={"REMOTE_ADDR": "10.0.1.2"}).status_code == 201
    assert login(client, "admin1", "admin-密码-1", environ_base={"REMOTE_ADDR": "10.0.1.3"}).status_code == 201
    refused = login(client, "officer2", "guess", environ_base=stranger)  # the stranger waits
    assert refused.status_code == 429
    assert refused.json["error"]["code"] == "too_many_attempts"
    assert refused.headers["Retry-After"] == "30" and "30秒后再试" in refused.json["error"]["message"]


def test_backoff_doubles_per_username_and_address(runtime, client, officer_password, monkeypatch):
    clock_at = [tokens.wall_now()]
    monkeypatch.setattr(tokens, "wall_now", lambda: clock_at[0])
    here = {"REMOTE_ADDR": "10.0.0.7"}

    def wait(seconds):
        clock_at[0] += timedelta(seconds=seconds)

    for _ in range(tokens.FREE_FAILURES):
        assert login(client, "officer1", "wrong", environ_base=here).status_code == 401
    for expected in (30, 60, 120, 240, 480, 900, 900):
        refused = login(client, "officer1", officer_password, environ_base=here)
        assert refused.status_code == 429 and int(refused.headers["Retry-After"]) == expected
        wait(expected - 1)
        assert login(client, "officer1", officer_password, environ_base=here).status_code == 429
        wait(1)
        assert login(client, "officer1", "wrong", environ_base=here).status_code == 401  # another failure
    wait(900)
    assert login(client, "officer1", officer_password, environ_base=here).status_code == 201
    # a success starts the pair's count afresh
    for _ in range(tokens.FREE_FAILURES):
        assert login(client, "officer1", "wrong", environ_base=here).status_code == 401
    assert login(client, "officer1", "wrong", environ_base=here).status_code == 429
    # a day later the failures are forgotten
    wait(24 * 3600 + 1)
    assert login(client, "officer1", officer_password, environ_base=here).status_code == 201


def test_throttling_per_address(runtime, client, officer_password, monkeypatch):
    now = tokens.wall_now()
    monkeypatch.setattr(tokens, "wall_now", lambda: now)
    for i in range(tokens.ADDRESS_LIMIT):
        assert login(client, f"guess{i}", "wrong", environ_base={"REMOTE_ADDR": "10.9.9.9"}).status_code == 401
    refused = login(client, "officer1", officer_password, environ_base={"REMOTE_ADDR": "10.9.9.9"})
    assert refused.status_code == 429 and refused.headers["Retry-After"] == "900"
    assert "15分钟" in refused.json["error"]["message"]
    assert login(client, "officer1", officer_password, environ_base={"REMOTE_ADDR": "10.9.9.8"}).status_code == 201
    monkeypatch.setattr(tokens, "wall_now", lambda: now + tokens.ADDRESS_WINDOW + timedelta(seconds=1))
    assert login(client, "officer1", officer_password, environ_base={"REMOTE_ADDR": "10.9.9.9"}).status_code == 201


def test_success_resets_the_pairs_count(runtime, client, officer_password):
    here = {"REMOTE_ADDR": "10.1.0.1"}
    for _ in range(2):
        for _ in range(tokens.FREE_FAILURES - 1):
            assert login(client, "officer1", "wrong", environ_base=here).status_code == 401
        assert login(client, "officer1", officer_password, environ_base=here).status_code == 201


def test_forwarded_for_counts_only_from_a_trusted_proxy(runtime, client, officer_password, monkeypatch):
    monkeypatch.delenv("ECO_TRUSTED_PROXIES", raising=False)
    proxy = {"REMOTE_ADDR": "10.0.0.1"}
    # no trusted proxy: a client cannot dodge throttling by inventing X-Forwarded-For addresses
    for i in range(tokens.FREE_FAILURES):
        assert login(client, "officer1", "wrong", environ_base=proxy,
                     headers={"X-Forwarded-For": f"198.51.100.{i}"}).status_code == 401
    assert login(client, "officer1", officer_password, environ_base=proxy,
                 headers={"X-Forwarded-For": "198.51.100.99"}).status_code == 429
    # behind the trusted proxy each client has its own count, and what a client prepends does not count
    monkeypatch.setenv("ECO_TRUSTED_PROXIES", "10.0.0.1, 192.168.0.0/16")
    for _ in range(tokens.FREE_FAILURES):
        assert login(client, "officer1", "wrong", environ_base=proxy,
                     headers={"X-Forwarded-For": "198.51.100.7"}).status_code == 401
    assert login(client, "officer1", "wrong", environ_base=proxy,
                 headers={"X-Forwarded-For": "1.2.3.4, 198.51.100.7, 192.168.1.5"}).status_code == 429
    assert login(client, "officer1", officer_password, environ_base=proxy,
                 headers={"X-Forwarded-For": "198.51.100.8"}).status_code == 201
    # a peer that is not the proxy is throttled by its own address whatever it claims
    other = {"REMOTE_ADDR": "10.0.0.2"}
    assert login(client, "officer1", officer_password, environ_base=other,
                 headers={"X-Forwarded-For": "198.51.100.7"}).status_code == 201


@pytest.mark.parametrize(("peer", "header", "trusted", "expected"), [
    ("10.0.0.1", "198.51.100.7", "", "10.0.0.1"),
    ("10.0.0.1", "198.51.100.7", "10.0.0.2", "10.0.0.1"),
    ("10.0.0.1", "198.51.100.7", "10.0.0.1", "198.51.100.7"),
    ("10.0.0.1", "6.6.6.6, 198.51.100.7", "10.0.0.1", "198.51.100.7"),
    ("10.0.0.1", "198.51.100.7, 10.0.0.9", "10.0.0.0/24", "198.51.100.7"),
    ("10.0.0.1", "10.0.0.8, 10.0.0.9", "10.0.0.0/24", "10.0.0.8"),
    ("10.0.0.1", "", "10.0.0.1", "10.0.0.1"),
    ("10.0.0.1", "not-an-ip", "10.0.0.1", "not-an-ip"),
    ("::1", "2001:db8:0:0::1", "::1, junk", "2001:db8::1"),
    (None, "198.51.100.7", "10.0.0.1", "unknown"),
])
def test_client_address(peer, header, trusted, expected):
    assert tokens.client_address(peer, header, trusted) == expected


def test_changing_a_password_revokes_the_users_tokens(runtime, client, officer_password, as_user):
    caller = as_user("officer1")
    assert caller.get("/api/v1/tasks").status_code == 200
    create_user(runtime, "officer1", officer_password, ["officer"], "eco_env")  # the same password: no change
    assert caller.get("/api/v1/tasks").status_code == 200
    admin = as_user("admin1")
    changed = admin.post("/api/v1/admin/users", json={"username": "officer1", "password": "新的密码-2026"})
    assert changed.status_code == 200, changed.json
    assert caller.get("/api/v1/tasks").status_code == 401
    assert login(client, "officer1", officer_password).status_code == 401
    assert login(client, "officer1", "新的密码-2026").status_code == 201
    # the command line's way (create_user) revokes too
    fresh = login(client, "officer1", "新的密码-2026").json["token"]
    create_user(runtime, "officer1", "又一个密码-2027", ["officer"], "eco_env")
    assert client.get("/api/v1/tasks", headers={"Authorization": f"Bearer {fresh}"}).status_code == 401
    assert admin.get("/api/v1/tasks").status_code == 200  # nobody else's


def test_deactivating_a_user_revokes_the_users_tokens(runtime, client, officer_password, as_user):
    caller = as_user("officer1")
    admin = as_user("admin1")
    assert admin.post("/api/v1/admin/users", json={"username": "officer1", "active": False}).json["active"] is False
    assert caller.get("/api/v1/tasks").status_code == 401
    assert login(client, "officer1", officer_password).status_code == 401
    assert admin.post("/api/v1/admin/users", json={"username": "officer1", "active": True}).status_code == 200
    assert caller.get("/api/v1/tasks").status_code == 401  # revoked for good, not only while inactive
    assert login(client, "officer1", officer_password).status_code == 201
    with runtime.db.transaction() as s:
        revoked = s.execute(select(ApiToken.revoked_at).where(ApiToken.token_hash == tokens.digest(caller.token)))
        assert revoked.scalar_one() is not None


def test_inactive_user_token_stops_working(runtime, as_user):
    from engine.store.models import User

    caller = as_user("officer1")
    assert caller.get("/api/v1/tasks").status_code == 200
    with runtime.db.transaction() as s:
        s.execute(select(User).where(User.username == "officer1")).scalar_one().active = False
    assert caller.get("/api/v1/tasks").status_code == 401
