"""The ``eco-claims`` command: serve, users and departments, the simulated clock, audit verification."""

from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path

from . import audit
from .errors import DomainError
from .runtime import SYSTEM, Config, Engine

DEFAULT_DB = Path("instance") / "eco-claims.sqlite"


def _engine(args: argparse.Namespace) -> Engine:
    url = args.database or f"sqlite:///{DEFAULT_DB.resolve()}"
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    engine = Engine(Config(database_url=url, demo=getattr(args, "demo", False)))
    engine.start()
    return engine


def cmd_serve(args: argparse.Namespace) -> int:
    from web import create_app

    engine = _engine(args)
    if args.demo:
        from .demo import load_demo

        if load_demo(engine):
            print("已创建演示用户（密码 demo）和演示案件")
    from .screening import ensure_screening
    from .timers import start_timer_loop

    ensure_screening(engine)
    start_timer_loop(engine)
    app = create_app(engine)
    print(f"eco-claims 服务：http://{args.host}:{args.port}/healthz")
    app.run(host=args.host, port=args.port, threaded=True)
    return 0


def cmd_user(args: argparse.Namespace) -> int:
    from .users import create_user

    engine = _engine(args)
    password = args.password or (None if args.no_password else getpass.getpass("密码："))
    actor = create_user(engine, args.username, password, args.roles.split(","), args.department, args.name or "")
    print(f"用户 {actor.username}：{','.join(actor.roles)} {actor.department or ''}")
    return 0


def cmd_department(args: argparse.Namespace) -> int:
    from .users import upsert_department

    engine = _engine(args)
    upsert_department(engine, args.id, args.name, args.full_name or "", args.prefix or "")
    print(f"部门 {args.id}：{args.name}")
    return 0


def cmd_clock(args: argparse.Namespace) -> int:
    from .timers import advance_clock

    args.demo = True
    engine = _engine(args)
    print(advance_clock(engine, SYSTEM, by=args.advance, to=args.set)["now"])
    return 0


def cmd_verify_audit(args: argparse.Namespace) -> int:
    engine = _engine(args)
    with engine.db.transaction() as s:
        bad = audit.verify(s)
    if bad:
        print("审计链校验失败，被改动的记录：" + ", ".join(map(str, bad)))
        return 1
    print("审计链完整")
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
    serve.set_defaults(func=cmd_serve)
    user = sub.add_parser("user", help="创建或更新用户")
    user.add_argument("username")
    user.add_argument("--roles", required=True, help="逗号分隔：officer,division_head,department_head,supervisor,analyst,admin")
    user.add_argument("--department")
    user.add_argument("--name")
    user.add_argument("--password")
    user.add_argument("--no-password", action="store_true")
    user.set_defaults(func=cmd_user)
    dept = sub.add_parser("department", help="创建或更新部门")
    dept.add_argument("id")
    dept.add_argument("name")
    dept.add_argument("--full-name")
    dept.add_argument("--prefix", help="案件编号前缀")
    dept.set_defaults(func=cmd_department)
    clk = sub.add_parser("clock", help="拨动模拟时钟（仅演示/测试数据库）")
    group = clk.add_mutually_exclusive_group(required=True)
    group.add_argument("--advance", help="如 P91D")
    group.add_argument("--set", help="如 2027-03-01T09:00:00+08:00")
    clk.set_defaults(func=cmd_clock)
    ver = sub.add_parser("verify-audit", help="校验审计链")
    ver.set_defaults(func=cmd_verify_audit)
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except DomainError as exc:
        print(f"错误：{exc.message} {exc.fields or ''}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
