"""Session login and logout, CSRF, HTML errors for pages and JSON errors for the API."""

from __future__ import annotations

from typing import Any

from engine.auth.users import create_user
from engine.store.runtime import Runtime

from .conftest import CSRF

PASSWORD = "Pages-Test-2026!"


def _csrf(client: Any, url: str = "/login") -> str:
    found = CSRF.search(client.get(url).get_data(as_text=True))
    assert found
    return found.group(1)


def test_pages_need_a_login_and_the_login_goes_to_the_inbox(runtime: Runtime, app: Any) -> None:
    create_user(runtime, "pageuser", PASSWORD, ["officer"], "eco_env", "页面测试")
    client = app.test_client()
    response = client.get("/")
    assert response.status_code == 302 and response.headers["Location"] == "/login?next=/"
    response = client.get("/inbox")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login?next=")
    page = client.get("/login").get_data(as_text=True)
    assert "用户名" in page and "密码" in page and 'lang="zh-CN"' in page
    response = client.post("/login", data={"username": "pageuser", "password": PASSWORD,
                                            "csrf_token": _csrf(client), "next": "/ledger"})
    assert response.status_code == 302 and response.headers["Location"] == "/ledger"
    assert client.get("/").headers["Location"] == "/inbox"
    inbox = client.get("/inbox").get_data(as_text=True)
    assert "我的工作" in inbox and "页面测试" in inbox and "生态环境" in inbox  # the header: name and department


def test_a_wrong_password_says_so_in_chinese_and_keeps_the_username(runtime: Runtime, app: Any) -> None:
    create_user(runtime, "pageuser", PASSWORD, ["officer"], "eco_env")
    client = app.test_client()
    response = client.post("/login", data={"username": "pageuser", "password": "wrong", "csrf_token": _csrf(client)})
    assert response.status_code == 401
    text = response.get_data(as_text=True)
    assert "用户名或密码错误" in text and 'value="pageuser"' in text


def test_next_never_leaves_the_site(runtime: Runtime, app: Any) -> None:
    create_user(runtime, "pageuser", PASSWORD, ["officer"], "eco_env")
    client = app.test_client()
    for target in ("https://evil.example/", "//evil.example/", "/api/v1/cases", "javascript:alert(1)"):
        response = client.post("/login", data={"username": "pageuser", "password": PASSWORD,
                                                "csrf_token": _csrf(client), "next": target})
        assert response.status_code == 302 and response.headers["Location"] == "/inbox", target
        client.post("/logout", data={"csrf_token": _csrf(client, "/inbox")})


def test_login_is_throttled_like_the_api(runtime: Runtime, app: Any) -> None:
    """The page calls the API's token function, so its throttling (whatever its rule) applies to the page."""
    create_user(runtime, "pageuser", PASSWORD, ["officer"], "eco_env")
    client = app.test_client()
    statuses = []
    for _ in range(12):
        response = client.post("/login", data={"username": "pageuser", "password": "wrong",
                                                "csrf_token": _csrf(client)})
        statuses.append(response.status_code)
        if response.status_code == 429:
            assert "登录失败次数过多" in response.get_data(as_text=True)
            break
    assert statuses[-1] == 429, statuses
    assert int(response.headers["Retry-After"]) >= 1
    response = client.post("/login", data={"username": "pageuser", "password": PASSWORD, "csrf_token": _csrf(client)})
    assert response.status_code == 429  # even the right password waits
    # the throttle is per address: the same person from another address (behind a trusted proxy) gets in
    app.config["TRUSTED_PROXIES"] = "127.0.0.1"
    response = client.post("/login", data={"username": "pageuser", "password": PASSWORD, "csrf_token": _csrf(client)},
                           headers={"X-Forwarded-For": "10.1.2.3"})
    assert response.status_code == 302


def test_logout_revokes_the_login(runtime: Runtime, app: Any) -> None:
    create_user(runtime, "pageuser", PASSWORD, ["officer"], "eco_env")
    client = app.test_client()
    client.post("/login", data={"username": "pageuser", "password": PASSWORD, "csrf_token": _csrf(client)})
    with client.session_transaction() as session:
        token = session["token"]
    response = client.post("/logout", data={"csrf_token": _csrf(client, "/inbox")})
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    assert client.get("/inbox").status_code == 302
    # the token the session held is revoked: replaying the old cookie's token does not sign in again
    with client.session_transaction() as session:
        session["token"] = token
    response = client.get("/inbox")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_forms_need_the_csrf_token(browser_as: Any) -> None:
    browser = browser_as("officer1")
    response = browser.client.post("/leads/new", data={"title": "x"})
    assert response.status_code == 400
    text = response.get_data(as_text=True)
    assert "<html" in text and "表单已过期" in text


def test_errors_are_html_for_pages_and_json_for_the_api(browser_as: Any) -> None:
    browser = browser_as("officer1")
    page = browser.get("/no-such-page", headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert page.status_code == 404 and page.mimetype == "text/html" and "页面不存在" in page.get_data(as_text=True)
    assert browser.get("/no-such-page").mimetype == "application/json"  # a script asking for anything gets JSON
    api = browser.client.get("/api/v1/no-such-thing")
    assert api.status_code == 404 and api.mimetype == "application/json" and api.json["error"]["code"] == "not_found"
    api = browser.client.get("/api/v1/cases")
    assert api.status_code == 401 and api.json["error"]["code"] == "unauthorized"  # a session is not a bearer token
    assert browser.get("/cases/99999").status_code == 404
