"""Process versions: diagrams from ``bpmn/`` (or an upload) stored by content hash; spec bundles per start."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from lxml import etree
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from . import audit, clock, models_auth  # noqa: F401  (declares the auth tables before Engine.start creates the schema)
from .errors import ValidationFailed
from .models import ProcessVersion, SpecBundle
from .runtime import Engine
from .workflow import parse_specs, safe_parser, spec_json

BPMN_NS = {"bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL"}

# The ids PROCESS.md makes a stable contract: a new version must keep them.
REQUIRED_IDS: dict[str, set[str]] = {
    "eco_damage_claim": {
        "screen_lead", "urge_claim_start", "register_claim_start", "approve_claim_start_division",
        "approve_claim_start_department", "notify_court_procuratorate", "conduct_investigation",
        "conclude_investigation", "register_claim_termination", "approve_termination_division",
        "approve_termination_department", "draft_agreement", "sign_agreement", "record_judicial_confirmation",
        "file_lawsuit", "record_judgment", "close_case", "lead_closed", "claim_terminated", "case_closed"},
    "damage_assessment": {"choose_assessment_method", "record_assessment_result"},
    "consultation": {
        "prepare_consultation", "pre_consultation_exchange", "record_notice_service", "record_obligor_reply",
        "record_consultation_meeting", "confirm_damage_facts", "supervise_voluntary_restoration"},
    "performance": {
        "record_restoration_plan", "supervise_restoration", "record_restoration_completion",
        "evaluate_restoration_effect", "record_compensation_payment", "organize_alternative_restoration",
        "apply_enforcement", "record_credit_sanction", "report_performance_to_authorities"},
    "pil_court_notice": {"chase_court_notice", "coordinate_with_court"},
    "lead_screening": {"screen_pending_leads"},
}


def checksum(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def describe_xml(text: str) -> tuple[str, str, list[str], set[str]]:
    """(process id, name, called process ids, every element id) of a one-process diagram file."""
    try:
        root = etree.fromstring(text.encode("utf-8"), parser=safe_parser())
    except etree.XMLSyntaxError as exc:
        raise ValidationFailed(f"BPMN 文件不是合法的 XML：{exc}", {"file": str(exc)}) from exc
    processes = root.findall("bpmn:process", BPMN_NS)
    if len(processes) != 1:
        raise ValidationFailed("一个 BPMN 文件应当且只能包含一个流程", {"file": "流程数量不为1"})
    proc = processes[0]
    called = sorted({str(e.get("calledElement")) for e in proc.iter(f"{{{BPMN_NS['bpmn']}}}callActivity")})
    ids = {str(e.get("id")) for e in proc.iter() if e.get("id")}
    return str(proc.get("id")), str(proc.get("name") or proc.get("id")), called, ids


def latest(session: Session, process_id: str) -> ProcessVersion | None:
    return session.execute(
        select(ProcessVersion).where(ProcessVersion.process_id == process_id)
        .order_by(ProcessVersion.version.desc()).limit(1)).scalar()


def deploy_xml(session: Session, text: str, deployed_by: str, known: dict[str, str] | None = None) -> ProcessVersion:
    """Validate and store ``text`` as the next version of its process; an unchanged file is not redeployed."""
    process_id, name, called, ids = describe_xml(text)
    problems: dict[str, str] = {}
    if len(process_id) > 80 or len(name) > 200:
        problems["process"] = "流程 id 不超过80个字符，名称不超过200个字符"
    missing = REQUIRED_IDS.get(process_id, set()) - ids
    if missing:
        problems["ids"] = "缺少流程约定的元素：" + "、".join(sorted(missing))
    files = dict(known or {})
    files[process_id] = text
    undeployed = []
    for called_id in called:
        if called_id not in files:
            current = latest(session, called_id)
            if current is None:
                undeployed.append(called_id)
            else:
                files[called_id] = current.xml
    if undeployed:
        problems["calledElement"] = "调用的流程尚未部署：" + "、".join(undeployed)
    if "calledElement" not in problems and "process" not in problems:  # the parser's findings are listed too
        try:
            parse_specs(((f"{pid}.bpmn", xml) for pid, xml in files.items()), process_id)
        except Exception as exc:  # the parser's own validation message is what the analyst needs
            problems["bpmn"] = f"流程解析失败：{exc}"
    if problems:
        raise ValidationFailed("流程图校验未通过", problems)
    current = latest(session, process_id)
    digest = checksum(text)
    if current is not None and current.checksum == digest:
        return current
    version = ProcessVersion(
        process_id=process_id, name=name, version=(current.version + 1) if current else 1, checksum=digest,
        xml=text, called=called, deployed_at=clock.now(), deployed_by=deployed_by)
    session.add(version)
    session.flush()
    audit.record(session, who=deployed_by, event_name="note", case_id=None, task=None,
                 title=f"部署流程 {process_id} 第{version.version}版", detail={"checksum": digest})
    return version


def deploy_directory(engine: Engine, deployed_by: str) -> list[ProcessVersion]:
    """Deploy every ``*.bpmn`` of the configured folder (callees first so references resolve)."""
    texts = {}
    for path in sorted(Path(engine.config.bpmn_dir).glob("*.bpmn")):
        text = path.read_text(encoding="utf-8")
        texts[describe_xml(text)[0]] = text
    deployed: list[ProcessVersion] = []
    with engine.db.transaction() as s:
        for pid in _callees_first(texts):
            deployed.append(deploy_xml(s, texts[pid], deployed_by, known=texts))
    return deployed


def _callees_first(texts: dict[str, str]) -> list[str]:
    order: list[str] = []

    def visit(pid: str, path: tuple[str, ...]) -> None:
        if pid in order or pid in path or pid not in texts:
            return
        for callee in describe_xml(texts[pid])[2]:
            visit(callee, path + (pid,))
        order.append(pid)

    for pid in sorted(texts):
        visit(pid, ())
    return order


def bundle_for(session: Session, process_id: str) -> SpecBundle:
    """The spec bundle of the latest versions of ``process_id`` and everything it calls (created once)."""
    versions: dict[str, ProcessVersion] = {}

    def collect(pid: str) -> None:
        if pid in versions:
            return
        current = latest(session, pid)
        if current is None:
            raise ValidationFailed(f"流程 {pid} 尚未部署", {"process": pid})
        versions[pid] = current
        for callee in current.called:
            collect(callee)

    collect(process_id)
    key = json.dumps(sorted((pid, v.version) for pid, v in versions.items()))
    digest = checksum(process_id + key)
    bundle = session.execute(select(SpecBundle).where(SpecBundle.checksum == digest)).scalar()
    if bundle is not None:
        return bundle
    spec, subs = parse_specs(((f"{pid}.bpmn", v.xml) for pid, v in versions.items()), process_id)
    bundle = SpecBundle(checksum=digest, process_version_id=versions[process_id].id,
                        versions={pid: v.version for pid, v in versions.items()}, spec_json=spec_json(spec, subs))
    try:
        with session.begin_nested():
            session.add(bundle)
            session.flush()
    except IntegrityError:
        # Two first starts on a version at once (PostgreSQL): the other one committed the same bundle.
        existing = session.execute(select(SpecBundle).where(SpecBundle.checksum == digest)).scalar()
        if existing is None:
            raise
        return existing
    return bundle


def cases_per_version(session: Session) -> dict[int, int]:
    from .models import ProcessInstance

    rows = session.execute(
        select(SpecBundle.process_version_id, func.count(ProcessInstance.id))
        .join(ProcessInstance, ProcessInstance.bundle_id == SpecBundle.id)
        .group_by(SpecBundle.process_version_id)).all()
    return {int(r[0]): int(r[1]) for r in rows}
