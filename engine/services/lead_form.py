"""What the lead registration page needs: the form (``bpmn/forms/register_lead.json``), the departments the
actor may register a lead for (their own; every department for those who see every case), and today's date."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import select

from engine.auth import access
from engine.common import clock
from engine.common.actor import Actor
from engine.common.errors import Forbidden
from engine.forms import schemas
from engine.store.models import Department
from engine.store.runtime import Runtime


def lead_schema(bpmn_dir: Path) -> dict[str, Any]:
    """The lead registration form (a JSON Schema): what ``cases.register_lead`` validates, for the API document."""
    return schemas.schema(bpmn_dir, "register_lead")


def lead_form(runtime: Runtime, actor: Actor) -> dict[str, Any]:
    if not actor.has("officer"):
        raise Forbidden("只有经办人可以登记线索")
    form = lead_schema(runtime.config.bpmn_dir)
    with runtime.db.transaction() as s:
        query = select(Department).order_by(Department.id)
        if not access.sees_everything(actor):
            query = query.where(Department.id == actor.department)
        departments = [{"id": d.id, "name": d.name, "full_name": d.full_name} for d in s.execute(query).scalars()]
    return {"form": form, "departments": departments, "default_department": actor.department,
            "today": clock.today().isoformat()}
