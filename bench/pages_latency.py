"""Server time per page with the demo data (issue 10: no page slower than 300 ms). Builds a fresh demo database,
signs in as each demo person through the login page's own token function, and requests every page N times through
the WSGI app in this process (no network: what is timed is the server's work — services, SQL, templates).

    .venv/bin/python bench/pages_latency.py [--repeat 20] [--database URL] [--extra-leads 0]

Prints median and worst milliseconds per page and person; a page over the budget is marked "!".
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.auth import tokens  # noqa: E402
from engine.auth.users import get_actor  # noqa: E402
from engine.services import cases  # noqa: E402
from engine.services.demo import load_demo  # noqa: E402
from engine.services.startup import start  # noqa: E402
from engine.store.runtime import Config, Runtime  # noqa: E402
from web import create_app  # noqa: E402

BUDGET_MS = 300
PAGES = ["/inbox", "/inbox?view=done", "/leads/new", "/ledger", "/ledger?q=镍", "/ledger/export.xlsx", "/dashboard",
         "/notifications", "/cases/{lead}", "/cases/{consulting}", "/cases/{consulting}/diagram.json",
         "/tasks/{task}"]
PEOPLE = ["officer1", "supervisor1", "officer2"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--database", default=None)
    parser.add_argument("--extra-leads", type=int, default=0, help="register this many more leads first")
    args = parser.parse_args()
    folder = tempfile.mkdtemp(prefix="eco-pages-bench-")
    url = args.database or f"sqlite:///{folder}/bench.sqlite"
    runtime = Runtime(Config(database_url=url, demo=True))
    start(runtime)
    load_demo(runtime)
    officer = get_actor(runtime, "officer1")
    for i in range(args.extra_leads):
        cases.register_lead(runtime, officer, {"lead_source": "petition", "title": f"基准测试线索{i}",
                                               "description": "群众举报", "location": "福州市", "found_on": "2026-01-05",
                                               "department": "eco_env"})
    ledger = cases.ledger(runtime, get_actor(runtime, "supervisor1"), per_page=200)["items"]
    by_title = {c["title"]: c["id"] for c in ledger}
    lead = next(v for k, v in by_title.items() if "待核查" in k)
    consulting = next(v for k, v in by_title.items() if "磋商中" in k)
    task = cases.get_case(runtime, officer, consulting)["tasks"][0]["id"]
    app = create_app(runtime)
    print(f"{len(ledger)} cases; {args.repeat} requests per page; budget {BUDGET_MS} ms")
    print(f"{'person':<12} {'page':<34} {'status':>6} {'median ms':>10} {'worst ms':>9}")
    worst_all = 0.0
    for username in PEOPLE:
        client = app.test_client()
        token = tokens.issue_token(runtime, username, "demo", "127.0.0.1")["token"]
        with client.session_transaction() as session:
            session["token"] = token
        for template in PAGES:
            path = template.format(lead=lead, consulting=consulting, task=task)
            times = []
            status = 0
            for _ in range(args.repeat):
                t0 = time.perf_counter()
                response = client.get(path)
                response.get_data()
                times.append((time.perf_counter() - t0) * 1000)
                status = response.status_code
            median, worst = statistics.median(times), max(times[1:] or times)  # the first request compiles templates
            worst_all = max(worst_all, median)
            flag = " !" if median > BUDGET_MS else ""
            print(f"{username:<12} {path:<34} {status:>6} {median:>10.1f} {worst:>9.1f}{flag}")
    print(f"slowest median: {worst_all:.1f} ms")
    runtime.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
