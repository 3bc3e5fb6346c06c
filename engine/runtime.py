"""The engine object: configuration, database, clock, and the caches every use case shares."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from . import clock as clockmod
from .db import Database
from .models import Setting

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Config:
    database_url: str
    bpmn_dir: Path = ROOT / "bpmn"
    templates_dir: Path = ROOT / "document_templates"
    demo: bool = False
    clock_start: datetime | None = None
    case_number_format: str = "{prefix}〔{year}〕{seq}号"


@dataclass(frozen=True)
class Actor:
    """Who acts: a person (with roles and department) or the system (timers, scheduler)."""

    username: str
    display_name: str = ""
    roles: tuple[str, ...] = ()
    department: str | None = None

    @property
    def is_system(self) -> bool:
        return self.username == "system"

    def has(self, role: str) -> bool:
        return role in self.roles


SYSTEM = Actor("system", "系统", ("system",), None)


@dataclass
class Engine:
    config: Config
    db: Database = field(init=False)
    _bundle_cache: dict[int, str] = field(default_factory=dict, init=False)
    # The process's scheduler service when it runs one (``scheduler.SchedulerService``); read by /healthz.
    scheduler: Any = field(default=None, init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False)

    def __post_init__(self) -> None:
        self.db = Database(self.config.database_url)
        clockmod.install()

    def start(self) -> None:
        """Create or update the schema, pick the clock, deploy the diagrams in ``bpmn/``."""
        from . import documents, models_auth  # noqa: F401  (declare their tables before the schema is created)
        from .deploy import deploy_directory
        from .holidays import seed_holidays

        self.db.create_schema()
        self._start_clock()
        deploy_directory(self, deployed_by="system")
        seed_holidays(self)

    def _start_clock(self) -> None:
        """A database is for demo/test or for real work, fixed at its first start: a real one never gets a
        simulated clock, and a demo one never pretends to run on the real clock."""
        from .errors import Forbidden

        mode = "demo" if self.config.demo else "production"
        with self.db.transaction() as s:
            row = s.get(Setting, "clock_mode")
            if row is None:
                s.add(Setting(key="clock_mode", value=mode))
            elif row.value != mode:
                raise Forbidden(f"该数据库是{'演示/测试' if row.value == 'demo' else '正式'}数据库，"
                                f"不能以{'演示' if self.config.demo else '正式'}模式启动")
        if not self.config.demo:
            clockmod.use(clockmod.Clock())
            return
        with self.db.transaction() as s:
            row = s.get(Setting, "simulated_now")
            if row is None:
                start = self.config.clock_start or clockmod.Clock().now()
                s.add(Setting(key="simulated_now", value=start.isoformat()))
            else:
                start = datetime.fromisoformat(str(row.value))
        clockmod.use(clockmod.SimulatedClock(start))

    def bundle_specs(self, bundle_id: int, loader: Any) -> str:
        with self._lock:
            cached = self._bundle_cache.get(bundle_id)
        if cached is None:
            cached = str(loader())
            with self._lock:
                self._bundle_cache[bundle_id] = cached
        return cached

    def close(self) -> None:
        self.db.dispose()
