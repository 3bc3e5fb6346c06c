"""The runtime every use case receives: configuration, the database, and the caches the use cases share.

Starting a runtime (schema check, clock, first deployment) is the start-up use case in
``engine/services/startup.py``; this module only holds the objects.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from engine.store.db import Database

ROOT = Path(__file__).resolve().parent.parent.parent


@dataclass
class Config:
    database_url: str
    bpmn_dir: Path = ROOT / "bpmn"
    templates_dir: Path = ROOT / "document_templates"
    demo: bool = False
    clock_start: datetime | None = None
    case_number_format: str = "{prefix}〔{year}〕{seq}号"


@dataclass
class Runtime:
    config: Config
    db: Database = field(init=False)
    _bundle_cache: dict[int, str] = field(default_factory=dict, init=False)
    # The process's scheduler service when it runs one (``engine.scheduler.service``); read by /healthz.
    scheduler: Any = field(default=None, init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False)

    def __post_init__(self) -> None:
        self.db = Database(self.config.database_url)

    def bundle_specs(self, bundle_id: int, loader: Callable[[], str]) -> str:
        with self._lock:
            cached = self._bundle_cache.get(bundle_id)
        if cached is None:
            cached = str(loader())
            with self._lock:
                self._bundle_cache[bundle_id] = cached
        return cached

    def close(self) -> None:
        self.db.dispose()
