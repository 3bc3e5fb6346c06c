"""API tokens: issue (password check with login throttling), resolve a bearer token to its actor, revoke.

Tokens are random; only their SHA-256 is stored. Expiry follows the engine's clock (the simulated one in demo
and test mode), so moving the simulated clock past it ends a token. Throttling follows the wall clock: it is
about real attempts, not about the simulated time of the cases.

Throttling is per (username, address), so a stranger guessing a name from one address does not lock its owner out
from everywhere else: the first ``FREE_FAILURES`` failures of a pair cost nothing, each further one makes the
pair wait twice as long as the one before (30 s, 1 min, 2 min, … at most 15 min) until it succeeds once or a day
has passed. One address may in addition fail ``ADDRESS_LIMIT`` times in 15 minutes, whatever names it tries.
A refused attempt is not counted and checks no password. The address is the connection's, or — only when that is
a proxy listed in ``ECO_TRUSTED_PROXIES`` — the one the proxy put in ``X-Forwarded-For`` (:func:`client_address`).
"""

from __future__ import annotations

import hashlib
import ipaddress
import logging
import math
import os
import secrets
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from engine.auth.users import actor_of, check_password
from engine.common import clock
from engine.common.actor import Actor
from engine.common.errors import DomainError, Unauthorized, ValidationFailed
from engine.store.models import ApiToken, LoginAttempt, Setting, User
from engine.store.runtime import Runtime

log = logging.getLogger(__name__)

DEFAULT_TTL = timedelta(hours=8)
FREE_FAILURES = 5  # per (username, address)
BACKOFF_BASE = timedelta(seconds=30)
BACKOFF_MAX = timedelta(minutes=15)
MEMORY = timedelta(days=1)  # how long failures count (attempts are deleted after it)
ADDRESS_LIMIT = 20  # failures per address, whatever the username
ADDRESS_WINDOW = timedelta(minutes=15)
TRUSTED_PROXIES_ENV = "ECO_TRUSTED_PROXIES"


class TooManyAttempts(DomainError):
    """Login refused for now (HTTP 429); ``retry_after``: seconds until the next attempt is accepted."""

    code = "too_many_attempts"

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"登录失败次数过多，请{_human(retry_after)}后再试", {"retry_after": str(retry_after)})
        self.retry_after = retry_after


def _human(seconds: int) -> str:
    return f"{seconds}秒" if seconds < 90 else f"{math.ceil(seconds / 60)}分钟"


def wall_now() -> datetime:
    """Real time (tests replace it to age the throttling window)."""
    return datetime.now(UTC)


def digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def issue_token(runtime: Runtime, username: Any, password: Any, address: str,
                ttl: timedelta = DEFAULT_TTL) -> dict[str, Any]:
    """Check the password and hand out a new token, unless this username and address, or this address, have
    failed too often lately (:class:`TooManyAttempts`)."""
    problems = {k: "必填，应为文本" for k, v in (("username", username), ("password", password))
                if not isinstance(v, str) or not v}
    if problems:
        raise ValidationFailed("请填写用户名和密码", problems)
    assert isinstance(username, str) and isinstance(password, str)
    name, address = username[:80], address[:64]
    now = wall_now()
    failed = False
    with runtime.db.transaction() as s:
        # Old attempts and long-dead tokens only take space.
        s.execute(delete(LoginAttempt).where(LoginAttempt.at < now - MEMORY))
        s.execute(delete(ApiToken).where(ApiToken.expires_at < clock.now() - timedelta(days=30)))
        wait = retry_after(s, name, address, now)
        if wait:
            raise TooManyAttempts(wait)
        user = check_password(s, username, password)
        s.add(LoginAttempt(username=name, address=address, at=now, success=user is not None))
        if user is None:
            failed = True
        else:
            token = secrets.token_urlsafe(32)
            issued = clock.now()
            row = ApiToken(token_hash=digest(token), username=user.username, created_at=issued,
                           expires_at=issued + ttl)
            s.add(row)
            actor = actor_of(user)
            result = {"token": token, "expires_at": row.expires_at.isoformat(),
                      "user": {"username": actor.username, "display_name": actor.display_name,
                               "roles": list(actor.roles), "department": actor.department}}
    # Raised after the commit: the failed attempt must be kept for throttling.
    if failed:
        raise Unauthorized("用户名或密码错误")
    return result


def backoff(failures: int) -> timedelta:
    """How long a (username, address) pair waits after its ``failures``-th consecutive failure."""
    if failures < FREE_FAILURES:
        return timedelta(0)
    doublings: int = min(failures - FREE_FAILURES, 20)
    return min(BACKOFF_MAX, BACKOFF_BASE * (1 << doublings))


def retry_after(session: Session, name: str, address: str, now: datetime) -> int:
    """Seconds until ``name`` may try again from ``address`` (0: now)."""
    same_pair = (LoginAttempt.username == name, LoginAttempt.address == address)
    last_ok = session.execute(select(func.max(LoginAttempt.id)).where(
        *same_pair, LoginAttempt.success.is_(True))).scalar()
    pair = session.execute(select(func.count(LoginAttempt.id), func.max(LoginAttempt.at)).where(
        *same_pair, LoginAttempt.success.is_(False), LoginAttempt.at > now - MEMORY,
        LoginAttempt.id > (last_ok or 0))).one()
    until = now
    if pair[0] and pair[1] is not None:
        until = max(until, pair[1] + backoff(int(pair[0])))
    recent = session.execute(select(LoginAttempt.at).where(
        LoginAttempt.address == address, LoginAttempt.success.is_(False), LoginAttempt.at > now - ADDRESS_WINDOW)
        .order_by(LoginAttempt.at.desc()).limit(ADDRESS_LIMIT)).scalars().all()
    if len(recent) >= ADDRESS_LIMIT:
        until = max(until, recent[-1] + ADDRESS_WINDOW)  # when the oldest of them leaves the window
    return math.ceil((until - now).total_seconds())


@lru_cache(maxsize=8)
def _networks(trusted: str) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    out = []
    for entry in (e.strip() for e in trusted.split(",")):
        if not entry:
            continue
        try:
            out.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            log.warning("ECO_TRUSTED_PROXIES: %r is not an address or network; ignored", entry)
    return tuple(out)


def _is_trusted(address: str, networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in net for net in networks)


def client_address(peer: str | None, forwarded_for: str | None, trusted: str | None = None) -> str:
    """The address a login is throttled by. ``peer``: the connection's address; ``forwarded_for``: the
    ``X-Forwarded-For`` header (its lines joined by commas); ``trusted``: comma-separated proxy addresses or
    networks, by default the environment variable ``ECO_TRUSTED_PROXIES`` (unset: no proxy is trusted).

    The header is believed only when the peer is a trusted proxy, and then read from the right: the first address
    that is not itself a trusted proxy is the client's (what stands left of it the client wrote itself)."""
    peer = peer or "unknown"
    networks = _networks(os.environ.get(TRUSTED_PROXIES_ENV, "") if trusted is None else trusted)
    if not forwarded_for or not networks or not _is_trusted(peer, networks):
        return peer
    hops = [h.strip() for h in forwarded_for.split(",") if h.strip()]
    for hop in reversed(hops):
        if not _is_trusted(hop, networks):
            try:
                return ipaddress.ip_address(hop).compressed
            except ValueError:
                return hop[:64]
    return hops[0] if hops else peer


def actor_for_token(runtime: Runtime, token: str) -> Actor:
    """The actor a bearer token stands for; expired, revoked or unknown tokens are refused alike."""
    if not token or len(token) > 200:
        raise Unauthorized("登录凭证无效或已过期，请重新登录")
    with runtime.db.transaction() as s:
        row = s.execute(select(ApiToken).where(ApiToken.token_hash == digest(token))).scalar()
        if row is None or row.revoked_at is not None or row.expires_at <= clock.now():
            raise Unauthorized("登录凭证无效或已过期，请重新登录")
        user = s.execute(select(User).where(User.username == row.username, User.active.is_(True))).scalar()
        if user is None:
            raise Unauthorized("登录凭证无效或已过期，请重新登录")
        return actor_of(user)


def revoke(runtime: Runtime, token: str) -> None:
    with runtime.db.transaction() as s:
        row = s.execute(select(ApiToken).where(ApiToken.token_hash == digest(token))).scalar()
        if row is None or row.revoked_at is not None:
            raise Unauthorized("登录凭证无效或已过期，请重新登录")
        row.revoked_at = clock.now()


def session_secret(runtime: Runtime) -> str:
    """The signing key of browser sessions and CSRF tokens: made once, kept in the database across restarts."""
    with runtime.db.transaction() as s:
        row = s.get(Setting, "session_secret")
        if row is None:
            row = Setting(key="session_secret", value=secrets.token_hex(32))
            s.add(row)
        return str(row.value)
