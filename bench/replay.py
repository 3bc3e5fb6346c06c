"""How fast does a diagram change replay on past cases? Creates N cases of the demo's shapes through the service
functions (a lead left undecided until its period expires, one awaiting approval, one not pursued, one under
investigation, one in consultation with two obligors; every tenth with a court's public-interest-litigation notice),
then times ``model_changes.replay_change`` on them: once with the diagrams unchanged (every case must replay
identically) and once with a user task added after ``screen_lead`` (every case past it diverges). Issue 11 asks
for 1,000 cases in under a minute.

    .venv/bin/python bench/replay.py [--cases 1000] [--database URL]

Without ``--database`` the cases go into a new SQLite file in a temporary folder; with it, an existing database of
this benchmark is reused (its cases are not created again), which makes repeated timings quick.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lxml import etree  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from engine.auth.users import get_actor  # noqa: E402
from engine.common import clock  # noqa: E402
from engine.process import replay  # noqa: E402
from engine.process.deploy import latest  # noqa: E402
from engine.services import cases, demo, messages, model_changes, startup, tasks, timers  # noqa: E402
from engine.store.models import Case  # noqa: E402
from engine.store.runtime import Config, Runtime  # noqa: E402

START = datetime.fromisoformat("2026-03-02T09:00:00+08:00")
BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
SPIFF = "http://spiffworkflow.org/bpmn/schema/1.0/core"


def shapes(today: str) -> list[tuple[str, list[tuple[str, dict[str, Any]]], list[dict[str, Any]]]]:
    """(title, steps, obligors) of the demo's five cases."""
    steps = demo._steps_to_consultation(today)
    one, two = [demo.COMPANY], [demo.COMPANY, demo.PERSON]
    return [("待核查线索", [], one), ("待审批", steps[:2], one),
            ("不予索赔", [("screen_lead", {"screening_result": "no_claim", "screening_reason": "已另案处理"})], one),
            ("调查中", steps[:4], one), ("磋商中", steps, two)]


def create_cases(runtime: Runtime, count: int) -> None:
    officer = get_actor(runtime, "officer1")
    supervisor = get_actor(runtime, "supervisor1")
    actors = {role: get_actor(runtime, user) for role, user in demo.ROLE_USER.items()}
    began = time.perf_counter()
    for n in range(count):
        today = clock.today().isoformat()
        title, steps, obligors = shapes(today)[n % 5]
        lead = {"lead_source": "inspection", "title": f"基准案件{n + 1}（{title}）", "description": "督察发现企业暗管排放含镍废水",
                "location": "福建省福州市马尾区", "found_on": today, "department": "eco_env", "obligors": obligors}
        case_id = cases.register_lead(runtime, officer, lead)["id"]
        for bpmn_id, data in steps:
            item = next(t for t in cases.get_case(runtime, supervisor, case_id)["tasks"] if t["task"] == bpmn_id)
            out = tasks.complete(runtime, actors[item["candidate_role"]], item["id"], data)
            assert out["incident"] is None, out["incident"]
        if n % 10 == 3:  # a claim under investigation: the court accepts a public-interest suit and notifies
            messages.deliver(runtime, officer, case_id, "pil_case_accepted",
                             {"court": "福州市中级人民法院", "case_number": f"（2026）闽01民初{n}号", "accepted_on": today})
            messages.deliver(runtime, officer, case_id, "court_notice_received",
                             {"court": "福州市中级人民法院", "received_on": today})
        if n % 100 == 99:
            # a day passes every hundred cases; every 500 the lead decision periods of the undecided leads expire
            timers.advance_clock(runtime, get_actor(runtime, "admin1"), by="P31D" if n % 500 == 499 else "P1D")
            rate = (n + 1) / (time.perf_counter() - began)
            print(f"  created {n + 1}/{count} cases ({rate:.1f}/s)", file=sys.stderr)


def add_task_after_screening(xml: str) -> str:
    """The change of the replay tests: a user task on the flow leaving ``screen_lead``."""
    root = etree.fromstring(xml.encode("utf-8"))
    flow = next(f for f in root.iter(f"{{{BPMN}}}sequenceFlow") if f.get("sourceRef") == "screen_lead")
    container, target = flow.getparent(), flow.get("targetRef")
    task = etree.SubElement(container, f"{{{BPMN}}}userTask", id="review_screening", name="复核线索核查")
    props = etree.SubElement(etree.SubElement(task, f"{{{BPMN}}}extensionElements"), f"{{{SPIFF}}}properties")
    for key, value in (("role", "division_head"), ("form", "urge_claim_start"), ("stage", "lead")):
        etree.SubElement(props, f"{{{SPIFF}}}property", name=key, value=value)
    etree.SubElement(container, f"{{{BPMN}}}sequenceFlow", id="flow_review_out", sourceRef="review_screening",
                     targetRef=target)
    flow.set("targetRef", "review_screening")
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8").decode("utf-8")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=1000)
    parser.add_argument("--database")
    args = parser.parse_args()
    url = args.database or f"sqlite:///{tempfile.mkdtemp()}/bench.sqlite"
    runtime = Runtime(Config(database_url=url, demo=True, clock_start=START))
    startup.start(runtime)
    demo.load_demo(runtime)
    with runtime.db.transaction() as s:
        existing = s.execute(select(func.count(Case.id))).scalar_one()
        xml = latest(s, "eco_damage_claim").xml
    if existing < args.cases:
        print(f"creating {args.cases - existing} cases on {url.split(':', 1)[0]} …", file=sys.stderr)
        began = time.perf_counter()
        create_cases(runtime, args.cases - existing)
        print(f"  done in {time.perf_counter() - began:.0f} s", file=sys.stderr)
    analyst = get_actor(runtime, "analyst1")
    with runtime.db.transaction() as s:
        case_ids = list(s.execute(select(Case.id).order_by(Case.id)).scalars())
        began = time.perf_counter()
        candidate = replay.candidate(s, {}, runtime.config.bpmn_dir)
        parsed = time.perf_counter() - began
    began = time.perf_counter()
    histories: list[replay.History] = []
    for start in range(0, len(case_ids), model_changes.CHUNK):
        with runtime.db.transaction() as s:
            histories.extend(replay.load_histories(s, case_ids[start:start + model_changes.CHUNK]))
    loaded = time.perf_counter() - began
    steps = sum(len(h.steps) for h in histories)
    print(f"database: {url.split(':', 1)[0]}; cases: {len(histories)}; recorded steps: {steps}")
    began = time.perf_counter()
    results = replay.replay_cases(candidate, histories, clock.now())
    replayed = time.perf_counter() - began
    assert all(r.identical for r in results), [r.as_dict() for r in results if not r.identical][:3]
    print(f"phases: parse the candidate {parsed:.2f} s; read the histories {loaded:.2f} s; "
          f"replay in memory {replayed:.2f} s ({len(results) / replayed:.0f} cases/s)")
    for label, files in (("unchanged diagrams", {"eco_damage_claim": xml}),
                         ("task added after screen_lead", {"eco_damage_claim": add_task_after_screening(xml)})):
        began = time.perf_counter()
        report = model_changes.replay_change(runtime, analyst, files)
        elapsed = time.perf_counter() - began
        summary = report["summary"]
        print(f"{label}: {summary['cases']} cases in {elapsed:.2f} s = {summary['cases'] / elapsed:.0f} cases/s "
              f"(identical {summary['identical']}, diverged {summary['diverged']}, {summary['by_kind']})")


if __name__ == "__main__":
    main()
