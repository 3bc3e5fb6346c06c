"""`eco-claims serve --demo` starts a real server (waitress) with the scheduler and answers /healthz."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_serve_demo_answers_healthz(tmp_path: Path) -> None:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "cli", "--database", f"sqlite:///{tmp_path / 'serve.sqlite'}", "serve", "--demo",
         "--port", str(port)], cwd=Path(__file__).resolve().parents[2],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        body = None
        end = time.monotonic() + 60
        while time.monotonic() < end and body is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as resp:
                    body = json.loads(resp.read())
            except OSError:
                time.sleep(0.3)
        assert body is not None, "server did not answer"
        assert body["db"] == "ok"
        assert body["scheduler"] in ("ok", "standby")
    finally:
        proc.terminate()
        proc.wait(timeout=15)


def _call(port: int, method: str, path: str, body: bytes | None = None, token: str | None = None,
          content_type: str = "application/json", timeout: float = 30) -> tuple[int, dict]:
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=body, method=method)
    request.add_header("Content-Type", content_type)
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as resp:
            return resp.status, json.loads(resp.read() or b"{}")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


def _upload(port: int, token: str, text: str) -> tuple[int, dict]:
    boundary = "eco-claims-test-boundary"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"eco_damage_claim.bpmn\"\r\n"
            f"Content-Type: application/xml\r\n\r\n{text}\r\n--{boundary}--\r\n").encode()
    return _call(port, "POST", "/api/v1/process-models", body, token, f"multipart/form-data; boundary={boundary}")


def test_a_diagram_cannot_hang_the_service(tmp_path: Path) -> None:
    """``while True`` is refused at upload; a data-dependent busy loop is stopped by the sandbox's budget and ends
    as an incident, and /healthz answers within a second during and after."""
    import threading

    port = free_port()
    root = Path(__file__).resolve().parents[2]
    proc = subprocess.Popen(
        [sys.executable, "-m", "cli", "--database", f"sqlite:///{tmp_path / 'serve.sqlite'}", "serve", "--demo",
         "--port", str(port)], cwd=root, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        end = time.monotonic() + 60
        while time.monotonic() < end:
            try:
                if _call(port, "GET", "/healthz", timeout=2)[0] == 200:
                    break
            except OSError:
                time.sleep(0.3)
        tokens = {u: _call(port, "POST", "/api/v1/auth/token", json.dumps({"username": u, "password": "demo"}).encode())[1]["token"]
                  for u in ("analyst1", "officer1")}
        original = (root / "bpmn" / "eco_damage_claim.bpmn").read_text(encoding="utf-8")
        defaults = "<bpmn:script>restorability = None\nneeds_assessment = None</bpmn:script>"
        assert defaults in original
        status, body = _upload(port, tokens["analyst1"], original.replace(defaults, "<bpmn:script>while True:\n    pass</bpmn:script>"))
        assert status == 422 and "case_data_defaults" in body["error"]["fields"]
        busy = "<bpmn:script>restorability = None\nneeds_assessment = None\nspin = [i for i in range(10000) for j in range(10000)]</bpmn:script>"
        status, body = _upload(port, tokens["analyst1"], original.replace(defaults, busy))
        assert status == 201, body
        lead = {"lead_source": "inspection", "title": "忙循环测试", "description": "测试", "location": "福州",
                "found_on": "2026-05-20", "department": "eco_env",
                "obligors": [{"name": "福州某化工有限公司", "kind": "company", "uscc": "91350100M000100Y43", "address": "福州"}]}
        result: dict = {}
        worker = threading.Thread(target=lambda: result.update(
            zip(("status", "body"), _call(port, "POST", "/api/v1/cases", json.dumps(lead).encode(), tokens["officer1"]), strict=True)))
        worker.start()
        while worker.is_alive():
            assert _call(port, "GET", "/healthz", timeout=1)[0] == 200
            time.sleep(0.05)
        worker.join()
        assert result["status"] == 201 and result["body"]["has_incident"] is True
        assert _call(port, "GET", "/healthz", timeout=1)[0] == 200
    finally:
        proc.terminate()
        proc.wait(timeout=15)
