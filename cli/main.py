"""The ``eco-claims`` command: serve, users and departments, the simulated clock, audit verification,
document template checks."""

from __future__ import annotations

import argparse
import getpass
import json
import signal
import sys
import threading
from pathlib import Path

from sqlalchemy import create_engine
from sqlalchemy.orm import Session
from waitress import serve

from engine.auth.users import create_user, save_user, upsert_department
from engine.calendar.holidays import year_table
from engine.common import clock
from engine.common.actor import Actor
from engine.common.errors import DomainError
from engine.documents import checks
from engine.documents.render import FORMS, TEMPLATE_DIR
from engine.process.deploy import deploy_directory, directory_texts, latest
from engine.scheduler.service import SchedulerService
from engine.services import incidents
from engine.services.clock_admin import audited_advance
from engine.services.holiday_admin import put_year_csv
from engine.services.screening import ensure_screening
from engine.services.settings import put_setting
from engine.services.startup import is_demo_database, start
from engine.store import audit, schema
from engine.store.db import Database
from engine.store.runtime import Config, Runtime
from web import create_app

DEFAULT_DB = Path("instance") / "eco-claims.sqlite"


def _database_url(args: argparse.Namespace) -> str:
    url = str(args.database or f"sqlite:///{DEFAULT_DB.resolve()}")
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    return url


def _runtime(args: argparse.Namespace) -> Runtime:
    """The runtime for a command. ``serve`` and ``scheduler`` say which mode they run in (``--demo``); the
    administrative commands work on the database as it was first started, demo or real."""
    url = _database_url(args)
    demo = bool(getattr(args, "demo", False))
    if args.command not in ("serve", "scheduler"):
        probe = Runtime(Config(database_url=url))
        demo = demo or is_demo_database(probe)
        probe.close()
    runtime = Runtime(Config(database_url=url, demo=demo))
    for warning in start(runtime):
        print(f"注意：{warning}", file=sys.stderr)
    return runtime


def cmd_db(args: argparse.Namespace) -> int:
    """``db status``: the schema revision; ``db upgrade``: migrate to the latest (back up first)."""
    db = Database(_database_url(args))
    try:
        if args.db_command == "upgrade":
            before, after = schema.upgrade(db)
            print(f"数据库结构：{before or '空库'} → {after}")
        else:
            revision, latest = schema.current(db), schema.head()
            state = "最新" if revision == latest else ("空库" if revision is None else "需要升级")
            print(f"数据库结构：{revision or '空库'}；程序需要：{latest}（{state}）")
            return 0 if revision == latest else 1
    finally:
        db.dispose()
    return 0


def cmd_deploy(args: argparse.Namespace) -> int:
    """Deploy the diagram files of bpmn/ as new versions where they differ from the deployed ones."""
    runtime = _runtime(args)
    with runtime.db.transaction() as s:
        before = {pid: v.version for pid in directory_texts(runtime.config.bpmn_dir)
                  if (v := latest(s, pid)) is not None}
    for version in deploy_directory(runtime, deployed_by=args.by):
        state = "未变" if before.get(version.process_id) == version.version else "已部署"
        print(f"{version.process_id} 第{version.version}版：{state}")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    runtime = _runtime(args)
    if args.demo:
        from engine.services.demo import load_demo

        if load_demo(runtime):
            print("已创建演示用户（密码 demo）和演示案件")

    ensure_screening(runtime)
    service: SchedulerService | None = None
    if not args.no_scheduler:
        # Every serve process competes for the one scheduler lock; only the holder runs jobs.
        service = SchedulerService(runtime)
        service.start()
    runtime.scheduler = service
    app = create_app(runtime)
    print(f"eco-claims 服务：http://{args.host}:{args.port}/healthz", flush=True)
    # waitress: a production WSGI server in pure Python (threads), so `serve` is what a department runs.

    serve(app, host=args.host, port=args.port, threads=args.threads, ident="eco-claims")
    return 0


def cmd_scheduler(args: argparse.Namespace) -> int:
    """Run only the scheduler (for deployments whose web workers run with --no-scheduler)."""

    runtime = _runtime(args)
    service = SchedulerService(runtime)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    service.start()
    print("eco-claims 调度进程已启动（持有锁时运行，否则待命）", flush=True)
    stop.wait()
    service.stop()
    return 0


def cmd_holidays(args: argparse.Namespace) -> int:
    runtime = _runtime(args)
    if args.csv:
        count = put_year_csv(runtime, _cli_actor(), args.year, Path(args.csv).read_text(encoding="utf-8-sig"))
        print(f"{args.year} 年节假日表已替换：{count} 天")
        return 0
    with runtime.db.transaction() as s:
        table = year_table(s, args.year)
    print(f"{table['year']} 年（来源：{table['source']}）")
    for day in table["days"]:
        print(f"{day['date']} {'放假' if day['kind'] == 'holiday' else '调休上班'} {day['name']}")
    return 0


def cmd_setting(args: argparse.Namespace) -> int:

    runtime = _runtime(args)
    try:
        value = json.loads(args.value)
    except json.JSONDecodeError:
        value = args.value
    put_setting(runtime, args.key, value, actor=_cli_actor())
    print(f"{args.key} = {json.dumps(value, ensure_ascii=False)}")
    return 0


def _cli_actor(*roles: str) -> Actor:
    """Who the audit names for a change made with the command line: the operating-system user (who can reach the
    server and its database, hence ``roles`` where a use case asks for one)."""
    try:
        name = getpass.getuser()
    except (KeyError, OSError):
        name = "unknown"
    return Actor(f"cli:{name}"[:80], "命令行", roles)


def cmd_user(args: argparse.Namespace) -> int:
    runtime = _runtime(args)
    if args.deactivate or args.activate:
        # Deactivating revokes the user's tokens at once.
        view, _ = save_user(runtime, _cli_actor(), args.username, {"active": bool(args.activate)}, must_exist=True)
        print(f"用户 {view['username']}：{'已启用' if view['active'] else '已停用（其令牌已注销）'}")
        return 0
    if not args.roles:
        print("错误：新建或修改用户须给出 --roles（只停用、启用时除外）", file=sys.stderr)
        return 2
    password = args.password or (None if args.no_password else getpass.getpass("密码："))
    actor = create_user(runtime, args.username, password, args.roles.split(","), args.department, args.name or "",
                        actor=_cli_actor())
    print(f"用户 {actor.username}：{','.join(actor.roles)} {actor.department or ''}")
    return 0


def cmd_department(args: argparse.Namespace) -> int:
    runtime = _runtime(args)
    upsert_department(runtime, args.id, args.name, args.full_name or "", args.prefix or "", actor=_cli_actor(),
                      uscc=args.uscc or "", legal_representative=args.legal_representative or "",
                      address=args.address or "", contact=args.contact or "")
    print(f"部门 {args.id}：{args.name}")
    return 0


def cmd_clock(args: argparse.Namespace) -> int:
    if not is_demo_database(probe := Runtime(Config(database_url=_database_url(args)))):
        probe.close()
        print("错误：只有演示/测试数据库的模拟时钟可以拨动", file=sys.stderr)
        return 2
    probe.close()
    runtime = _runtime(args)
    print(audited_advance(runtime, _cli_actor("admin"), by=args.advance, to=args.set)["now"])
    return 0


def cmd_incident(args: argparse.Namespace) -> int:
    """Open incidents, and the supervisor's repairs: correct process data, retry, return to a task (all audited)."""
    runtime = _runtime(args)
    actor = _cli_actor("admin")
    if args.incident_command == "list":
        items = incidents.open_incidents(runtime, actor, args.case)
        for item in items:
            print(f"#{item['id']} 案件 {item['case_id']} 环节 {item['element']}（{item['created_at']}）：{item['message']}")
        print(f"共 {len(items)} 个未处理的流程异常")
        return 0
    if args.incident_command == "retry":
        result = incidents.retry(runtime, actor, args.id)
        print("已恢复" if result["resolved"] else f"仍失败：{result['incident']['message']}")
        return 0 if result["resolved"] else 1
    if args.incident_command == "fix":
        changes = {}
        for item in args.set:
            name, sep, raw = item.partition("=")
            if not sep:
                print(f"错误：--set 应为 名称=值（值可为 JSON）：{item}", file=sys.stderr)
                return 2
            try:
                changes[name] = json.loads(raw)
            except json.JSONDecodeError:
                changes[name] = raw
        fixed = incidents.correct_data(runtime, actor, args.id, changes, args.reason)
        print(f"已更正：{json.dumps(fixed['before'], ensure_ascii=False)} → {json.dumps(fixed['after'], ensure_ascii=False)}"
              "（再运行 incident retry 继续流程）")
        return 0
    back = incidents.return_to_task(runtime, actor, args.id, args.task, args.reason)
    print(f"已退回到任务 {back['element']}（{back['task']}）")
    return 0


def cmd_verify_audit(args: argparse.Namespace) -> int:
    """Check the whole chain: each row's hash and link, and its MAC with the audit key (ECO_AUDIT_KEY, the key file
    of the database, or --key-file). Reads only, in a snapshot that does not hold the write lock."""
    url = _database_url(args)
    db = Database(url)
    try:
        revision = schema.current(db)
        if revision != schema.head():
            print(f"数据库结构版本为 {revision or '空库'}，需要 {schema.head()}：请先运行 eco-claims db upgrade",
                  file=sys.stderr)
            return 1
    finally:
        db.dispose()
    try:
        key = audit.read_key_file(Path(args.key_file)) if args.key_file else audit.load_key(url)
    except (OSError, audit.AuditKeyError) as exc:
        print(f"错误：无法读取审计密钥：{exc}", file=sys.stderr)
        return 1
    reader = create_engine(url)
    try:
        with Session(reader) as s:
            report = audit.check(s, key)
    finally:
        reader.dispose()
    keyed = report.rows - report.unkeyed
    print(f"审计链共 {report.rows} 条记录：{keyed} 条带密钥校验码（MAC），{report.unkeyed} 条为启用密钥前的记录"
          f"（只以 SHA-256 链接校验）")
    if report.last_id is not None:
        print(f"最后一条：#{report.last_id}，哈希 {report.last_hash}（另行保存，可发现末尾记录被删除）")
    if report.unchecked:
        print(f"未找到审计密钥（{audit.KEY_ENV} 或 {audit.key_file(url)}，或用 --key-file 指定）："
              f"{report.unchecked} 条记录的 MAC 无法校验")
    if report.problems:
        first = report.problems[0]
        print(f"审计链校验失败：{len(report.problems)} 条记录未通过。")
        for problem in report.problems[:20]:
            what = "MAC 校验失败" if problem.kind == audit.MAC else "哈希链校验失败"
            print(f"  记录 #{problem.id}（{problem.at.astimezone(clock.LOCAL_TZ).isoformat()}，事件 {problem.event}）："
                  f"{what}——{problem.reason}")
        if len(report.problems) > 20:
            print(f"  ……另有 {len(report.problems) - 20} 条")
        if all(p.kind == audit.MAC for p in report.problems) and len(report.problems) == keyed:
            print("所有带密钥的记录都未通过：很可能用错了密钥（也可能从第一条起都被改过）。")
        else:
            print(f"第一处问题在记录 #{first.id}：它（或它之前被删除的记录）被改动过。")
        return 1
    if report.unchecked:
        return 1
    print("审计链完整")
    return 0


def cmd_templates_check(args: argparse.Namespace) -> int:
    """Check the document templates (or one FILE) against the context contract; 1 when there are problems."""
    folder = Path(args.dir) if args.dir else TEMPLATE_DIR
    if args.file:
        form = args.form or checks.form_of_filename(Path(args.file))
        if form is None:
            print("错误：请用 --form 指明模板对应的文书编号（1–7）", file=sys.stderr)
            return 2
        reports = [checks.check_file(Path(args.file), form)]
    elif args.form:
        reports = [checks.check_file(folder / FORMS[args.form].filename, args.form)]
    else:
        reports = checks.check_dir(folder)
    for report in reports:
        print("\n".join(checks.format_report(report, verbose=not args.quiet)))
    bad = sum(not r.ok for r in reports)
    print(f"共检查 {len(reports)} 个模板，{bad} 个有问题" if bad else f"共检查 {len(reports)} 个模板，全部通过")
    return 1 if bad else 0


def cmd_templates_variables(args: argparse.Namespace) -> int:
    """Each form's contract: the keys a template may use, whether it uses them, whether a case provides them."""
    folder = Path(args.dir) if args.dir else TEMPLATE_DIR
    for i, form in enumerate([args.form] if args.form else sorted(FORMS)):
        if i:
            print()
        print("\n".join(checks.format_contract(form, folder)))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="eco-claims", description="生态环境损害赔偿索赔案件系统")
    parser.add_argument("--database", help="数据库 URL（默认 instance/ 下的 SQLite 文件）")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="运行网页服务和调度")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=5000)
    serve.add_argument("--database", dest="database", default=argparse.SUPPRESS)
    serve.add_argument("--demo", action="store_true", help="演示模式：模拟时钟和演示数据")
    serve.add_argument("--threads", type=int, default=8, help="处理请求的线程数")
    serve.add_argument("--no-scheduler", action="store_true", help="本进程不参与调度（另行运行 eco-claims scheduler）")
    serve.set_defaults(func=cmd_serve)
    sched = sub.add_parser("scheduler", help="只运行调度进程（多进程或多主机时各自待命，仅一个运行）")
    sched.add_argument("--database", dest="database", default=argparse.SUPPRESS)
    sched.add_argument("--demo", action="store_true", help="演示/测试数据库（模拟时钟）")
    sched.set_defaults(func=cmd_scheduler)
    st = sub.add_parser("setting", help="修改设置：reminder_days（JSON）或 case_number_format")
    st.add_argument("key", choices=["reminder_days", "case_number_format"])
    st.add_argument("value")
    st.set_defaults(func=cmd_setting)
    hol = sub.add_parser("holidays", help="查看或导入某年的节假日表")
    hol.add_argument("year", type=int)
    hol.add_argument("--csv", help="CSV 文件：日期,类型(holiday/workday),名称")
    hol.set_defaults(func=cmd_holidays)
    user = sub.add_parser("user", help="创建或更新用户；--deactivate 停用（注销其令牌）")
    user.add_argument("username")
    user.add_argument("--roles", help="逗号分隔：officer,division_head,department_head,supervisor,analyst,admin")
    user.add_argument("--department")
    user.add_argument("--name")
    user.add_argument("--password")
    user.add_argument("--no-password", action="store_true")
    active = user.add_mutually_exclusive_group()
    active.add_argument("--deactivate", action="store_true", help="停用该用户并注销其全部令牌")
    active.add_argument("--activate", action="store_true", help="重新启用该用户")
    user.set_defaults(func=cmd_user)
    dept = sub.add_parser("department", help="创建或更新部门")
    dept.add_argument("id")
    dept.add_argument("name")
    dept.add_argument("--full-name")
    dept.add_argument("--prefix", help="案件编号前缀")
    dept.add_argument("--uscc", help="统一社会信用代码")
    dept.add_argument("--legal-representative", help="法定代表人")
    dept.add_argument("--address")
    dept.add_argument("--contact", help="联系方式")
    dept.set_defaults(func=cmd_department)
    clk = sub.add_parser("clock", help="拨动模拟时钟（仅演示/测试数据库）")
    group = clk.add_mutually_exclusive_group(required=True)
    group.add_argument("--advance", help="如 P91D")
    group.add_argument("--set", help="如 2027-03-01T09:00:00+08:00")
    clk.set_defaults(func=cmd_clock)
    dbp = sub.add_parser("db", help="数据库结构：status 查看版本，upgrade 升级（先备份）")
    dbp.add_argument("db_command", choices=["status", "upgrade"])
    dbp.set_defaults(func=cmd_db)
    dep = sub.add_parser("deploy", help="把 bpmn/ 中与已部署版本不同的流程图部署为新版本")
    dep.add_argument("--by", default="system", help="部署人（记入审计）")
    dep.set_defaults(func=cmd_deploy)
    inc = sub.add_parser("incident", help="流程异常：list 查看，fix 更正流程数据，retry 重试，return 退回任务（记入审计）")
    inc_sub = inc.add_subparsers(dest="incident_command", required=True)
    inc_list = inc_sub.add_parser("list", help="未处理的流程异常")
    inc_list.add_argument("--case", type=int, help="只看某案件")
    inc_fix = inc_sub.add_parser("fix", help="更正出错流程实例的流程数据（之后 retry）")
    inc_fix.add_argument("id", type=int)
    inc_fix.add_argument("--set", action="append", required=True, metavar="名称=值", help="如 notice_date=2026-07-01")
    inc_fix.add_argument("--reason", required=True, help="更正原因")
    inc_retry = inc_sub.add_parser("retry", help="重试")
    inc_retry.add_argument("id", type=int)
    inc_ret = inc_sub.add_parser("return", help="退回到出错输入所在的任务")
    inc_ret.add_argument("id", type=int)
    inc_ret.add_argument("--task", help="退回到的用户任务（默认出错环节之前的任务）")
    inc_ret.add_argument("--reason", required=True, help="退回原因")
    inc.set_defaults(func=cmd_incident)
    ver = sub.add_parser("verify-audit", help="校验审计链（哈希链与密钥校验码），指出第一条被改动的记录")
    ver.add_argument("--key-file", help="审计密钥文件（默认：环境变量 ECO_AUDIT_KEY，或数据库旁的密钥文件）")
    ver.set_defaults(func=cmd_verify_audit)
    tpl = sub.add_parser("templates", help="文书模板：检查变量与数据约定")
    tpl_sub = tpl.add_subparsers(dest="templates_command", required=True)
    tpl_check = tpl_sub.add_parser("check", help="检查模板（默认 document_templates/ 中的七个），有问题时退出码为 1")
    tpl_check.add_argument("file", nargs="?", help="要检查的 .docx 模板（如上传的替换模板）")
    tpl_check.add_argument("--form", type=int, choices=range(1, 8), metavar="N", help="文书编号 1–7")
    tpl_check.add_argument("--dir", help="模板目录（默认 document_templates/）")
    tpl_check.add_argument("--quiet", "-q", action="store_true", help="只列出结论和问题")
    tpl_check.set_defaults(func=cmd_templates_check)
    tpl_vars = tpl_sub.add_parser("variables", help="列出每种文书可用的变量、模板是否使用、案件数据是否提供")
    tpl_vars.add_argument("--form", type=int, choices=range(1, 8), metavar="N", help="文书编号 1–7")
    tpl_vars.add_argument("--dir", help="模板目录（默认 document_templates/）")
    tpl_vars.set_defaults(func=cmd_templates_variables)
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except DomainError as exc:
        print(f"错误：{exc.message} {exc.fields or ''}", file=sys.stderr)
        return 2
    except audit.AuditKeyError as exc:  # a lost or unusable audit key: nothing may be written until it is fixed
        print(f"错误：{exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
