"""Page fixtures: the Flask app over the test engine (CSRF on, as in production) and browsers signed in as a user."""

from __future__ import annotations

import re
from typing import Any

import pytest
from werkzeug.datastructures import MultiDict

from engine.store.runtime import Runtime
from tests.api.conftest import make_token
from web import create_app

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


class Browser:
    """A test client with a session cookie, posting forms with the CSRF token of the page they came from."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.csrf = ""

    def get(self, url: str, **kw: Any) -> Any:
        response = self.client.get(url, **kw)
        found = CSRF.search(response.get_data(as_text=True)) if response.mimetype == "text/html" else None
        if found:
            self.csrf = found.group(1)
        return response

    def post(self, url: str, data: dict[str, Any] | list[tuple[str, str]] | None = None, **kw: Any) -> Any:
        if not self.csrf:
            self.get("/inbox")
        items = list(data.items()) if isinstance(data, dict) else list(data or [])
        response = self.client.post(url, data=MultiDict([*items, ("csrf_token", self.csrf)]), **kw)
        return response

    def text(self, url: str) -> str:
        response = self.get(url)
        assert response.status_code == 200, (url, response.status_code)
        return str(response.get_data(as_text=True))


@pytest.fixture
def app(runtime: Runtime) -> Any:
    application = create_app(runtime)
    application.config.update(TESTING=True)
    return application


@pytest.fixture
def browser_as(runtime: Runtime, app: Any) -> Any:
    """A signed-in browser for a user (the token written straight to the table, as the API tests do)."""
    def make(username: str) -> Browser:
        client = app.test_client()
        with client.session_transaction() as session:
            session["token"] = make_token(runtime, username)
            session["username"] = username
        return Browser(client)

    return make
