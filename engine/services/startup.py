"""Start a runtime: check the schema is current (creating it on an empty database), fix the clock mode, deploy
the diagrams on first start, seed the legal calendar. ``serve``, ``scheduler`` and the tests call :func:`start` once per process."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from engine.calendar.holidays import seed_holidays
from engine.common import clock
from engine.common.errors import Forbidden
from engine.process.deploy import deploy_directory, differences_from_directory
from engine.store import schema
from engine.store.models import ProcessVersion, Setting
from engine.store.runtime import Runtime


def start(runtime: Runtime) -> list[str]:
    """Create the schema on an empty database (refuse one that is behind), pick the clock, deploy ``bpmn/`` on the
    first start. Returns warnings for the operator: the database's deployed versions are the source of truth, so
    a diagram file that differs from them is reported, never deployed over an analyst's version."""
    schema.ensure_current(runtime.db)
    _start_clock(runtime)
    with runtime.db.transaction() as s:
        first_start = s.execute(select(ProcessVersion.id).limit(1)).first() is None
    if first_start:
        deploy_directory(runtime, deployed_by="system")
    seed_holidays(runtime)
    with runtime.db.transaction() as s:
        differences = differences_from_directory(s, runtime.config.bpmn_dir)
    return [f"流程 {pid}：{what}（以数据库中的版本为准；要部署文件请运行 eco-claims deploy）"
            for pid, what in sorted(differences.items())]


def is_demo_database(runtime: Runtime) -> bool:
    """Whether the database was first started in demo/test mode (an empty or new database: False)."""
    try:
        with runtime.db.transaction() as s:
            row = s.get(Setting, "clock_mode")
    except SQLAlchemyError:  # no schema yet
        return False
    return row is not None and row.value == "demo"


def _start_clock(runtime: Runtime) -> None:
    """A database is for demo/test or for real work, fixed at its first start: a real one never gets a
    simulated clock, and a demo one never pretends to run on the real clock."""
    demo = runtime.config.demo
    mode = "demo" if demo else "production"
    with runtime.db.transaction() as s:
        row = s.get(Setting, "clock_mode")
        if row is None:
            s.add(Setting(key="clock_mode", value=mode))
        elif row.value != mode:
            raise Forbidden(f"该数据库是{'演示/测试' if row.value == 'demo' else '正式'}数据库，"
                            f"不能以{'演示' if demo else '正式'}模式启动")
    if not demo:
        clock.use(clock.Clock())
        return
    with runtime.db.transaction() as s:
        row = s.get(Setting, "simulated_now")
        if row is None:
            start_at = runtime.config.clock_start or clock.Clock().now()
            s.add(Setting(key="simulated_now", value=start_at.isoformat()))
        else:
            start_at = datetime.fromisoformat(str(row.value))
    clock.use(clock.SimulatedClock(start_at))
