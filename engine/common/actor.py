"""Who acts on a case: a signed-in person (roles, department) or the system (timers, the scheduler)."""

from __future__ import annotations

from dataclasses import dataclass


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
