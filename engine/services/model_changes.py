"""A process analyst's change to the procedure: validate it, replay it on the department's past cases, deploy it;
read the difference between two versions; move chosen running cases to the latest version where that is safe.

``files`` is always ``{process id: diagram XML}``: the changed processes only; every other process is taken at its
latest deployed version. Only ``analyst`` and ``admin`` may use these.

* :func:`validate_change` — every problem at once, each naming its process and element (``deploy.check_xml``: the
  same checks a deployment makes, so what passes here deploys).
* :func:`replay_change` — the cases of the chosen departments (closed and running) re-run on the changed diagram
  from their recorded history, in memory (``process/replay.py``); the report says how many replay identically and,
  for each that diverges, where and how. Reading the histories is one short read; the replay itself holds no
  transaction (on SQLite every transaction holds the write lock), and the one write is the audit row of the
  report (who, which files by checksum, the summary), which the deployment then cites.
* :func:`deploy_change` — validates again, requires a replay of exactly these files, deploys them as new versions
  (callees first) and audits the deployment with that replay's summary. Running cases stay on their version.
* :func:`version_diff` — a readable diff between two versions of a process (``process/versions.py``).
* :func:`migration_preview` / :func:`migrate_cases` — which of the chosen running cases can move to the latest
  versions (nothing they have reached changed) and which are refused and why; the move writes one audit row per
  case and leaves the legal deadlines as they are.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from sqlalchemy import select

from engine.common import clock
from engine.common.actor import Actor
from engine.common.errors import BadRequest, Conflict, Forbidden, NotFound, ValidationFailed
from engine.process import replay, versions
from engine.process.deploy import bundle_for, callees_first, check_xml, checksum, deploy_xml, describe_xml
from engine.process.instances import advance, open_run
from engine.process.workflow import CaseScriptEngine, new_workflow
from engine.services.process_models import MAX_UPLOAD
from engine.store import audit
from engine.store.models import AuditEvent, Case, Department, Incident, ProcessInstance, ProcessVersion, SpecBundle
from engine.store.runtime import Runtime

MAX_FILES = 20
MAX_CASES = 200
PROCESS_ID = re.compile(r"[a-z][a-z0-9_]{0,79}")
#: How many cases' histories one read transaction loads.
CHUNK = 500


def _require(actor: Actor) -> None:
    if not (actor.has("analyst") or actor.has("admin")):
        raise Forbidden("只有流程管理员或系统管理员可以修改流程")


def _check_files(files: Any) -> dict[str, str]:
    if not isinstance(files, dict) or not files:
        raise ValidationFailed("请给出修改后的流程图：{流程 id: BPMN XML}", {"files": "应为非空对象"})
    if len(files) > MAX_FILES:
        raise ValidationFailed(f"一次最多修改{MAX_FILES}个流程", {"files": "文件过多"})
    problems: dict[str, str] = {}
    for key, text in files.items():
        if not isinstance(key, str) or not PROCESS_ID.fullmatch(key):
            problems[str(key)[:80]] = "流程 id 只能由小写字母、数字和下划线组成，并以字母开头"
        elif not isinstance(text, str) or not text.strip():
            problems[key] = "应为 BPMN XML 文本"
        elif len(text.encode("utf-8")) > MAX_UPLOAD:
            problems[key] = "文件过大（不超过4MB）"
    if problems:
        raise ValidationFailed("流程图文件无效", problems)
    return dict(files)


def _problems(runtime: Runtime, session: Any, files: dict[str, str]) -> list[dict[str, str]]:
    out: list[dict[str, str]] = []
    for key in sorted(files):
        text = files[key]
        try:
            declared = describe_xml(text)[0]
        except ValidationFailed:
            declared = key  # check_xml reports what is wrong with the file
        if declared != key:
            out.append({"process": key, "element": declared,
                        "message": f"文件中的流程 id 为 {declared}，与修改的流程 {key} 不一致"})
            continue
        for problem in check_xml(session, text, files, forms_dir=runtime.config.bpmn_dir / "forms",
                                 templates_dir=runtime.config.templates_dir):
            out.append({"process": problem.process or key, "element": problem.element, "message": problem.message})
    return out


def _refuse(problems: list[dict[str, str]], what: str) -> None:
    if problems:
        fields: dict[str, str] = {}
        for p in problems:
            key = f"{p['process']}.{p['element']}"
            fields[key] = f"{fields[key]}；{p['message']}" if key in fields else p["message"]
        raise ValidationFailed(f"流程图校验未通过，不能{what}：{problems[0]['message']}", fields)


def validate_change(runtime: Runtime, actor: Actor, files: Any) -> list[dict[str, str]]:
    """Every problem of the changed diagrams, all at once: ``[{process, element, message}]``; empty when they
    would deploy. Reads only."""
    _require(actor)
    files = _check_files(files)
    with runtime.db.transaction() as s:
        return _problems(runtime, s, files)


def replay_change(runtime: Runtime, actor: Actor, files: Any, departments: list[str] | None = None,
                  progress: Callable[[int, int], None] | None = None) -> dict[str, Any]:
    """Replay the cases of ``departments`` (all when None or empty) on the changed diagrams; ``progress(done, total)``
    is called after each case. Never touches a case; the report's audit row is the only write."""
    _require(actor)
    files = _check_files(files)
    with runtime.db.transaction() as s:
        _refuse(_problems(runtime, s, files), "回放")
        chosen = sorted(set(departments or []))
        unknown = [d for d in chosen if s.get(Department, d) is None]
        if unknown:
            raise ValidationFailed("部门不存在", {"departments": "、".join(unknown)})
        query = select(Case.id).order_by(Case.id)
        if chosen:
            query = query.where(Case.department_id.in_(chosen))
        case_ids = [int(i) for i in s.execute(query).scalars()]
        candidate = replay.candidate(s, files, runtime.config.bpmn_dir)
    histories: list[replay.History] = []
    for start in range(0, len(case_ids), CHUNK):  # short reads: a long one would hold SQLite's write lock
        with runtime.db.transaction() as s:
            histories.extend(replay.load_histories(s, case_ids[start:start + CHUNK]))
    results = replay.replay_cases(candidate, histories, clock.now(), progress)
    summary = replay.summary(results)
    checksums = {pid: checksum(text) for pid, text in sorted(files.items())}
    with runtime.db.transaction() as s:
        row = audit.record(s, who=actor.username, event_name="model_replay", case_id=None,
                           title=f"回放流程修改（{'、'.join(checksums)}）：{summary['identical']}件一致，"
                                 f"{summary['diverged']}件不同",
                           detail={"checksums": checksums, "departments": chosen, "summary": summary})
        replay_id = row.id
    return {"replay_id": replay_id, "checksums": checksums, "departments": chosen, "summary": summary,
            "diverged": [r.as_dict() for r in results if not r.identical],
            "identical": [r.case_id for r in results if r.identical]}


def deploy_change(runtime: Runtime, actor: Actor, files: Any, replay_id: int | None = None) -> dict[str, Any]:
    """Deploy the changed diagrams as new versions after validating them again; a replay of exactly these files
    (the latest one, or ``replay_id``) must exist, and its summary goes into the deployment's audit row."""
    _require(actor)
    files = _check_files(files)
    checksums = {pid: checksum(text) for pid, text in sorted(files.items())}
    with runtime.db.transaction() as s:
        _refuse(_problems(runtime, s, files), "部署")
        query = select(AuditEvent).where(AuditEvent.event == "model_replay").order_by(AuditEvent.id.desc())
        if replay_id is not None:
            query = query.where(AuditEvent.id == replay_id)
        replayed = next((row for row in s.execute(query.limit(200)).scalars()
                         if (row.detail or {}).get("checksums") == checksums), None)
        if replayed is None:
            raise Conflict("请先用历史案件回放这些修改，再部署", {"replay": "没有这些流程图的回放记录"})
        before = set(s.execute(select(ProcessVersion.id)).scalars())
        deployed = []
        for pid in callees_first(files):
            row = deploy_xml(s, files[pid], actor.username, known=files, forms_dir=runtime.config.bpmn_dir / "forms",
                             templates_dir=runtime.config.templates_dir)
            deployed.append({"id": row.process_id, "name": row.name, "version": row.version,
                             "checksum": row.checksum, "created": row.id not in before})
        summary = dict((replayed.detail or {}).get("summary") or {})
        audit.record(s, who=actor.username, event_name="note", case_id=None,
                     title="部署流程修改：" + "、".join(f"{d['id']} 第{d['version']}版" for d in deployed),
                     detail={"versions": {d["id"]: d["version"] for d in deployed}, "checksums": checksums,
                             "replay_id": replayed.id, "replay": summary,
                             "departments": (replayed.detail or {}).get("departments", [])})
        return {"versions": deployed, "replay_id": replayed.id, "replay": summary}


def version_diff(runtime: Runtime, actor: Actor, process_id: str, from_version: int | None,
                 to_version: int | None) -> dict[str, Any]:
    """What changed in ``process_id`` from one version to another, element by element."""
    _require(actor)
    if from_version is None or to_version is None:
        raise BadRequest("请给出 from 与 to 两个版本号", {"from": "必填", "to": "必填"})
    with runtime.db.transaction() as s:
        rows = {}
        for number in (from_version, to_version):
            row = s.execute(select(ProcessVersion).where(ProcessVersion.process_id == process_id,
                                                         ProcessVersion.version == number)).scalar()
            if row is None:
                raise NotFound(f"流程 {process_id} 没有第{number}版")
            rows[number] = row
        old, new = rows[from_version], rows[to_version]
        return {"process_id": process_id,
                "from": {"version": old.version, "deployed_at": old.deployed_at.isoformat(),
                         "deployed_by": old.deployed_by, "checksum": old.checksum},
                "to": {"version": new.version, "deployed_at": new.deployed_at.isoformat(),
                       "deployed_by": new.deployed_by, "checksum": new.checksum},
                **versions.diff_xml(old.xml, new.xml)}


def migration_preview(runtime: Runtime, actor: Actor, case_ids: Any) -> dict[str, Any]:
    """Which of ``case_ids`` would move to the latest versions and which would be refused, and why. Moves nothing
    (the latest versions' spec bundle is created if no case has started on it yet, as the next case's start would)."""
    _require(actor)
    ids = _case_ids(case_ids)
    with runtime.db.transaction() as s:
        return _migration(runtime, s, actor, ids, move=False)


def migrate_cases(runtime: Runtime, actor: Actor, case_ids: Any) -> dict[str, Any]:
    """Move the movable ones of ``case_ids`` to the latest versions (one audit row per case moved); the refused
    ones are reported with the reason and left as they are. Legal deadlines are not touched."""
    _require(actor)
    ids = _case_ids(case_ids)
    with runtime.db.transaction() as s:
        return _migration(runtime, s, actor, ids, move=True)


def _case_ids(case_ids: Any) -> list[int]:
    if not isinstance(case_ids, list) or not case_ids or not all(
            isinstance(i, int) and not isinstance(i, bool) for i in case_ids):
        raise ValidationFailed("请选择要迁移的案件（案件编号列表）", {"cases": "应为非空的整数列表"})
    if len(case_ids) > MAX_CASES:
        raise ValidationFailed(f"一次最多迁移{MAX_CASES}件案件", {"cases": "案件过多"})
    return sorted(set(case_ids))


def _versions(session: Any, bundle_id: int) -> dict[str, int]:
    bundle = session.get(SpecBundle, bundle_id)
    return dict(bundle.versions) if bundle is not None else {}


def _target(runtime: Runtime, bundle: SpecBundle) -> Any:
    """A workflow on ``bundle``'s specs (through the runtime's cache), for its spec and subprocess specs."""
    return new_workflow(runtime.bundle_specs(bundle.id, lambda: bundle.spec_json), CaseScriptEngine({}))


def _migration(runtime: Runtime, s: Any, actor: Actor, ids: list[int], move: bool) -> dict[str, Any]:
    movable: list[dict[str, Any]] = []
    refused: list[dict[str, Any]] = []
    for case_id in ids:
        case = s.get(Case, case_id)
        if case is None:
            refused.append({"case_id": case_id, "reasons": ["案件不存在"]})
            continue
        entry: dict[str, Any] = {"case_id": case.id, "number": case.number, "title": case.title, "instances": []}
        reasons: list[str] = []
        plans = []
        instances = s.execute(select(ProcessInstance).where(ProcessInstance.case_id == case.id)
                              .order_by(ProcessInstance.id)).scalars().all()
        running = [i for i in instances if i.status != "completed"]
        if not running:
            reasons.append(f"案件已结束（{case.status}），没有运行中的流程")
        for inst in running:
            if s.execute(select(Incident.id).where(Incident.instance_id == inst.id,
                                                   Incident.resolved_at.is_(None)).limit(1)).first():
                reasons.append(f"流程 {inst.process_id} 有未处理的流程异常，请先处理")
                continue
            target = bundle_for(s, inst.process_id)
            if target.id == inst.bundle_id:
                continue
            specs = _target(runtime, target)
            run = open_run(runtime, s, inst, actor)
            check = versions.check_migration(run.wf, specs.spec, specs.subprocess_specs)
            info = {"instance_id": inst.id, "process": inst.process_id, "from": _versions(s, inst.bundle_id),
                    "to": dict(target.versions), "ahead": check.ahead}
            entry["instances"].append(info)
            reasons.extend(f"{inst.process_id}：{r}" for r in check.reasons)
            plans.append((inst, run, target, specs, info))
        if not reasons and not plans:
            reasons.append("已是最新版本")
        if reasons:
            refused.append({**entry, "reasons": reasons})
            continue
        if move:
            for inst, run, target, specs, info in plans:
                versions.migrate(run.wf, specs.spec, specs.subprocess_specs)
                inst.bundle_id = target.id
                incident = advance(run, lambda wf: None)
                if incident is not None:  # moved, but the new version fails right away: a supervisor sees it
                    info["incident"] = {"element": incident.element_id, "message": incident.message}
            audit.record(s, who=actor.username, event_name="migrated", case_id=case.id,
                         title="迁移到新版本：" + "；".join(
                             f"{i['process']} 第{i['from'].get(i['process'])}版→第{i['to'].get(i['process'])}版"
                             for i in entry["instances"]),
                         detail={"instances": [{k: i[k] for k in ("instance_id", "process", "from", "to")}
                                               for i in entry["instances"]], "deadlines": "unchanged"})
        movable.append(entry)
    key = "moved" if move else "movable"
    return {key: movable, "refused": refused}
