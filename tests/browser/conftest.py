"""Browser tests: Playwright (Python) driving Debian's Chromium (/usr/bin/chromium; never `playwright install`)
against `eco-claims serve --demo` started here on a free port with a fresh database.

Skipped, with the reason, when Chromium, the playwright package or the front-end libraries (tools/web-assets.sh)
are missing; under CI=true (or ECO_BROWSER_REQUIRED=1) that is an error instead. Screenshots go to tests/browser/artifacts/ (or
$ECO_BROWSER_ARTIFACTS)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(os.environ.get("ECO_BROWSER_ARTIFACTS") or Path(__file__).parent / "artifacts")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync", "--lang=zh-CN"]
PASSWORD = "demo"


def _missing() -> str | None:
    if not CHROMIUM.exists():
        return "Chromium not installed (/usr/bin/chromium): apt-get install -y chromium fonts-noto-cjk"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the Python package playwright is not installed (pip install playwright; never `playwright install`)"
    if not (ROOT / "web/static/vendor/.installed").exists():
        return "front-end libraries missing: run tools/web-assets.sh (npm ci)"
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    reason = _missing()
    if reason is None:
        return
    in_ci = os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")
    if os.environ.get("ECO_BROWSER_REQUIRED") == "1" or in_ci:
        raise pytest.UsageError(f"browser tests cannot run: {reason}")
    for item in items:
        if Path(str(item.fspath)).parent == Path(__file__).parent:
            item.add_marker(pytest.mark.skip(reason=reason))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A demo service (waitress, scheduler, demo users and cases) on a free port, stopped at the end."""
    folder = tmp_path_factory.mktemp("browser-server")
    port = free_port()
    log = (folder / "server.log").open("wb")
    proc = subprocess.Popen([sys.executable, "-m", "cli", "--database", f"sqlite:///{folder / 'demo.sqlite'}",
                             "serve", "--demo", "--port", str(port)], cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        end = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(f"{base}/healthz", timeout=2) as resp:
                    if json.loads(resp.read())["db"] == "ok":
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > end:
                raise RuntimeError("the demo service did not start: " + (folder / "server.log").read_text()[-3000:])
            time.sleep(0.3)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
        yield browser
        browser.close()


class Person:
    """One person's browser tab; every console error or uncaught exception is collected."""

    def __init__(self, chromium: Any, base: str, width: int = 1366, height: int = 768) -> None:
        self.base = base
        self.context = chromium.new_context(viewport={"width": width, "height": height}, locale="zh-CN",
                                            timezone_id="Asia/Shanghai", accept_downloads=True)
        self.page = self.context.new_page()
        self.console: list[tuple[str, str]] = []
        self.refused_pages: set[str] = set()  # pages answered 4xx on purpose (422 form errors, 404 not visible)
        self.page.on("console", lambda m: self.console.append((f"console {m.type}: {m.text}", m.location.get("url", "")))
                     if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.console.append((f"page error: {e}", "")))
        self.page.on("response", self._response)

    def _response(self, response: Any) -> None:
        if response.request.resource_type == "document" and 400 <= response.status < 500:
            self.refused_pages.add(response.url)

    @property
    def errors(self) -> list[str]:
        """Console errors, except Chromium's note that a page itself came with a 4xx status."""
        return [text for text, url in self.console
                if not (url in self.refused_pages and text.startswith("console error: Failed to load resource"))]

    def go(self, path: str) -> Any:
        return self.page.goto(self.base + path)

    def login(self, username: str) -> None:
        self.go("/login")
        self.page.get_by_label("用户名").fill(username)
        self.page.get_by_label("密码").fill(PASSWORD)
        self.page.get_by_role("button", name="登录").click()
        self.page.wait_for_url("**/inbox")

    def logout(self) -> None:
        self.page.get_by_role("button", name="退出").click()
        self.page.wait_for_url("**/login")

    def shot(self, name: str, full_page: bool = False) -> Path:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=full_page)
        return path

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def person(chromium: Any, server: str) -> Iterator[Any]:
    made: list[Person] = []

    def make(username: str | None = None, width: int = 1366, height: int = 768) -> Person:
        who = Person(chromium, server, width, height)
        made.append(who)
        if username:
            who.login(username)
        return who

    yield make
    errors = [e for who in made for e in who.errors]
    for who in made:
        who.close()
    assert errors == [], "console errors: " + "; ".join(errors)
