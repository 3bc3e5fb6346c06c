"""How late do timers fire on the real clock? Starts the scheduler on a fresh database, arms N timers a few
seconds ahead, and prints the delay between each due time and the moment its instance had advanced.

    .venv/bin/python bench/timer_latency.py [--timers 20] [--database URL]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import select  # noqa: E402

from engine.common.actor import SYSTEM  # noqa: E402
from engine.process.deploy import deploy_xml  # noqa: E402
from engine.process.instances import start_instance  # noqa: E402
from engine.scheduler.service import SchedulerService  # noqa: E402
from engine.services import startup
from engine.store.models import HumanTask  # noqa: E402
from engine.store.runtime import Config, Runtime  # noqa: E402

FIXTURE = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "short_timer.bpmn"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--timers", type=int, default=20)
    parser.add_argument("--database")
    args = parser.parse_args()
    url = args.database or f"sqlite:///{tempfile.mkdtemp()}/bench.sqlite"
    runtime = Runtime(Config(database_url=url))
    startup.start(runtime)
    with runtime.db.transaction() as s:
        deploy_xml(s, FIXTURE.read_text(encoding="utf-8"), "bench")
    service = SchedulerService(runtime)
    service.start()
    while not service.active.is_set():
        time.sleep(0.05)
    due: dict[int, datetime] = {}
    start = datetime.now(UTC)
    for i in range(args.timers):
        at = start + timedelta(seconds=3 + i * 0.5)
        with runtime.db.transaction() as s:
            due[start_instance(runtime, s, "test_short_timer", SYSTEM, {"due_at": at.isoformat()}).instance.id] = at
    seen: dict[int, float] = {}
    deadline = time.monotonic() + 3 + args.timers * 0.5 + 30
    while len(seen) < len(due) and time.monotonic() < deadline:
        with runtime.db.transaction() as s:
            for instance_id, created in s.execute(select(HumanTask.instance_id, HumanTask.created_at)):
                if instance_id in due and instance_id not in seen:
                    seen[instance_id] = (created - due[instance_id]).total_seconds()
        time.sleep(0.05)
    service.stop()
    delays = sorted(seen.values())
    print(f"database: {url.split(':', 1)[0]}; timers armed: {len(due)}; fired: {len(seen)}")
    if delays:
        print(f"delay after due time (s): min {delays[0]:.3f}  median {statistics.median(delays):.3f}  "
              f"max {delays[-1]:.3f}")


if __name__ == "__main__":
    main()
