"""Process models for analysts: deployed versions, one version's diagram, uploading a new version; a case's diagram
with the elements it is at and has passed (its own process and the processes it calls)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from engine.auth import access
from engine.common.actor import Actor
from engine.common.errors import Forbidden, NotFound, ValidationFailed
from engine.process.deploy import cases_per_version, deploy_xml, describe_xml
from engine.process.instances import open_run
from engine.process.workflow import element_states
from engine.services.cases import instance_of
from engine.store.models import ProcessVersion, SpecBundle
from engine.store.runtime import Runtime

MAX_UPLOAD = 4 * 1024 * 1024


def _require_analyst(actor: Actor) -> None:
    if not (actor.has("analyst") or actor.has("admin")):
        raise Forbidden("只有流程管理员或系统管理员可以管理流程模型")


def _version_view(v: ProcessVersion, cases: dict[int, int]) -> dict[str, Any]:
    return {"version": v.version, "deployed_at": v.deployed_at.isoformat(), "deployed_by": v.deployed_by,
            "checksum": v.checksum, "cases": cases.get(v.id, 0)}


def list_models(runtime: Runtime, actor: Actor) -> dict[str, Any]:
    _require_analyst(actor)
    with runtime.db.transaction() as s:
        cases = cases_per_version(s)
        models: dict[str, dict[str, Any]] = {}
        for v in s.execute(select(ProcessVersion).order_by(ProcessVersion.process_id, ProcessVersion.version)).scalars():
            entry = models.setdefault(v.process_id, {"id": v.process_id, "name": v.name, "versions": []})
            entry["name"] = v.name  # the latest version's name
            entry["versions"].append(_version_view(v, cases))
        return {"items": list(models.values())}


def version_detail(runtime: Runtime, actor: Actor, process_id: str, version: int) -> dict[str, Any]:
    _require_analyst(actor)
    with runtime.db.transaction() as s:
        row = s.execute(select(ProcessVersion).where(ProcessVersion.process_id == process_id,
                                                     ProcessVersion.version == version)).scalar()
        if row is None:
            raise NotFound("流程版本不存在")
        return {"id": row.process_id, "name": row.name, **_version_view(row, cases_per_version(s)),
                "called": list(row.called), "xml": row.xml}


def upload(runtime: Runtime, actor: Actor, filename: str, content: bytes) -> dict[str, Any]:
    """Validate an uploaded ``.bpmn`` and deploy it as the next version (running cases keep theirs)."""
    _require_analyst(actor)
    problems: dict[str, str] = {}
    if not filename.lower().endswith(".bpmn"):
        problems["file"] = "请上传 .bpmn 文件"
    if len(content) > MAX_UPLOAD:
        problems["file"] = "文件过大（不超过4MB）"
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError:
        problems.setdefault("file", "文件应为 UTF-8 编码的 XML")
        text = ""
    if problems:
        raise ValidationFailed("流程图文件无效", problems)
    with runtime.db.transaction() as s:
        before = {v.id for v in s.execute(select(ProcessVersion)).scalars()}
        row = deploy_xml(s, text, actor.username, forms_dir=runtime.config.bpmn_dir / "forms",
                         templates_dir=runtime.config.templates_dir)
        return {"id": row.process_id, "name": row.name, **_version_view(row, {}), "created": row.id not in before}


def case_diagram(runtime: Runtime, actor: Actor, case_id: int) -> dict[str, Any]:
    """The case's process diagram (its version), with active and completed element ids across called processes."""
    with runtime.db.transaction() as s:
        case = access.case_for(s, actor, case_id)
        inst = instance_of(s, case.id)
        bundle = s.get(SpecBundle, inst.bundle_id)
        if bundle is None:
            raise NotFound("流程版本不存在")
        xml: dict[str, str] = {}
        for pid, number in bundle.versions.items():
            row = s.execute(select(ProcessVersion).where(ProcessVersion.process_id == pid,
                                                         ProcessVersion.version == number)).scalar()
            if row is not None:
                xml[pid] = row.xml
        ids: set[str] = set()
        for text in xml.values():
            ids |= describe_xml(text)[3]
        run = open_run(runtime, s, inst, actor)
        active, completed = element_states(run.wf, ids)
        main = inst.process_id
        return {"process_id": main, "version": bundle.versions.get(main), "xml": xml.get(main, ""),
                "called": {pid: text for pid, text in xml.items() if pid != main},
                "active": sorted(active), "completed": sorted(completed)}
