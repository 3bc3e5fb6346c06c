"""Append-only audit events in one chain that a person with write access to the database cannot rewrite unseen.

**The chain.** Every row carries ``prev_hash`` (the previous row's ``hash``), ``hash`` — SHA-256 over the previous
hash and the row's content — and ``mac``: HMAC-SHA256 of the same content under the *audit key*. Anyone can
recompute a plain SHA-256 after editing a row; the MAC needs the key, and the key is never written to the database.

**Schemes.** Rows written before the ``mac`` column existed (migration 0002) have ``mac`` NULL and are checked as
before, by the plain SHA-256 chain ("unkeyed" rows). Every later row carries a MAC. The first keyed row's MAC
covers its ``prev_hash``, so the unkeyed rows before it cannot be rewritten without breaking that MAC; and once a
keyed row has appeared, a later row without a MAC is a failure (no downgrade).

**The key**, looked up in this order:

1. the environment variable ``ECO_AUDIT_KEY`` (at least 32 characters, e.g. the output of
   ``python -c "import secrets; print(secrets.token_hex(32))"``) — the place for a key held by a secrets manager;
2. the file named by ``ECO_AUDIT_KEY_FILE``;
3. a key file next to the SQLite database (``<database file>.audit-key``), or, for PostgreSQL, ``instance/audit.key``
   in the project folder.

In cases 2 and 3 the file is created at the first audit write (the first start, which deploys the diagrams), with
mode 0600 and 32 random bytes in hex. It is never created when the chain already has keyed rows: a lost key is an
error to fix (restore the file or set ``ECO_AUDIT_KEY``), not a reason to start a second key. Back the key up apart
from the database: whoever holds both can forge the chain.

**Limits.** Deleting the newest rows leaves a shorter chain that still verifies: ``eco-claims verify-audit`` prints
the last row's id and hash, keep them elsewhere to notice. Stripping every MAC and recomputing every hash turns the
whole chain into unkeyed rows: the command prints how many unkeyed rows there are, a number that never grows.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import secrets
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import URL, event, make_url, select, text
from sqlalchemy.orm import Session

from engine.common import clock
from engine.common.errors import Forbidden
from engine.store.models import AuditEvent
from engine.store.runtime import ROOT

log = logging.getLogger(__name__)

GENESIS = "0" * 64
CHAIN_LOCK = 0x6175_6469_745F_6368  # "audit_ch": the advisory-lock key of the chain
KEY_ENV = "ECO_AUDIT_KEY"
KEY_FILE_ENV = "ECO_AUDIT_KEY_FILE"
MIN_KEY_CHARS = 32
INSTANCE_KEY = ROOT / "instance" / "audit.key"
_MAC_DOMAIN = b"eco-claims audit v2\n"  # keeps these MACs from meaning anything elsewhere


class AuditKeyError(RuntimeError):
    """The audit key is missing or unusable: the service must not write unverifiable audit rows."""


# --- the key ---


def key_file(url: str | URL) -> Path:
    """Where the key file of the database at ``url`` is (whether or not it exists)."""
    explicit = os.environ.get(KEY_FILE_ENV)
    if explicit:
        return Path(explicit)
    parsed = make_url(url)
    database = parsed.database or ""
    if parsed.get_backend_name() == "sqlite" and database and database != ":memory:" and not database.startswith(
            "file:"):
        path = Path(database).resolve()
        return path.with_name(path.name + ".audit-key")
    return INSTANCE_KEY


def _checked(key: str, where: str) -> bytes:
    key = key.strip()
    if len(key) < MIN_KEY_CHARS:
        raise AuditKeyError(f"审计密钥过短（{where}）：至少 {MIN_KEY_CHARS} 个字符")
    return key.encode("utf-8")


def read_key_file(path: Path) -> bytes:
    if path.stat().st_mode & 0o077:
        log.warning("audit key file %s is readable by others than its owner (chmod 600 it)", path)
    return _checked(path.read_text(encoding="utf-8"), str(path))


def _create_key_file(path: Path) -> bytes:
    """Write a new random key with mode 0600, atomically: a concurrent first start reads the winner's key."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(secrets.token_hex(32) + "\n")
        os.link(tmp, path)  # fails if another process made the file first
    except FileExistsError:
        pass
    finally:
        tmp.unlink(missing_ok=True)
    return read_key_file(path)


_file_keys: dict[Path, bytes] = {}
_key_lock = threading.Lock()


def load_key(url: str | URL, *, create: bool = False) -> bytes | None:
    """The audit key for the database at ``url``: ``ECO_AUDIT_KEY``, else the key file (made when ``create``);
    None when there is none."""
    env = os.environ.get(KEY_ENV)
    if env:
        return _checked(env, KEY_ENV)
    path = key_file(url)
    with _key_lock:
        known = _file_keys.get(path)
        if known is not None and path.exists():
            return known
        if path.exists():
            key = read_key_file(path)
        elif create:
            key = _create_key_file(path)
        else:
            return None
        _file_keys[path] = key
        return key


def _signing_key(session: Session) -> bytes:
    url = session.get_bind().engine.url
    key = load_key(url)
    if key is not None:
        return key
    if session.execute(select(AuditEvent.id).where(AuditEvent.mac.is_not(None)).limit(1)).first() is not None:
        raise AuditKeyError(f"审计密钥丢失：审计链已有带密钥的记录，但找不到密钥（{KEY_ENV} 或 {key_file(url)}）。"
                            "请恢复密钥文件或设置环境变量后再启动")
    created = load_key(url, create=True)
    assert created is not None
    log.warning("created the audit key file %s: back it up apart from the database", key_file(url))
    return created


# --- writing ---


def _body(prev: str, row: AuditEvent) -> bytes:
    return json.dumps(
        [prev, row.case_id, row.at.isoformat(), row.who, row.event, row.task, row.title, row.detail],
        ensure_ascii=False, sort_keys=True, default=str).encode("utf-8")


def _digest(prev: str, row: AuditEvent) -> str:
    return hashlib.sha256(_body(prev, row)).hexdigest()


def _mac(key: bytes, prev: str, row: AuditEvent) -> str:
    return hmac.new(key, _MAC_DOMAIN + _body(prev, row), hashlib.sha256).hexdigest()


def record(session: Session, *, who: str, event_name: str, case_id: int | None, title: str,
           task: str | None = None, detail: dict[str, Any] | None = None, at: datetime | None = None) -> AuditEvent:
    """Append one event. The chain is global, so appenders take turns: on PostgreSQL a transaction-scoped advisory
    lock (held to commit), on SQLite the write lock every transaction already takes (BEGIN IMMEDIATE)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": CHAIN_LOCK})
    key = _signing_key(session)
    last = session.execute(select(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)).scalar()
    # UTC: the digest is taken of what the database gives back, and SQLite gives back UTC.
    row = AuditEvent(case_id=case_id, at=(at or clock.now()).astimezone(UTC), who=who, event=event_name, task=task,
                     title=title, detail=detail or {}, prev_hash=last or GENESIS)
    row.hash = _digest(row.prev_hash, row)
    row.mac = _mac(key, row.prev_hash, row)
    session.add(row)
    session.flush()
    return row


def changed_fields(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """Before/after of every top-level field that changed."""
    out: dict[str, Any] = {}
    for key in sorted(set(before) | set(after)):
        if before.get(key) != after.get(key):
            out[key] = {"before": before.get(key), "after": after.get(key)}
    return out


# --- checking ---

#: What failed: the hash chain (a row's hash or its link to the previous row), or the keyed MAC.
CHAIN, MAC = "chain", "mac"


@dataclass(frozen=True)
class Problem:
    id: int
    at: datetime
    event: str
    kind: str  # CHAIN or MAC
    reason: str  # for a person, in Chinese


@dataclass
class Report:
    rows: int = 0
    unkeyed: int = 0  # rows from before the keyed scheme (plain SHA-256 only)
    unchecked: int = 0  # keyed rows whose MAC could not be checked (no key given)
    problems: list[Problem] = field(default_factory=list)
    last_id: int | None = None
    last_hash: str = GENESIS

    @property
    def ok(self) -> bool:
        return not self.problems


_USE_STORED_KEY: Any = object()


def check(session: Session, key: bytes | None = _USE_STORED_KEY) -> Report:
    """Walk the whole chain. ``key``: the audit key to check MACs with; by default the database's own (never
    created here); None checks the hash chain only and counts the MACs it could not check."""
    if key is _USE_STORED_KEY:
        key = load_key(session.get_bind().engine.url)
    report = Report()
    prev = GENESIS
    keyed_seen = False
    for row in _rows(session):
        report.rows += 1
        if row.prev_hash != prev:
            report.problems.append(Problem(row.id, row.at, row.event, CHAIN,
                                           "与前一条记录的链接断开（记录被删除、插入或前一条被改过）"))
        elif row.hash != _digest(row.prev_hash, row):
            report.problems.append(Problem(row.id, row.at, row.event, CHAIN, "哈希不符：记录内容被改过"))
        elif row.mac is None:
            if keyed_seen:
                report.problems.append(Problem(row.id, row.at, row.event, MAC,
                                               "缺少密钥校验码：带密钥的记录之后不应再有不带密钥的记录"))
            else:
                report.unkeyed += 1
        elif key is None:
            report.unchecked += 1
        elif not hmac.compare_digest(row.mac, _mac(key, row.prev_hash, row)):
            report.problems.append(Problem(row.id, row.at, row.event, MAC,
                                           "密钥校验码（MAC）不符：记录被改过并重算了哈希，或密钥不对"))
        keyed_seen = keyed_seen or row.mac is not None
        prev = row.hash
        report.last_id, report.last_hash = row.id, row.hash
    return report


def _rows(session: Session, batch: int = 1000) -> Iterator[AuditEvent]:
    after = 0
    while True:
        rows = session.execute(select(AuditEvent).where(AuditEvent.id > after).order_by(AuditEvent.id)
                               .limit(batch)).scalars().all()
        yield from rows
        if len(rows) < batch:
            return
        after = rows[-1].id


def verify(session: Session) -> list[int]:
    """Ids of the audit rows that fail (empty when the chain is intact), checked with the database's key."""
    return [p.id for p in check(session).problems]


@event.listens_for(Session, "before_flush")
def _refuse_changes(session: Session, _ctx: Any, _instances: Any) -> None:
    for obj in list(session.dirty) + list(session.deleted):
        if isinstance(obj, AuditEvent) and (obj in session.deleted or session.is_modified(obj)):
            raise Forbidden("审计记录只能追加，不能修改或删除")
