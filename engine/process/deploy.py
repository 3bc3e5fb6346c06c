"""Process versions: diagrams from ``bpmn/`` (or an upload) stored by content hash; spec bundles per start."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

from lxml import etree
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from engine.common import clock
from engine.common.contract import REQUIRED_IDS
from engine.common.errors import ValidationFailed
from engine.process.operators import build_operators
from engine.process.sandbox import check_specs
from engine.process.workflow import parse_specs, safe_parser, spec_json
from engine.store import audit
from engine.store.models import ProcessInstance, ProcessVersion, SpecBundle
from engine.store.runtime import Runtime

PROCESS_ID = re.compile(r"[a-z][a-z0-9_]{0,79}")
BPMN_NS = {"bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL"}

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
    if not PROCESS_ID.fullmatch(str(proc.get("id") or "")):
        raise ValidationFailed("流程 id 只能由小写字母、数字和下划线组成，并以字母开头（如 eco_damage_claim）",
                               {"process": str(proc.get("id"))[:80]})
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
            spec, subs = parse_specs(((f"{pid}.bpmn", xml) for pid, xml in files.items()), process_id)
        except Exception as exc:  # the parser's own validation message is what the analyst needs
            problems["bpmn"] = f"流程解析失败：{exc}"
        else:  # every expression and script compiles in the sandbox; every operator and called process exists
            found: dict[str, list[str]] = {}
            for element, message in check_specs(spec, subs, set(build_operators(lambda: None))):
                found.setdefault(element, []).append(message)
            problems.update({element: "；".join(messages) for element, messages in found.items()})
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


def directory_texts(folder: Path) -> dict[str, str]:
    """Process id → diagram text of every ``*.bpmn`` in ``folder``."""
    texts = {}
    for path in sorted(Path(folder).glob("*.bpmn")):
        text = path.read_text(encoding="utf-8")
        texts[describe_xml(text)[0]] = text
    return texts


def differences_from_directory(session: Session, folder: Path) -> dict[str, str]:
    """Process id → how the deployed version differs from the file in ``folder`` ("未部署" / "与文件不同")."""
    out = {}
    for pid, text in directory_texts(folder).items():
        current = latest(session, pid)
        if current is None:
            out[pid] = "未部署"
        elif current.checksum != checksum(text):
            out[pid] = f"已部署第{current.version}版（{current.deployed_by}），与文件不同"
    return out


def deploy_directory(runtime: Runtime, deployed_by: str) -> list[ProcessVersion]:
    """Deploy every ``*.bpmn`` of the configured folder (callees first so references resolve); a file equal to
    the latest deployed version is not deployed again."""
    texts = directory_texts(runtime.config.bpmn_dir)
    deployed: list[ProcessVersion] = []
    with runtime.db.transaction() as s:
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
    rows = session.execute(
        select(SpecBundle.process_version_id, func.count(ProcessInstance.id))
        .join(ProcessInstance, ProcessInstance.bundle_id == SpecBundle.id)
        .group_by(SpecBundle.process_version_id)).all()
    return {int(r[0]): int(r[1]) for r in rows}
