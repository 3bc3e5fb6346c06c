"""Process versions: diagrams from ``bpmn/`` (or an upload) stored by content hash; spec bundles per start."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lxml import etree
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from engine.common import clock
from engine.common.contract import REQUIRED_IDS
from engine.common.errors import ValidationFailed
from engine.documents.render import template_path
from engine.process.operators import build_operators
from engine.process.sandbox import check_specs
from engine.process.workflow import parse_specs, safe_parser, spec_json
from engine.store import audit
from engine.store.models import ProcessInstance, ProcessVersion, SpecBundle
from engine.store.runtime import ROOT, Runtime

PROCESS_ID = re.compile(r"[a-z][a-z0-9_]{0,79}")
BPMN_NS = {"bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL"}
FORM_ID = re.compile(r"[A-Za-z0-9_]{1,80}")
DEFAULT_FORMS_DIR = ROOT / "bpmn" / "forms"

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


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a diagram: the process, the element it is about (an element id, or the process id
    for the file as a whole), the Chinese message, and the key ``deploy_xml`` has always reported it under
    (``file``, ``process``, ``ids``, ``calledElement``, ``bpmn`` or the element id)."""

    process: str
    element: str
    message: str
    field: str


def check_xml(session: Session, text: str, known: dict[str, str] | None = None, *,
              forms_dir: Path | None = None, templates_dir: Path | None = None) -> list[Problem]:
    """Every problem of one diagram file, all at once: well-formed, one process with a proper id, the contract ids
    kept, called processes present (in ``known`` or deployed), parses with the engine, every expression and script
    compiles in the sandbox, every operator exists, every user task's form exists in ``forms_dir`` and every
    document a ``render_document`` task names has a template. Reads only."""
    try:
        process_id, name, _called, ids = describe_xml(text)
    except ValidationFailed as exc:
        field = next(iter(exc.fields), "file")
        return [Problem("", field if field == "process" else "file", exc.message, field)]
    problems: list[Problem] = []
    if len(process_id) > 80 or len(name) > 200:
        problems.append(Problem(process_id, process_id, "流程 id 不超过80个字符，名称不超过200个字符", "process"))
    for missing in sorted(REQUIRED_IDS.get(process_id, set()) - ids):
        problems.append(Problem(process_id, missing, f"缺少流程约定的元素：{missing}", "ids"))
    files = dict(known or {})
    files[process_id] = text
    undeployed: set[str] = set()
    for element, called_id in _call_activities(text):
        if called_id in files and called_id not in undeployed:
            continue
        current = latest(session, called_id)
        if current is None:
            problems.append(Problem(process_id, element, f"调用的流程尚未部署：{called_id}", "calledElement"))
            undeployed.add(called_id)
        else:
            files[called_id] = current.xml
    if any(p.field == "process" for p in problems) or not all(PROCESS_ID.fullmatch(c) for c in undeployed):
        return problems
    for called_id in undeployed:  # an empty stand-in, so that the rest of the diagram is still checked
        files[called_id] = _stub(called_id)
    try:
        spec, subs = parse_specs(((f"{pid}.bpmn", xml) for pid, xml in files.items()), process_id)
    except Exception as exc:  # the parser's own validation message is what the analyst needs
        element = str(getattr(exc, "id", "") or process_id)
        problems.append(Problem(process_id, element, f"流程解析失败：{exc}", "bpmn"))
        return problems
    # every expression and script compiles in the sandbox; every operator and called process exists
    for element, message in check_specs(spec, subs, set(build_operators(lambda: None))):
        problems.append(Problem(process_id, element, message, element))
    for element, message in _check_forms_and_templates(spec, subs, forms_dir or DEFAULT_FORMS_DIR, templates_dir):
        problems.append(Problem(process_id, element, message, element))
    return problems


def _stub(process_id: str) -> str:
    """An empty process standing in for a called process that does not exist (reported on its own)."""
    namespace = BPMN_NS["bpmn"]
    return (f'<bpmn:definitions xmlns:bpmn="{namespace}" id="stub_{process_id}" targetNamespace="stub">'
            f'<bpmn:process id="{process_id}" isExecutable="true"><bpmn:startEvent id="{process_id}__start"/>'
            f'</bpmn:process></bpmn:definitions>')


def _call_activities(text: str) -> list[tuple[str, str]]:
    """(element id, called process id) of every call activity of a well-formed one-process file."""
    root = etree.fromstring(text.encode("utf-8"), parser=safe_parser())
    return [(str(e.get("id")), str(e.get("calledElement")))
            for e in root.iter(f"{{{BPMN_NS['bpmn']}}}callActivity")]


def _check_forms_and_templates(spec: Any, subs: dict[str, Any], forms_dir: Path,
                               templates_dir: Path | None) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    seen: set[int] = set()
    for process in [spec, *(s for s in subs.values() if s is not None)]:
        if id(process) in seen:
            continue
        seen.add(id(process))
        for task_spec in process.task_specs.values():
            element = str(getattr(task_spec, "bpmn_id", None) or task_spec.name)
            props = (getattr(task_spec, "extensions", None) or {}).get("properties") or {}
            if getattr(task_spec, "manual", False):
                form = str(props.get("form") or task_spec.name)
                if not FORM_ID.fullmatch(form) or not (forms_dir / f"{form}.json").is_file():
                    found.append((element, f"任务表单不存在：{form}（bpmn/forms/{form}.json）"))
            if getattr(task_spec, "operation_name", None) == "render_document":
                param = (getattr(task_spec, "operation_params", None) or {}).get("form")
                value = param.get("value") if isinstance(param, dict) else param
                try:
                    number = int(str(value).strip().strip("'\""))
                except ValueError:
                    continue  # an expression: its value is only known when the case runs
                try:
                    path = template_path(number, templates_dir)
                except ValueError as exc:
                    found.append((element, f"文书模板不存在：{exc}"))
                    continue
                if not path.is_file():
                    found.append((element, f"文书模板不存在：第{number}号文书（{path.name}）"))
    return found


def deploy_xml(session: Session, text: str, deployed_by: str, known: dict[str, str] | None = None, *,
               forms_dir: Path | None = None, templates_dir: Path | None = None) -> ProcessVersion:
    """Validate (:func:`check_xml`) and store ``text`` as the next version of its process; an unchanged file is
    not redeployed."""
    process_id, name, called, _ids = describe_xml(text)  # a file that is not even a process is refused as it is
    problems = check_xml(session, text, known, forms_dir=forms_dir, templates_dir=templates_dir)
    if problems:
        fields: dict[str, list[str]] = {}
        for problem in problems:
            fields.setdefault(problem.field, []).append(problem.message)
        if "ids" in fields:
            fields["ids"] = ["缺少流程约定的元素：" + "、".join(p.element for p in problems if p.field == "ids")]
        if "calledElement" in fields:
            fields["calledElement"] = ["调用的流程尚未部署：" + "、".join(
                sorted({p.message.rsplit("：", 1)[-1] for p in problems if p.field == "calledElement"}))]
        raise ValidationFailed("流程图校验未通过", {key: "；".join(messages) for key, messages in fields.items()})
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
        for pid in callees_first(texts):
            deployed.append(deploy_xml(s, texts[pid], deployed_by, known=texts,
                                       forms_dir=runtime.config.bpmn_dir / "forms",
                                       templates_dir=runtime.config.templates_dir))
    return deployed


def callees_first(texts: dict[str, str]) -> list[str]:
    """The process ids of ``texts``, every called process before its callers (so references resolve)."""
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
