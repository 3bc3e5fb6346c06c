"""Which messages a case can take now (the case page offers only those): a court accepting a PIL case while the
case is open; the others when one of the case's running instances waits for them — per obligor group where the
waiting workflow belongs to one.

Nothing is delivered here: the instances are loaded and asked what they wait for (``messages.deliver`` delivers).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from engine.auth import access
from engine.common.actor import Actor
from engine.common.contract import MESSAGES, message_form
from engine.forms import schemas
from engine.process.instances import open_run
from engine.process.messaging import awaited
from engine.store.models import ProcessInstance
from engine.store.runtime import Runtime

SENDER_ROLES = ("officer", "supervisor", "admin")


def available(runtime: Runtime, actor: Actor, case_id: int) -> list[dict[str, Any]]:
    """``[{name, title, form, groups}]`` for each message the case waits for now (``groups``: the obligor groups
    waiting for it, empty when it is not a group's); empty for a closed case or an actor who may not record one."""
    forms = {name: schemas.schema(runtime.config.bpmn_dir, message_form(name)) for name in MESSAGES}
    with runtime.db.transaction() as s:
        case = access.case_for(s, actor, case_id)
        if case.status != "open" or not any(actor.has(r) for r in SENDER_ROLES):
            return []
        instances = list(s.execute(select(ProcessInstance).where(ProcessInstance.case_id == case.id,
                                                                 ProcessInstance.status != "completed")
                                   .order_by(ProcessInstance.id)).scalars())
        waiting: dict[str, list[int]] = {}
        for inst in instances:
            for name, groups in awaited(open_run(runtime, s, inst, actor).wf, MESSAGES).items():
                waiting.setdefault(name, groups)
        out: list[dict[str, Any]] = []
        for name, starts in MESSAGES.items():
            if starts is None and name not in waiting:
                continue
            out.append({"name": name, "title": str(forms[name].get("title") or name), "form": forms[name],
                        "groups": waiting.get(name, []) if starts is None else []})
        return out
