"""`eco-claims serve --demo` starts a real server (waitress) with the scheduler and answers /healthz."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
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
