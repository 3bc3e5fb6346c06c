"""Does completing a task grow with the number of obligor groups that are not involved? (issue 12, "Scale of one
case": at 50 groups a step may take at most twice what it takes in a one-group case.)

Builds a case with N obligors, each in its own group, through the service functions (``tasks.complete``, what
the API's ``POST /tasks/{id}/complete`` calls, reply included): lead → claim start → investigation, then every
group through consultation (prepare, serve, reply, meeting) to a signed agreement, one phase at a time across all
groups (so the late steps run while every other group has advanced too), and some groups on into performance
(payment, report). Prints, per N, the median and p90 of ``tasks.complete`` per step kind (wall-clock time, and
the process's CPU time, which other load on the machine disturbs less), the median of the per-group steps, and
the whole case's time; then the ratio of each per-group step's median at the largest N to the smallest. A small
case is run again (in the same database) until it has ``--samples`` per-group completions, so its medians are not
one sample's; each size starts with an untimed one-group case in its database (the first use of each statement and
document template).

    .venv/bin/python bench/obligor_groups.py [--groups 1,50] [--performance 0.2] [--samples 40]
                                            [--database URL] [--api] [--profile FILE]

Without ``--database`` each size runs in a new SQLite file in a temporary folder. With ``--database`` (e.g. a
PostgreSQL URL) the schema is created there if missing and the cases are added to it. ``--profile FILE`` writes
a cProfile of the largest N's per-group steps (``python -m pstats FILE``). ``--api`` completes the tasks through
``POST /api/v1/tasks/{id}/complete`` of the Flask app in this process (no network): the JSON encoding of the reply
(the whole case view) is then timed too.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from datetime import datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import select  # noqa: E402

from engine.auth import tokens  # noqa: E402
from engine.auth.users import create_user, ensure_departments, get_actor  # noqa: E402
from engine.common import clock  # noqa: E402
from engine.common.actor import Actor  # noqa: E402
from engine.services import cases, tasks  # noqa: E402
from engine.services.startup import start  # noqa: E402
from engine.store.models import HumanTask, User  # noqa: E402
from engine.store.runtime import Config, Runtime  # noqa: E402
from web import create_app  # noqa: E402

START = datetime.fromisoformat("2026-06-01T09:00:00+08:00")
PEOPLE = [("officer1", ["officer"], "eco_env", "王经办"), ("division1", ["division_head"], "eco_env", "李处长"),
          ("dept1", ["department_head"], "eco_env", "张厅长"), ("supervisor1", ["supervisor"], None, "陈督办"),
          ("admin1", ["admin"], None, "管理员")]
PASSWORD = "bench-password-1"
ROLE_USER = {"officer": "officer1", "division_head": "division1", "department_head": "dept1",
             "supervisor": "supervisor1"}
LEAD = {"lead_source": "inspection", "title": "某工业园区多家企业偷排含镍废水污染闽江支流",
        "description": "省级督察发现园区多家企业通过暗管排放含镍废水", "location": "福建省福州市马尾区",
        "found_on": "2026-05-20", "department": "eco_env"}
#: Steps run once per case (before the groups split); the rest run once per group.
CASE_STEPS = ("screen_lead", "register_claim_start", "approve_claim_start_division",
              "approve_claim_start_department", "conduct_investigation", "conclude_investigation")


def obligors(n: int) -> list[dict[str, Any]]:
    return [{"name": f"福州某化工有限公司第{i}分公司", "kind": "company", "uscc": "91350100M000100Y43",
             "address": f"福建省福州市马尾区某路{i}号", "legal_representative": "林某", "group": i}
            for i in range(1, n + 1)]


class Driver:
    """Completes a case's open tasks by BPMN id (and group), timing each ``tasks.complete``."""

    def __init__(self, runtime: Runtime, n: int, profile: cProfile.Profile | None = None, api: bool = False) -> None:
        self.runtime = runtime
        self.client = create_app(runtime).test_client() if api else None
        self.tokens: dict[str, str] = {}
        self.actors: dict[str, Actor] = {}
        self.times: dict[str, list[float]] = defaultdict(list)
        self.cpu: dict[str, list[float]] = defaultdict(list)
        self.reply_bytes: dict[str, list[int]] = defaultdict(list)
        self.profile = profile
        self.case_id = cases.register_lead(runtime, self.actor("officer"), dict(LEAD, obligors=obligors(n)))["id"]

    def actor(self, role: str) -> Actor:
        if role not in self.actors:
            self.actors[role] = get_actor(self.runtime, ROLE_USER[role])
        return self.actors[role]

    def open_task(self, bpmn_id: str, group: int | None) -> HumanTask:
        with self.runtime.db.transaction() as s:
            query = select(HumanTask).where(HumanTask.case_id == self.case_id, HumanTask.state == "open",
                                            HumanTask.bpmn_id == bpmn_id)
            if group is not None:
                query = query.where(HumanTask.group_no == group)
            row = s.execute(query.limit(1)).scalar()
            if row is None:
                raise SystemExit(f"{bpmn_id} (group {group}) is not open")
            s.expunge(row)
            return row

    def do(self, bpmn_id: str, data: dict[str, Any], group: int | None = None) -> dict[str, Any]:
        row = self.open_task(bpmn_id, group)
        actor = self.actor(row.candidate_role)
        profiling = self.profile is not None and group is not None
        if profiling:
            assert self.profile is not None
            self.profile.enable()
        t0, c0 = time.perf_counter(), time.process_time()
        if self.client is None:
            out = tasks.complete(self.runtime, actor, row.id, data)
        else:
            response = self.client.post(f"/api/v1/tasks/{row.id}/complete", json={"data": data},
                                        headers={"Authorization": f"Bearer {self.token(actor.username)}"})
            body = response.get_data()
            if response.status_code != 200:
                raise SystemExit(f"{bpmn_id}: {response.status_code} {body[:300]!r}")
            out = json.loads(body)
        elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
        if profiling:
            assert self.profile is not None
            self.profile.disable()
        if out["incident"] is not None:
            raise SystemExit(f"{bpmn_id}: incident {out['incident']}")
        self.times[bpmn_id].append(elapsed)
        self.cpu[bpmn_id].append(cpu)
        self.reply_bytes[bpmn_id].append(len(json.dumps(out, ensure_ascii=False, default=str).encode("utf-8")))
        return out

    def token(self, username: str) -> str:
        if username not in self.tokens:
            self.tokens[username] = tokens.issue_token(self.runtime, username, PASSWORD, "127.0.0.1")["token"]
        return self.tokens[username]

    def today(self) -> str:
        return clock.today().isoformat()


def drive(driver: Driver, n: int, performing: int) -> None:
    d = driver
    d.do("screen_lead", {"screening_result": "start_claim", "screening_reason": "损害事实清楚，符合索赔启动情形"})
    d.do("register_claim_start", {"cause": "违法排放含镍废水造成地表水生态环境损害",
                                  "case_summary": "园区企业暗管偷排含镍废水，下游水体镍超标，拟启动索赔。",
                                  "obligors": obligors(n)})
    d.do("approve_claim_start_division", {"approved": True, "opinion": "同意启动索赔"})
    d.do("approve_claim_start_department", {"approved": True, "opinion": "同意"})
    d.do("conduct_investigation", {
        "investigation_methods": ["documents", "site_survey"], "investigators": "王经办、刘某",
        "investigation_started_on": d.today(), "investigation_scope": "排污口下游5公里河段",
        "damage_exists": True, "damage_extent": "下游5公里河段", "damage_degree": "水体镍超标3倍",
        "obligor_identified": True, "damage_facts": "2026年5月园区企业通过暗管排放含镍废水。",
        "evidence": [{"kind": "inspection_record", "title": "现场勘验笔录"}], "needs_assessment": False})
    d.do("conclude_investigation", {"investigation_conclusion": "claim", "legal_basis": "《民法典》第一千二百三十四条",
                                    "handling_suggestion": "建议开展磋商"})
    groups = range(1, n + 1)
    for g in groups:
        d.do("prepare_consultation", {
            "team_claimant": "××省生态环境厅法规处", "invited_units": "福州市人民检察院",
            "meeting_time": "2026年7月10日上午9时", "meeting_place": "省生态环境厅3楼会议室",
            "reply_due_date": "2026-07-08", "complex_case": False, "cause": "违法排放含镍废水",
            "investigation_summary": "经调查，损害事实清楚。", "notice_date": d.today()}, g)
    for g in groups:
        d.do("record_notice_service", {"served_on": d.today(), "service_method": "direct"}, g)
    for g in groups:
        d.do("record_obligor_reply", {"obligor_reply": "accepts", "replied_on": d.today()}, g)
    for g in groups:
        d.do("record_consultation_meeting", {
            "meeting_on": d.today(), "chair": "省生态环境厅", "participants": "双方代表、检察院",
            "minutes": "双方就赔偿方案进行了磋商", "meeting_outcome": "agreed"}, g)
    for g in groups:
        d.do("draft_agreement", {
            "facts": "企业偷排含镍废水", "evidence_summary": "勘验笔录、监测报告", "legal_basis": "《民法典》",
            "liability": "赔偿义务人承担全部赔偿责任", "remedy": "compensation", "compensation_amount": "25000.00",
            "payment_due_on": "2026-12-31", "cost_bearing": "鉴定评估费用由赔偿义务人承担", "signing_place": "福州市",
            "planned_signing_on": d.today(), "agreement_name": f"闽江支流镍污染生态环境损害赔偿协议（第{g}组）",
            "obligations": [{"kind": "payment", "description": "缴纳生态环境损害赔偿金", "amount": "25000.00",
                             "due_on": "2026-12-31", "account": "treasury"}]}, g)
    for g in groups:
        d.do("sign_agreement", {"signed_on": d.today(), "apply_judicial_confirmation": False}, g)
    for g in list(groups)[:performing]:
        d.do("record_compensation_payment", {"paid_amount": "25000.00", "paid_on": d.today(),
                                             "payer": f"福州某化工有限公司第{g}分公司", "account": "treasury",
                                             "receipt_number": f"非税收入票据{g:04d}"}, g)
        d.do("report_performance_to_authorities", {"report_needed": False}, g)


def new_runtime(url: str) -> Runtime:
    runtime = Runtime(Config(database_url=url, demo=True, clock_start=START))
    start(runtime)
    with runtime.db.transaction() as s:
        ensure_departments(s)
        present = set(s.execute(select(User.username)).scalars())
        missing = [p for p in PEOPLE if p[0] not in present]
    for username, roles, dept, name in missing:
        create_user(runtime, username, PASSWORD, roles, dept, name)
    return runtime


def p90(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(0.9 * (len(ordered) - 1))))]


def run_one(n: int, args: argparse.Namespace, profile: cProfile.Profile | None) -> dict[str, Any]:
    performing = max(1, round(n * args.performance))
    times: dict[str, list[float]] = defaultdict(list)
    cpu: dict[str, list[float]] = defaultdict(list)
    reply: dict[str, list[int]] = defaultdict(list)
    totals: list[float] = []
    url = args.database or f"sqlite:///{tempfile.mkdtemp(prefix='eco-groups-bench-')}/bench.sqlite"
    runtime = new_runtime(url)
    drive(Driver(runtime, 1, api=args.api), 1, 1)  # warm-up, not timed: the first use of each statement and template
    while not totals or sum(len(v) for k, v in times.items() if k not in CASE_STEPS) < args.samples:
        t0 = time.perf_counter()
        driver = Driver(runtime, n, profile, api=args.api)
        drive(driver, n, performing)
        totals.append(time.perf_counter() - t0)
        for kind in driver.times:
            times[kind] += driver.times[kind]
            cpu[kind] += driver.cpu[kind]
            reply[kind] += driver.reply_bytes[kind]
    clock.use(clock.Clock())
    runtime.close()
    steps = sum(len(v) for v in times.values()) // len(totals)
    print(f"\n== {n} obligor group(s), {performing} into performance: {steps} completions per case, "
          f"whole case {statistics.median(totals):.1f} s ({url.split('://')[0]}{', API' if args.api else ''}; "
          f"{len(totals)} case(s), median)")
    print(f"{'step':<36} {'count':>5} {'median ms':>10} {'p90 ms':>8} {'max ms':>8} {'cpu ms':>8} {'reply kB':>9}")
    for kind, values in times.items():
        ms = [v * 1000 for v in values]
        print(f"{kind:<36} {len(ms):>5} {statistics.median(ms):>10.1f} {p90(ms):>8.1f} {max(ms):>8.1f} "
              f"{statistics.median(cpu[kind]) * 1000:>8.1f} {statistics.median(reply[kind]) / 1024:>9.1f}")
    per_group = [v * 1000 for k, vs in times.items() if k not in CASE_STEPS for v in vs]
    per_group_cpu = [v * 1000 for k, vs in cpu.items() if k not in CASE_STEPS for v in vs]
    print(f"{'all per-group steps':<36} {len(per_group):>5} {statistics.median(per_group):>10.1f} "
          f"{p90(per_group):>8.1f} {max(per_group):>8.1f} {statistics.median(per_group_cpu):>8.1f}")
    return {"times": times, "cpu": cpu, "totals": totals, "per_group": per_group, "per_group_cpu": per_group_cpu}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--groups", default="1,50", help="comma-separated numbers of obligor groups")
    parser.add_argument("--performance", type=float, default=0.2,
                        help="share of the groups driven on into performance (at least one)")
    parser.add_argument("--samples", type=int, default=40,
                        help="run a size's case again until it has this many per-group completions")
    parser.add_argument("--database", default=None, help="database URL (default: a new SQLite file per size)")
    parser.add_argument("--api", action="store_true", help="complete through the JSON API (reply encoding timed)")
    parser.add_argument("--profile", default=None, help="write a cProfile of the largest N's per-group steps")
    args = parser.parse_args()
    sizes = sorted({int(x) for x in args.groups.split(",") if x.strip()})
    results = {}
    for n in sizes:
        profile = cProfile.Profile() if args.profile and n == sizes[-1] else None
        results[n] = run_one(n, args, profile)
        if profile is not None:
            profile.dump_stats(args.profile)
    if len(sizes) > 1:
        small, large = results[sizes[0]], results[sizes[-1]]
        print(f"\n{sizes[-1]} groups vs {sizes[0]}: median time of each per-group step (limit 2.0×)")
        print(f"  {'step':<36} {'wall':>6} {'cpu':>6}")
        worst = 0.0
        for kind, values in large["times"].items():
            if kind in CASE_STEPS or kind not in small["times"]:
                continue
            ratio = statistics.median(values) / statistics.median(small["times"][kind])
            ratio_cpu = statistics.median(large["cpu"][kind]) / statistics.median(small["cpu"][kind])
            worst = max(worst, ratio)
            print(f"  {kind:<36} {ratio:5.2f}× {ratio_cpu:5.2f}×{'  !' if ratio > 2 else ''}")
        overall = statistics.median(large["per_group"]) / statistics.median(small["per_group"])
        overall_cpu = statistics.median(large["per_group_cpu"]) / statistics.median(small["per_group_cpu"])
        print(f"  {'all per-group steps':<36} {overall:5.2f}× {overall_cpu:5.2f}×;  worst step (wall) {worst:.2f}×")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
