"""The command line's administrative commands work on the database as it was first started and go through the
same audited use cases as the API: incidents (list, fix, retry, return), the simulated clock."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from sqlalchemy import select

from engine.auth.users import get_actor
from engine.services import incidents
from engine.store.models import AuditEvent

from .test_incidents import _stuck_at_form4

ROOT = Path(__file__).resolve().parents[2]


def cli(db_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "cli", "--database", db_url, *args], capture_output=True, text=True,
                          cwd=ROOT, check=False, timeout=120)


def test_incident_commands_repair_a_stuck_case(runtime, db_url, monkeypatch):
    case, incident = _stuck_at_form4(runtime, monkeypatch)
    listed = cli(db_url, "incident", "list")
    assert listed.returncode == 0, listed.stderr
    assert f"#{incident['id']}" in listed.stdout and "render_form4" in listed.stdout
    no_reason = cli(db_url, "incident", "fix", str(incident["id"]), "--set", "notice_date=2026-07-01")
    assert no_reason.returncode != 0 and "--reason" in no_reason.stderr
    fixed = cli(db_url, "incident", "fix", str(incident["id"]), "--set", f"notice_date={case.today()}", "--reason", "补录")
    assert fixed.returncode == 0, fixed.stderr
    retried = cli(db_url, "incident", "retry", str(incident["id"]))
    assert retried.returncode == 0 and "已恢复" in retried.stdout, retried.stdout + retried.stderr
    assert incidents.open_incidents(runtime, get_actor(runtime, "supervisor1"), case.id) == []
    view = case.view()
    assert 4 in [d["form"] for d in view["documents"]]
    fix_rows = [h for h in view["history"] if h["event"] == "incident_fix"]
    assert fix_rows and fix_rows[0]["who"].startswith("cli:")


def test_the_clock_moves_only_on_a_demo_database_and_is_audited(runtime, db_url, tmp_path):
    moved = cli(db_url, "clock", "--advance", "P1D")
    assert moved.returncode == 0, moved.stderr
    assert moved.stdout.startswith("2026-06-02")
    with runtime.db.transaction() as s:
        rows = s.execute(select(AuditEvent).where(AuditEvent.event == "clock_moved")).scalars().all()
        assert [r.who.startswith("cli:") for r in rows] == [True]
    real = f"sqlite:///{tmp_path / 'real.sqlite'}"
    assert cli(real, "db", "upgrade").returncode == 0
    refused = cli(real, "clock", "--advance", "P1D")
    assert refused.returncode == 2 and "演示" in refused.stderr
