"""A server killed with SIGKILL in the middle of a burst of 200 actions (PostgreSQL) loses nothing it
acknowledged and leaves nothing half-done: after a restart every acknowledged case and completion is there, each
case's inbox matches its process instance, no task was completed twice, and the work carries on."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from engine.common import clock
from engine.common.actor import SYSTEM
from engine.process.instances import open_run
from engine.process.workflow import ready_user_tasks
from engine.store.models import AuditEvent, HumanTask, ProcessInstance
from engine.store.runtime import Config, Runtime
from tests.integration.driver import COMPANY, LEAD

ROOT = Path(__file__).resolve().parents[2]
CASES = 50  # x 4 actions = 200
KILL_AFTER = 90


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    def __init__(self, db_url: str, log: Path) -> None:
        self.db_url, self.port, self.log = db_url, free_port(), log
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        out = self.log.open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "cli", "--database", self.db_url, "serve", "--demo", "--port", str(self.port)],
            cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
        end = time.monotonic() + 90
        while time.monotonic() < end:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz", timeout=2) as resp:
                    if json.loads(resp.read())["db"] == "ok":
                        return
            except OSError:
                time.sleep(0.3)
        raise AssertionError("server did not start: " + self.log.read_text(errors="replace")[-2000:])

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def call(self, method: str, path: str, token: str | None = None, body: Any = None) -> tuple[int, Any]:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(f"http://127.0.0.1:{self.port}/api/v1{path}", data=data, method=method)
        if data is not None:
            request.add_header("Content-Type", "application/json")
        if token:
            request.add_header("Authorization", f"Bearer {token}")
        try:
            with urllib.request.urlopen(request, timeout=30) as resp:
                return resp.status, json.loads(resp.read() or b"null")
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read() or b"null")

    def login(self, username: str) -> str:
        status, body = self.call("POST", "/auth/token", body={"username": username, "password": "demo"})
        assert status == 201, body
        return str(body["token"])


SCREEN = {"screening_result": "start_claim", "screening_reason": "损害事实清楚"}
REGISTER = {"cause": "违法排放含镍废水", "case_summary": "企业暗管偷排含镍废水，拟启动索赔。", "obligors": [COMPANY]}


@pytest.fixture
def pg_url(db_url: str) -> str:
    if not db_url.startswith("postgresql"):
        pytest.skip("the crash test runs on PostgreSQL (ECO_TEST_POSTGRES)")
    return db_url


def test_sigkill_during_a_burst_loses_nothing_acknowledged(pg_url: str, tmp_path: Path) -> None:
    server = Server(pg_url, tmp_path / "server.log")
    server.start()
    try:
        token = server.login("officer1")
        acknowledged: dict[str, list[Any]] = {"cases": [], "completed": []}
        done = Counter[str]()
        lock = threading.Lock()
        killed = threading.Event()

        def note(kind: str, value: Any = None) -> None:
            with lock:
                done["actions"] += 1
                if value is not None:
                    acknowledged[kind].append(value)

        def worker(n: int) -> None:
            for i in range(n, CASES, 4):
                try:
                    status, case = server.call("POST", "/cases", token, {**LEAD, "title": f"崩溃测试线索{i}"})
                    if status != 201:
                        continue
                    note("cases", case["id"])
                    task = next(t for t in case["tasks"] if t["task"] == "screen_lead")
                    status, _ = server.call("POST", f"/tasks/{task['id']}/claim", token)
                    note("claimed")
                    status, out = server.call("POST", f"/tasks/{task['id']}/complete", token, {"data": SCREEN})
                    if status == 200:
                        note("completed", task["id"])
                    nxt = next(t for t in out["case"]["tasks"] if t["task"] == "register_claim_start")
                    status, _ = server.call("POST", f"/tasks/{nxt['id']}/complete", token, {"data": REGISTER})
                    if status == 200:
                        note("completed", nxt["id"])
                except (OSError, StopIteration, KeyError, TypeError):
                    if killed.is_set():
                        return

        threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
        for t in threads:
            t.start()
        end = time.monotonic() + 300
        while done["actions"] < KILL_AFTER and time.monotonic() < end and any(t.is_alive() for t in threads):
            time.sleep(0.01)
        killed.set()
        server.kill()
        for t in threads:
            t.join(timeout=60)
        assert done["actions"] >= KILL_AFTER, "the burst did not get going"

        server.start()  # same database; the schema and clock are picked up as they were
        token = server.login("officer1")
        for case_id in acknowledged["cases"]:
            status, _ = server.call("GET", f"/cases/{case_id}", token)
            assert status == 200, case_id
        for task_id in acknowledged["completed"]:
            status, task = server.call("GET", f"/tasks/{task_id}", token)
            assert status == 200 and task["state"] == "completed", task_id

        check_consistency(pg_url)

        # the work carries on: every open screening can be completed now
        status, inbox = server.call("GET", "/tasks?scope=all", token)
        assert status == 200
        for item in [t for t in inbox["items"] if t["task"] == "screen_lead"][:5]:
            status, body = server.call("POST", f"/tasks/{item['id']}/complete", token, {"data": SCREEN})
            assert status in (200, 409), body
    finally:
        server.stop()


def check_consistency(db_url: str) -> None:
    """Inbox rows match each instance's READY user tasks; no task was completed twice."""
    runtime = Runtime(Config(database_url=db_url, demo=True))
    try:
        with runtime.db.transaction() as s:
            for inst in s.execute(select(ProcessInstance).where(ProcessInstance.case_id.is_not(None))).scalars():
                run = open_run(runtime, s, inst, SYSTEM)
                ready = {str(t.id) for t in ready_user_tasks(run.wf)}
                inbox = set(s.execute(select(HumanTask.id).where(HumanTask.instance_id == inst.id,
                                                                 HumanTask.state == "open")).scalars())
                assert ready == inbox, (inst.case_id, ready ^ inbox)
            completions = Counter(str(e.detail.get("task_id")) for e in s.execute(
                select(AuditEvent).where(AuditEvent.event == "completed")).scalars())
            twice = [k for k, v in completions.items() if v > 1]
            assert not twice, twice
    finally:
        runtime.close()
        clock.use(clock.Clock())


if not os.environ.get("ECO_TEST_POSTGRES"):
    pytestmark = pytest.mark.skip(reason="ECO_TEST_POSTGRES is not set")
