"""API fixtures: the Flask app over the test engine, and callers holding bearer tokens."""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

import pytest

from engine.auth.tokens import digest
from engine.common import clock
from engine.store.models import ApiToken
from engine.store.runtime import Runtime
from tests.integration.driver import COMPANY, LEAD
from web import create_app


def make_token(runtime: Runtime, username: str, hours: float = 24 * 3660) -> str:
    """A token written straight to the table (skips argon2, which would make every test slow); it outlives
    the clock moves of a test unless told otherwise (expiry itself is tested in test_auth)."""
    token = secrets.token_urlsafe(32)
    now = clock.now()
    with runtime.db.transaction() as s:
        s.add(ApiToken(token_hash=digest(token), username=username, created_at=now,
                       expires_at=now + timedelta(hours=hours)))
    return token


class Caller:
    """A test client acting as one user."""

    def __init__(self, client: Any, token: str) -> None:
        self.client = client
        self.token = token
        self.headers = {"Authorization": f"Bearer {token}"}

    def get(self, url: str, **kw: Any) -> Any:
        return self.client.get(url, headers=self.headers, **kw)

    def post(self, url: str, json: Any = None, **kw: Any) -> Any:
        return self.client.post(url, json=json, headers=self.headers, **kw)

    def put(self, url: str, json: Any = None, **kw: Any) -> Any:
        return self.client.put(url, json=json, headers=self.headers, **kw)

    def delete(self, url: str, **kw: Any) -> Any:
        return self.client.delete(url, headers=self.headers, **kw)


@pytest.fixture
def app(runtime: Runtime) -> Any:
    application = create_app(runtime)
    application.config.update(TESTING=True)
    return application


@pytest.fixture
def client(app: Any) -> Any:
    return app.test_client()


@pytest.fixture
def as_user(runtime: Runtime, client: Any) -> Any:
    def make(username: str) -> Caller:
        return Caller(client, make_token(runtime, username))

    return make


def new_case(caller: Caller, **changes: Any) -> dict[str, Any]:
    response = caller.post("/api/v1/cases", json={**LEAD, "obligors": [COMPANY], **changes})
    assert response.status_code == 201, response.json
    return response.json  # type: ignore[no-any-return]


def open_task(caller: Caller, case_id: int, bpmn_id: str) -> dict[str, Any]:
    items = caller.get(f"/api/v1/cases/{case_id}").json["tasks"]
    found = [t for t in items if t["task"] == bpmn_id]
    assert found, [t["task"] for t in items]
    return found[0]  # type: ignore[no-any-return]


CLAIM_START = [
    ("officer1", "screen_lead", {"screening_result": "start_claim", "screening_reason": "损害事实清楚，符合索赔启动情形"}),
    ("officer1", "register_claim_start", {"cause": "违法排放含镍废水造成地表水生态环境损害",
                                          "case_summary": "企业暗管偷排含镍废水，拟启动索赔。", "obligors": [COMPANY]}),
    ("division1", "approve_claim_start_division", {"approved": True, "opinion": "同意启动索赔"}),
    ("dept1", "approve_claim_start_department", {"approved": True, "opinion": "同意"}),
]


def do(caller: Caller, case_id: int, bpmn_id: str, data: dict[str, Any]) -> dict[str, Any]:
    task = open_task(caller, case_id, bpmn_id)
    response = caller.post(f"/api/v1/tasks/{task['id']}/complete", json={"data": data})
    assert response.status_code == 200, response.json
    return response.json["case"]  # type: ignore[no-any-return]


def start_claim(as_user: Any, case_id: int) -> dict[str, Any]:
    """Drive a lead through screening and both approvals: the case gets its number and form [1]."""
    view: dict[str, Any] = {}
    for username, bpmn_id, data in CLAIM_START:
        view = do(as_user(username), case_id, bpmn_id, data)
    return view
